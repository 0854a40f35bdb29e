"""The linkage model: Splink's comparisons and blocking rules, declared once, rendered
for an engine's dialect, trained and applied on DuckDB or (resolve/spark_run.py) Spark.

On DuckDB, Splink runs in its own in-memory connection over the records handed to it, so
its working tables (``__splink__…``) never land in the warehouse file. Splink is imported
here only, when a run starts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import pyarrow as pa

from sentinelle.resolve.clusters import cluster_tables
from sentinelle.warehouse.dialect import DUCKDB, Dialect

# Fields compared, in the order of the er_pairs explanation columns.
FIELDS = ("name", "birth_date", "phone", "email", "account", "country", "counterparties",
          "kinds")

# Pairs are generated only where one of these agrees. Each is a strong, rare key or a name
# narrowed by a second field, so that the pair count grows with the records, not with their
# square (tests/resolve/test_linkage.py holds it under a bound).
BLOCKING: tuple[tuple[str, ...], ...] = (
    ("phone",),
    ("email",),
    ("account",),
    ("name_key", "birth_year"),       # same words in any order, same year of birth
    ("name_key", "country"),          # a referral often lacks a birth date: with one only
    ("name_key", "counterparties"),   # a sender registered twice, paying the same payee
    ("surname", "birth_date"),        # a typo in the given name
    ("given", "birth_date"),          # a typo in the surname
    ("near",),                        # a referral's name one slip from a record's (records.py)
    ("birth_date", "country"),        # two tips, each name mistyped or cut to an initial
)
# Rules that pair a referral with any record, never two payment records: one common
# name in one country gathers hundreds of payment records (702 at a million records: 22.9
# million pairs, against 0.3 million for every other rule together). Two payment records
# of one person with nothing else in common are a sender registered twice without a
# birth date, and share a payee (the rule after it: 11 thousand pairs at a million).
WITH_A_REFERRAL = {("name_key", "country")}
# Rules that pair two referrals only: one man's tips from two agencies may share nothing
# but a birth date ("castaneda m" and "casaneda maricris", born the same day); among
# payment records a birth date and a country gather hundreds of strangers.
BETWEEN_REFERRALS = {("birth_date", "country")}
# List columns: two records are paired where any one element agrees.
LISTS = ("counterparties", "near")

# Rules that are (nearly) only ever true of the same person, for the prior: how many
# random pairs match. Recall is what share of true pairs we believe they catch.
DETERMINISTIC = (("phone",), ("email",), ("account",))
DETERMINISTIC_RECALL = 0.8

# m, for each field's levels from the most specific down to "else": how often two records
# of one person compare so. It is declared, not learnt by expectation maximisation: the
# pairs EM can see are blocked on a birth date or a name, so it never meets the one
# person under two names (a facilitator's relatives') and learns that another name rules
# a match out; on a phone block it would meet households instead and learn the opposite.
# The figures are the labelled synthetic worlds' (scale 0.2, seeds 1-3, estimated with
# Splink's estimate_m_from_label_column), rounded, with room kept for what those worlds
# never do and real records do (a birth date mistyped, a country changed). u -- how often
# two different people agree -- is measured on each run's own records.
M: dict[str, tuple[float, ...]] = {
    # exact, same words in another order, two payees of one phone with other given
    # names, one letter apart, same surname and given name spelt alike, same given name
    # and surname two letters apart, one name's words all in the other, same surname and
    # the given name's initial, another name
    "name": (0.72, 0.04, 0.03, 0.05, 0.02, 0.01, 0.01, 0.02, 0.10),
    # exact, one typo, within a month, a year, ten years, further
    "birth_date": (0.80, 0.05, 0.02, 0.115, 0.01, 0.005),
    # exact, two payees with two phones, else
    "phone": (0.55, 0.002, 0.448),
    "email": (0.06, 0.94),
    "account": (0.45, 0.55),
    "country": (0.95, 0.05),
    # another name and exactly the same payers, another name and strangers in common,
    # another name and only family in common, the same relatives and no
    # other, the same counterparties (a stranger among them), strangers in common, only
    # family in common, two payees of one phone under other names each paid by
    # strangers and none in common, none
    "counterparties": (0.002, 0.15, 0.003, 0.35, 0.30, 0.05, 0.10, 0.005, 0.04),
    # two referrals; a referral and a payment record on its subject's side, on the other
    # side, of an unknown role; two senders of one provider paying in the same period,
    # one after the other; two other payment records
    "kinds": (0.08, 0.21, 0.004, 0.036, 0.002, 0.60, 0.068),
}

# Fields whose m expectation maximisation learns on each run's own records, starting
# from the declared values: how names, birth dates and emails are mistyped varies from
# one source to another (Splink's labelled demonstration set mistypes birth dates by a
# year and drops given names, the synthetic worlds do neither).
LEARNT = ("name", "birth_date", "email")
# The least m EM may give a learnt level: a mistake a run's records never show (a birth
# date mistyped, on the synthetic worlds) is rare, not impossible.
M_FLOOR = 0.005
# Levels whose declared m is their floor (field → level index): EM's pairs never show one
# person under another name (a facilitator's relatives'), so on the synthetic worlds it
# would learn that another name rules a match out.
FLOORS = {"name": -1}
# Levels that keep their declared m (field → level indexes): EM's pairs blocked on a name
# meet namesakes of one family (a father and son paying one relative) and would read
# birth dates decades apart as one person's mistake; at a million records, where the
# training sample holds few true pairs, namesakes born within a year as well (m 0.77
# for "a year", 0.06 for the same day).
KEPT = {"birth_date": (-3, -2, -1), "name": (2,)}
# Each rule lets EM see the other fields disagree within true pairs: an email shared
# shows names and birth dates mistyped; a birth date, names and emails; a name, birth
# dates and emails.
EM_BLOCKING = (("email",), ("birth_date",), ("name_key",))
EM_MIN_PAIRS = 100
# Training (u and m) reads at most this many records, drawn by the hash of their ids
# (the same on every run over the same records); the prior and the predictions read
# them all. Among pairs blocked on a birth date, matches keep their share in a sample,
# and a million records' name block (51 million pairs) is more than EM needs.
TRAIN_RECORDS = 100_000

KNOWN_KINDS = "('sender', 'beneficiary', 'referral')"
HOUSEHOLD = ("kind_l = 'beneficiary' AND kind_r = 'beneficiary' AND phone_l = phone_r "
             "AND given_l IS DISTINCT FROM given_r")
# Two records' payments interleave: each made one after the other's first and before its
# last (a sender who registers again stops using the old number; the day of the switch
# may hold both).
OVERLAP = ("greatest(first_seen_l, first_seen_r) < least(last_seen_l, last_seen_r)")

# How often two payees of one phone who are not one woman are each paid by strangers
# to the family and by nobody in common (the counterparties' level for a facilitator's
# relatives' names): declared, one household in 5,000. None of the 7,400 households
# sharing a phone at a million records does; real households may, where sisters are each
# paid by a partner abroad -- the pair then shows in the review page as one person.
ALIAS_U = 0.0002

# A pair agrees on an identifier -- the phone, the email, the account, or the birth date
# exactly or one typo apart -- not only on a name and a country: er_pairs.on_identifier.
# Two referrals are joined directly only on one (clusters.py). Splink numbers a field's
# levels from the most specific, len(M[field]) - 1, down to its "else", 0.
ON_IDENTIFIER = " OR ".join(
    [f"gamma_{f} = {len(M[f]) - 1}" for f in ("phone", "email", "account")]
    + [f"gamma_birth_date >= {len(M['birth_date']) - 2}"])

U_MAX_PAIRS = 1_000_000
SEED = 20240607


@dataclass
class Linkage:
    """What a trained model produced: every scored pair, the clusters at the threshold
    and the model itself (Splink's JSON, kept with the run)."""

    pairs: pa.Table
    clusters: pa.Table
    model: dict[str, Any]
    labels: dict[str, dict[int, str]]
    seconds: dict[str, float] = field(default_factory=dict)


class Backend(Protocol):
    """Where Splink runs (``DuckDBSplink`` here; ``spark_run.SparkSplink``): its database
    API over the records in the table ``er_input``, and the few statements link runs."""

    dialect: Dialect

    def api(self) -> Any: ...
    def table(self, name: str, select: str) -> None: ...
    def scalar(self, sql: str) -> Any: ...
    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...


class DuckDBSplink:
    """Splink on an in-memory DuckDB connection holding ``er_input``."""

    dialect: Dialect = DUCKDB

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def api(self) -> Any:
        from splink import DuckDBAPI

        return DuckDBAPI(connection=self.con)

    def table(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE TABLE {name} AS {select}")

    def scalar(self, sql: str) -> Any:
        return self.con.execute(sql).fetchall()[0][0]

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()


def comparisons(dialect: Dialect = DUCKDB) -> list[Any]:
    """The comparisons rendered for ``dialect``: a level in SQL spells what the engines
    spell differently through it (Splink's translation from DuckDB, by sqlglot, leaves
    DuckDB's list and similarity functions unknown to Spark)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    d = dialect

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="folded name, then word order ignored, then spelling",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
            cll.ExactMatchLevel("name_key").configure(label_for_charts="same words, "
                                                      "another order"),
            # Two payees of one phone are a household's women or one woman under a
            # relative's name: sisters' given names are often alike ("hung" and "dung",
            # "huong" and "phuong"), so within one phone a spelling alike says nothing
            # (u as m). The counterparties read them as another name.
            _sql(HOUSEHOLD, "two payees of one phone, given names differ").configure(
                u_probability=M["name"][2], fix_u_probability=True),
            # A referral's typo: one letter swapped, dropped, doubled or changed, in either
            # word order.
            _sql(f"{d.edit_distance('name_l', 'name_r')} <= 1 "
                 f"OR {d.edit_distance('name_key_l', 'name_key_r')} <= 1",
                 "one letter apart"),
            _sql(f"surname_l = surname_r AND {d.jaro_winkler('given_l', 'given_r')} >= 0.92",
                 "same surname, given name spelt alike"),
            # Two slips in the surname ("emily borks"). Not in the given name: relatives
            # share a surname, and "abena" is two letters from "kwabena".
            _sql(f"given_l = given_r AND {d.edit_distance('surname_l', 'surname_r')} <= 2",
                 "same given name, surname two letters apart"),
            # A name with a part missing ("julia" for "julia taylor").
            _sql(f"{d.contains_all(d.words('name_key_l'), d.words('name_key_r'))} "
                 f"OR {d.contains_all(d.words('name_key_r'), d.words('name_key_l'))}",
                 "one name's words all in the other"),
            # "J. SMITH" in a notice: the initial says little alone, with the surname more.
            _sql("surname_l = surname_r AND (length(given_l) = 1 OR length(given_r) = 1) "
                 "AND left(given_l, 1) = left(given_r, 1)",
                 "same surname, the given name's initial"),
            cll.ElseLevel(),
        ],
    )
    # Who a party paid, or was paid by, read together with the names. One phone and two
    # names is a facilitator collecting under a relative's name, paid by
    # foreign buyers with no family tie, some of whom pay both names (AUSTRAC: "a common
    # beneficiary ... sent by multiple customers") -- or an honest household, paid by
    # the same relatives abroad and nobody else. Apart, the fields would count the
    # household's shared phone and shared payers as two independent proofs.
    # Only levels with counterparties in common look at the names: a level that also
    # required the names to agree would have a u (two people at random sharing a given
    # name) small enough to count the name's agreement a second time --
    # two "keith white" with no payee in common got +3.8 bits from it.
    # Another name: more than one slip apart ("tomasz kowalski" and "tomasz lewandowski",
    # "abena" and "kwabena"), so that a name mistyped once reads as the same name.
    other_given = f"({d.edit_distance('name_key_l', 'name_key_r')} > 1 OR {HOUSEHOLD})"
    common = d.lists_overlap("counterparties_l", "counterparties_r")
    strangers = d.lists_overlap("strangers_l", "strangers_r")
    same = "counterparties_l = counterparties_r"
    # Relatives pay, and are paid by, the same people: among them sharing a payer is
    # common, not the rarity random sampling measures among strangers. Where the given
    # names differ or only family is shared, u is declared at the rate relatives share
    # (0.008, which is also what random sampling meets among senders who all pay one
    # popular payee); otherwise it would count the name's agreement a second time.
    relatives = {"u_probability": 0.008, "fix_u_probability": True}
    counterparties = cl.CustomComparison(
        output_column_name="counterparties",
        comparison_description="the parties each record paid or was paid by",
        comparison_levels=[
            _sql("counterparties_l IS NULL OR counterparties_r IS NULL", "missing",
                 is_null=True),
            # u declared as well as m: random sampling meets this pattern among senders
            # who all pay one popular payee, not in households, and would make it count
            # for the match.
            _sql(f"{other_given} AND {same}", "another name, paid by the same "
                 "parties and no other").configure(**relatives),
            _sql(f"{other_given} AND {strangers}",
                 "another name, paid by the same strangers"),
            _sql(f"{other_given} AND {common}", "another name, only family in common"
                 ).configure(**relatives),
            # Sharing a popular payee's custom says less than sharing a rare one's: a
            # term-frequency adjustment on the list, as for the name.
            _sql(f"{same} AND NOT ({strangers})", "the same relatives and no other"
                 ).configure(**relatives),
            _sql(same, "the same counterparties").configure(
                tf_adjustment_column="counterparties"),
            _sql(strangers, "some counterparties in common"),
            _sql(common, "only family in common").configure(**relatives),
            # A facilitator collecting under a relative's name with her own phone, each
            # name paid by its own foreign buyers: no payer in common, and strangers to
            # the family on both. An honest household's women are paid by the same
            # relatives (none of 7,400 such households at a million records shows it).
            # u declared: random sampling never meets two payees of one phone.
            _sql(f"{HOUSEHOLD} AND strangers_l IS NOT NULL AND strangers_r IS NOT NULL "
                 f"AND NOT ({common})", "two payees of one phone under other names, each "
                 "paid by strangers, none in common").configure(
                u_probability=ALIAS_U, fix_u_probability=True),
            cll.ElseLevel().configure(label_for_charts="no counterparty in common"),
        ],
    )
    # A referral is written about someone expected in the payments, so a pair with a
    # referral is far likelier to match than two payment records drawn at random: a prior
    # per kind of pair, learnt like any field and shown as one.
    kinds = cl.CustomComparison(
        output_column_name="kinds",
        comparison_description="what kinds of record the pair joins",
        comparison_levels=[
            # Records of another kind (a labelled set's) get no prior from this one.
            _sql(f"kind_l NOT IN {KNOWN_KINDS} OR kind_r NOT IN {KNOWN_KINDS}",
                 "another kind of record", is_null=True),
            _sql("kind_l = 'referral' AND kind_r = 'referral'", "two referrals"),
            # A referral names its subject's role: a buyer is looked for among senders,
            # a facilitator among payees.
            _sql("(kind_l = 'referral' OR kind_r = 'referral') AND side_l = side_r",
                 "a referral and a payment record on its side"),
            _sql("(kind_l = 'referral' OR kind_r = 'referral') AND side_l <> side_r",
                 "a referral and a payment record on the other side"),
            _sql("kind_l = 'referral' OR kind_r = 'referral'",
                 "a referral of unknown role and a payment record"),
            # A sender who registers again moves to the new customer number and leaves
            # the old one: one person rarely keeps paying through both at once. Two
            # namesakes of one family paying the same relatives do, so sharing a name and
            # a payee says far less for senders whose payments interleave.
            _sql(f"kind_l = 'sender' AND kind_r = 'sender' AND source_l = source_r "
                 f"AND {OVERLAP}", "two senders of one provider paying in the same period"),
            _sql("kind_l = 'sender' AND kind_r = 'sender' AND source_l = source_r",
                 "two senders of one provider, one after the other"),
            cll.ElseLevel().configure(label_for_charts="two payment records"),
        ],
    )
    declared = {
        "name": name,
        "birth_date": cl.DateOfBirthComparison("birth_date", input_is_string=True),
        # u stands declared where a small world has no two people agreeing (no two records
        # share an email): rare, not impossible.
        "phone": _exact("phone", u=1e-6, payees=True),
        "email": _exact("email", u=1e-7),
        "account": _exact("account", u=1e-7),
        "country": _exact("country", u=0.05),
        "counterparties": counterparties,
        "kinds": kinds,
    }
    out = []
    for f in FIELDS:
        comparison = declared[f].configure(m_probabilities=list(M[f]))
        spec = comparison.get_comparison(d.name).as_dict()
        levels = [lv for lv in spec["comparison_levels"] if not lv.get("is_null_level")]
        # The other fields keep their declared m (see M, LEARNT and KEPT).
        kept = levels if f not in LEARNT else [levels[i] for i in KEPT.get(f, ())]
        for level in kept:
            level["fix_m_probability"] = True
        out.append(spec)
    return out


def _sql(condition: str, label: str, is_null: bool = False) -> Any:
    """A level written in the SQL of the dialect it is rendered for (see comparisons)."""
    import splink.comparison_level_library as cll

    level = cll.CustomLevel(condition, label_for_charts=label)
    return level.configure(is_null_level=True) if is_null else level


def _exact(column: str, u: float, payees: bool = False) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(u_probability=u),
            # A payee collects with her phone (pick-up codes, a wallet numbered by it):
            # two payee records with two phones are seldom one person.
            *([_sql("kind_l = 'beneficiary' AND kind_r = 'beneficiary'",
                    "two payees, two phones")] if payees else []),
            cll.ElseLevel().configure(u_probability=1 - u),
        ],
    )


def _rules(rules: tuple[tuple[str, ...], ...], dialect: str = "duckdb") -> list[Any]:
    from splink import block_on

    out = []
    for cols in rules:
        lists = [c for c in cols if c in LISTS]
        rule = block_on(*cols, arrays_to_explode=lists or None)
        if cols in WITH_A_REFERRAL:
            rule = rule.get_blocking_rule(dialect).as_dict()
            rule["blocking_rule"] += " AND (l.kind = 'referral' OR r.kind = 'referral')"
        elif cols in BETWEEN_REFERRALS:
            rule = rule.get_blocking_rule(dialect).as_dict()
            rule["blocking_rule"] += " AND l.kind = 'referral' AND r.kind = 'referral'"
        out.append(rule)
    return out


def link(records: pa.Table, threshold: float, threads: int = 0) -> Linkage:
    """Train on ``records`` (u on the pairs of a sample and m by expectation maximisation
    on at most TRAIN_RECORDS of them, the prior from the deterministic rules on all), score
    every blocked pair and cluster the pairs at ``threshold``, on DuckDB."""
    seconds: dict[str, float] = {}
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute("SET threads = ?", [threads])
        con.register("er_input_view", records)
        con.execute("CREATE TABLE er_input AS SELECT * FROM er_input_view")
        con.unregister("er_input_view")
        lap = _clock(seconds)
        linker, predicted = train_and_score(DuckDBSplink(con), lap)
        pairs = con.sql(pairs_sql(predicted.physical_name)).to_arrow_table()
        model = linker.misc.save_model_to_json()
    finally:
        con.close()
    # The clusters `sentinelle resolve` makes with no judgement yet (clusters.py: a
    # referral never bridges two payment clusters), not Splink's connected components.
    ids = records.column("record_id").to_pylist()
    joined = cluster_tables(records, pairs, {}, threshold).subjects
    clusters = pa.table({"record_id": ids, "cluster_id": [joined[r] for r in ids]})
    lap("clusters")
    return Linkage(pairs, clusters, model, level_labels(model), seconds)


def _clock(seconds: dict[str, float]) -> Callable[[str], None]:
    """Records in ``seconds`` the time since the previous step, under the step's name."""
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now

    return lap


def train_and_score(backend: Backend, lap: Callable[[str], None]) -> tuple[Any, Any]:
    """The trained Splink linker over ``er_input`` and its scored pairs (Splink's
    frame), on ``backend``'s engine."""
    from splink import Linker, SettingsCreator

    # Splink's warnings about levels unseen in training go to the log, not the screen:
    # the declared priors (see comparisons) stand in for them.
    logging.getLogger("splink").setLevel(logging.ERROR)
    dialect = backend.dialect.name
    backend.table("er_train", f"""SELECT * FROM er_input
                                 ORDER BY md5(record_id) LIMIT {int(TRAIN_RECORDS)}""")
    # u is measured on every pair of the first records by the hash of their ids, as many
    # as make U_MAX_PAIRS pairs, not on Splink's own random draw: DuckDB and Spark draw
    # differently (a Bernoulli sample, ORDER BY rand), and one set of records must give
    # one model on both engines, run after run.
    u_records = int(0.5 * ((8 * U_MAX_PAIRS + 1) ** 0.5 + 1))
    backend.table("er_u_sample", f"""SELECT * FROM er_train
                                     ORDER BY md5(record_id) LIMIT {u_records}""")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons(backend.dialect),
        blocking_rules_to_generate_predictions=_rules(BLOCKING, dialect),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )
    # Every pair of the sample: u_records make at most U_MAX_PAIRS, so Splink draws none.
    sampler = Linker("er_u_sample", settings, backend.api(), set_up_basic_logging=False)
    sampler.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    trainer = Linker("er_train", sampler.misc.save_model_to_json(), backend.api(),
                     set_up_basic_logging=False)
    trainer.training.estimate_probability_two_random_records_match(
        _rules(DETERMINISTIC, dialect), recall=DETERMINISTIC_RECALL)
    lap("training: u")
    for cols, rule in zip(EM_BLOCKING, _rules(EM_BLOCKING, dialect), strict=True):
        # A rule few pairs agree on teaches EM nothing (a small set with no shared
        # email): the m it would refine stays as declared, or as another rule learns it.
        if _pair_count(backend, "er_train", cols) >= EM_MIN_PAIRS:
            trainer.training.estimate_parameters_using_expectation_maximisation(rule)
    lap("training: m (EM)")
    model = _with_counted_u(_unobserved_u(_floored(trainer.misc.save_model_to_json())),
                            _counted_u(backend, "er_input"))
    linker = Linker("er_input", model, backend.api(), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        _rules(DETERMINISTIC, dialect), recall=DETERMINISTIC_RECALL)
    predicted = linker.inference.predict()
    lap("pairs scored")
    return linker, predicted


def pairs_sql(predicted: str) -> str:
    """er_pairs from Splink's scored pairs (the table ``predicted``), in either dialect."""
    # A field's match weight is log2 of its Bayes factor (times the term-frequency
    # adjustment where it has one: a common name agreeing says less than a rare one).
    tf = {"name": " * bf_tf_adj_name", "counterparties": " * bf_tf_adj_counterparties"}
    weights = ", ".join(f"log2(bf_{f}{tf.get(f, '')}) AS mw_{f}, gamma_{f}" for f in FIELDS)
    rules = " ".join(f"WHEN '{i}' THEN '{'+'.join(cols)}'" for i, cols in enumerate(BLOCKING))
    return f"""
        SELECT record_id_l, record_id_r, match_probability, match_weight, {weights},
               CASE match_key {rules} END AS blocked_on,
               ({ON_IDENTIFIER}) AS on_identifier
        FROM {predicted}
        ORDER BY record_id_l, record_id_r"""


def _pair_count(backend: Backend, table: str, cols: tuple[str, ...]) -> int:
    """How many pairs of ``table`` agree on every one of ``cols`` (a declared rule)."""
    keys = ", ".join(cols)
    known = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    return int(backend.scalar(f"""SELECT coalesce(sum(n * (n - 1)), 0) / 2 FROM (
        SELECT count(*) AS n FROM {table} WHERE {known} GROUP BY {keys}) AS blocks"""))


def _kinds_u(backend: Backend, table: str) -> list[float] | None:
    """The share of all pairs of ``table`` at each level of the kinds comparison, counted
    rather than sampled: with the declared m it makes the prior per kind of pair (a
    referral is one of few records, and a million random pairs meet it a handful of
    times). None when the records hold none of the known kinds."""
    counts = dict(backend.rows(f"""SELECT kind || ':' || coalesce(side, '?'), count(*)
        FROM {table} WHERE kind IN {KNOWN_KINDS} GROUP BY ALL"""))
    n = sum(counts.values())
    if n < 2:
        return None
    s, b = counts.get("sender:sender", 0), counts.get("beneficiary:beneficiary", 0)
    rs, rb = counts.get("referral:sender", 0), counts.get("referral:beneficiary", 0)
    r = n - s - b
    import numpy as np

    epoch = backend.dialect.epoch_seconds
    found = backend.rows(f"""SELECT source, {epoch('first_seen')} AS f,
        {epoch('last_seen')} AS l
        FROM {table} WHERE kind = 'sender' AND first_seen IS NOT NULL""")
    spans = {name: np.array([row[i] for row in found], dtype=object if i == 0 else float)
             for i, name in enumerate(("source", "f", "l"))}
    overlapping = together = 0.0
    for source in set(spans["source"]):
        one = spans["source"] == source
        together += one.sum() * (one.sum() - 1) / 2
        overlapping += _overlapping_pairs(spans["f"][one], spans["l"][one])
    pairs = n * (n - 1) / 2
    levels = [r * (r - 1) / 2, rs * s + rb * b, rs * b + rb * s, (r - rs - rb) * (s + b),
              overlapping, together - overlapping]
    levels.append(pairs - sum(levels))
    # A level no pair of this run reaches keeps a u of one pair: rare, not impossible.
    return [max(k, 1.0) / pairs for k in levels]


def _overlapping_pairs(first: Any, last: Any) -> float:
    """How many pairs of spans [first, last] overlap (OVERLAP): a span of one instant
    overlaps none; of the others, all pairs less those where one span ends before or
    when the other begins (each such pair met once, from the span that ends first)."""
    import numpy as np

    longer = first < last
    starts = np.sort(first[longer])
    n = len(starts)
    apart = int((n - np.searchsorted(starts, last[longer], side="left")).sum())
    return n * (n - 1) / 2 - apart


def _counted_u(backend: Backend, table: str) -> dict[str, list[float]]:
    """u counted on every record rather than sampled on the training ones, for the levels
    whose u falls with the number of records (field → u of its first levels): the share
    of all pairs sharing a phone, an email or an account, and each kind of pair.
    Sampled, a million random pairs meet a shared phone or a referral a handful of times,
    and a u that stays put while the prior falls with the records squared loses matches
    at scale (a facilitator's relatives' names: 525 of 542 missed at a million records)."""
    n = backend.scalar(f"SELECT count(*) FROM {table}")
    pairs = n * (n - 1) / 2
    out: dict[str, list[float]] = {}
    for column in DETERMINISTIC:
        agree = _pair_count(backend, table, column)
        # A value no two records share: rare, not impossible (one pair's worth).
        out[column[0]] = [max(agree, 1) / pairs]
    kinds = _kinds_u(backend, table)
    if kinds is not None:
        out["kinds"] = kinds
    return out


def _with_counted_u(model: dict[str, Any], u: dict[str, list[float]]) -> dict[str, Any]:
    """The model with the counted u (``_counted_u``) fixed on their levels."""
    for comparison in model["comparisons"]:
        shares = u.get(comparison["output_column_name"])
        if shares is None:
            continue
        real = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for level, share in zip(real, shares, strict=False):
            level["u_probability"] = share
            level["fix_u_probability"] = True
    return model


def _unobserved_u(model: dict[str, Any]) -> dict[str, Any]:
    """The model with a u for each level of a learnt field (LEARNT) the sampled pairs
    never met: one pair in the sample's U_MAX_PAIRS, as rare as the sample can tell.
    Left without one, Splink gives the level a default u (about 0.09 for a name's) that
    counts agreeing against a match: "s harris" and "shane harris", born the same day,
    scored 0.002 at a million records, where the sample holds a handful of referrals and
    no initial. The counterparties' levels the sample never meets keep Splink's default:
    two namesakes paying one popular payee are not rare at a million records, and at one
    in a million wrong merges of such senders doubled there (docs/resolve.md)."""
    for comparison in model["comparisons"]:
        if comparison["output_column_name"] not in LEARNT:
            continue
        for level in comparison["comparison_levels"]:
            if not level.get("is_null_level") and level.get("u_probability") is None:
                level["u_probability"] = 1 / U_MAX_PAIRS
    return model


def _floored(model: dict[str, Any]) -> dict[str, Any]:
    """The trained model with each learnt level's m raised to its floor (M_FLOOR, or the
    declared value for the FLOORS levels)."""
    for comparison in model["comparisons"]:
        field = comparison["output_column_name"]
        if field not in LEARNT:
            continue
        real = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        floors = [M_FLOOR] * len(real)
        if field in FLOORS:
            floors[FLOORS[field]] = M[field][FLOORS[field]]
        for level, floor in zip(real, floors, strict=True):
            m = level.get("m_probability")
            if level.get("fix_m_probability"):
                continue
            if not isinstance(m, float) or m < floor:
                level["m_probability"] = floor
    return model


def level_labels(model: dict[str, Any]) -> dict[str, dict[int, str]]:
    """For each field, its comparison levels' labels by the gamma value Splink gives them
    (-1 for a missing value, then from the most specific level down to 0)."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        real = [lv for lv in levels if not lv.get("is_null_level")]
        by_gamma = {len(real) - 1 - i: lv["label_for_charts"] for i, lv in enumerate(real)}
        by_gamma[-1] = "missing"
        labels[comparison["output_column_name"]] = by_gamma
    return labels
