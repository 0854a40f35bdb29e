"""The linkage model: Splink's comparisons and blocking rules, declared once, trained and
applied on DuckDB.

Splink runs in its own in-memory DuckDB connection over the records handed to it, so its
working tables (``__splink__…``) never land in the warehouse file. Splink is imported here
only, when a run starts.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

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
)
# Rules that pair a referral with any record, never two payment records: one common
# name in one country gathers hundreds of payment records (702 at a million records: 22.9
# million pairs, against 0.3 million for every other rule together). Two payment records
# of one person with nothing else in common are a sender registered twice without a
# birth date, and share a payee (the rule after it: 11 thousand pairs at a million).
WITH_A_REFERRAL = {("name_key", "country")}
# List columns: two records are paired where any one element agrees.
LISTS = ("counterparties",)

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
    # exact, same words in another order, one letter apart, same surname and given name
    # spelt alike, same given name and surname two letters apart, one name's words all in
    # the other, same surname and the given name's initial, another name
    "name": (0.75, 0.04, 0.05, 0.02, 0.01, 0.01, 0.02, 0.10),
    # exact, one typo, within a month, a year, ten years, further
    "birth_date": (0.80, 0.05, 0.02, 0.07, 0.03, 0.03),
    # exact, two payees with two phones, else
    "phone": (0.55, 0.002, 0.448),
    "email": (0.06, 0.94),
    "account": (0.45, 0.55),
    "country": (0.95, 0.05),
    # another name and exactly the same payers, another name and strangers in common,
    # another name and only family in common, the same relatives and no
    # other, the same counterparties (a stranger among them), strangers in common, only
    # family in common, none
    "counterparties": (0.002, 0.15, 0.003, 0.35, 0.30, 0.05, 0.10, 0.045),
    # two referrals, a referral and a payment record, two payment records
    "kinds": (0.07, 0.24, 0.69),
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
# birth dates decades apart as one person's mistake.
KEPT = {"birth_date": (-2, -1)}
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


def comparisons() -> list[Any]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="folded name, then word order ignored, then spelling",
        comparison_levels=[
            cll.NullLevel("name"),
            cll.ExactMatchLevel("name").configure(tf_adjustment_column="name"),
            cll.ExactMatchLevel("name_key").configure(label_for_charts="same words, "
                                                      "another order"),
            # A referral's typo: one letter swapped, dropped, doubled or changed, in either
            # word order.
            _sql("damerau_levenshtein(name_l, name_r) <= 1 "
                 "OR damerau_levenshtein(name_key_l, name_key_r) <= 1",
                 "one letter apart"),
            _sql("surname_l = surname_r AND jaro_winkler_similarity(given_l, given_r) >= 0.92",
                 "same surname, given name spelt alike"),
            # Two slips in the surname ("emily borks"). Not in the given name: relatives
            # share a surname, and "abena" is two letters from "kwabena".
            _sql("given_l = given_r AND damerau_levenshtein(surname_l, surname_r) <= 2",
                 "same given name, surname two letters apart"),
            # A name with a part missing ("julia" for "julia taylor").
            _sql("list_has_all(string_split(name_key_l, ' '), string_split(name_key_r, ' ')) "
                 "OR list_has_all(string_split(name_key_r, ' '), string_split(name_key_l, ' '))",
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
    other_given = "damerau_levenshtein(name_key_l, name_key_r) > 1"
    common = "len(list_intersect(counterparties_l, counterparties_r)) >= 1"
    strangers = "len(list_intersect(strangers_l, strangers_r)) >= 1"
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
            _sql("kind_l = 'referral' OR kind_r = 'referral'", "a referral and a payment record"),
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
        spec = comparison.get_comparison("duckdb").as_dict()
        levels = [lv for lv in spec["comparison_levels"] if not lv.get("is_null_level")]
        # The other fields keep their declared m (see M, LEARNT and KEPT).
        kept = levels if f not in LEARNT else [levels[i] for i in KEPT.get(f, ())]
        for level in kept:
            level["fix_m_probability"] = True
        out.append(spec)
    return out


def _sql(condition: str, label: str, is_null: bool = False) -> Any:
    """A level written in DuckDB SQL (Splink translates it for another backend)."""
    import splink.comparison_level_library as cll

    level = cll.CustomLevel(condition, label_for_charts=label, base_dialect_str="duckdb")
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


def _rules(rules: tuple[tuple[str, ...], ...]) -> list[Any]:
    from splink import block_on

    out = []
    for cols in rules:
        lists = [c for c in cols if c in LISTS]
        rule = block_on(*cols, arrays_to_explode=lists or None)
        if cols in WITH_A_REFERRAL:
            rule = rule.get_blocking_rule("duckdb").as_dict()
            rule["blocking_rule"] += " AND (l.kind = 'referral' OR r.kind = 'referral')"
        out.append(rule)
    return out


def link(records: pa.Table, threshold: float, threads: int = 0) -> Linkage:
    """Train on ``records`` (u by random sampling and m by expectation maximisation on at
    most TRAIN_RECORDS of them, the prior from the deterministic rules on all), score
    every blocked pair and cluster the pairs at ``threshold``."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    # Splink's warnings about levels unseen in training go to the log, not the screen:
    # the declared priors (see comparisons) stand in for them.
    logging.getLogger("splink").setLevel(logging.ERROR)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[step] = now - clock
        clock = now

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute("SET threads = ?", [threads])
    con.register("er_input_view", records)
    con.execute("CREATE TABLE er_input AS SELECT * FROM er_input_view")
    con.unregister("er_input_view")
    con.execute("""CREATE TABLE er_train AS SELECT * FROM er_input
                   ORDER BY md5(record_id) LIMIT ?""", [TRAIN_RECORDS])
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=_rules(BLOCKING),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )
    trainer = Linker("er_train", settings, DuckDBAPI(connection=con),
                     set_up_basic_logging=False)
    trainer.training.estimate_probability_two_random_records_match(
        _rules(DETERMINISTIC), recall=DETERMINISTIC_RECALL)
    trainer.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    lap("training: u")
    for cols, rule in zip(EM_BLOCKING, _rules(EM_BLOCKING), strict=True):
        # A rule few pairs agree on teaches EM nothing (a small set with no shared
        # email): the m it would refine stays as declared, or as another rule learns it.
        if _pair_count(con, "er_train", cols) >= EM_MIN_PAIRS:
            trainer.training.estimate_parameters_using_expectation_maximisation(rule)
    lap("training: m (EM)")
    linker = Linker("er_input", _floored(trainer.misc.save_model_to_json()),
                    DuckDBAPI(connection=con), set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        _rules(DETERMINISTIC), recall=DETERMINISTIC_RECALL)
    predicted = linker.inference.predict()
    lap("pairs scored")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predicted, threshold_match_probability=threshold)
    # A field's match weight is log2 of its Bayes factor (times the term-frequency
    # adjustment where it has one: a common name agreeing says less than a rare one).
    tf = {"name": " * bf_tf_adj_name", "counterparties": " * bf_tf_adj_counterparties"}
    weights = ", ".join(f"log2(bf_{f}{tf.get(f, '')}) AS mw_{f}, gamma_{f}" for f in FIELDS)
    rules = " ".join(f"WHEN '{i}' THEN '{'+'.join(cols)}'" for i, cols in enumerate(BLOCKING))
    pairs = con.sql(f"""
        SELECT record_id_l, record_id_r, match_probability, match_weight, {weights},
               CASE match_key {rules} END AS blocked_on
        FROM {predicted.physical_name}
        ORDER BY record_id_l, record_id_r""").to_arrow_table()
    clusters = con.sql(f"""
        SELECT record_id, cluster_id FROM {clustered.physical_name}
        ORDER BY record_id""").to_arrow_table()
    model = linker.misc.save_model_to_json()
    con.close()
    lap("clusters")
    return Linkage(pairs, clusters, model, level_labels(model), seconds)


def _pair_count(con: duckdb.DuckDBPyConnection, table: str, cols: tuple[str, ...]) -> int:
    """How many pairs of ``table`` agree on every one of ``cols`` (a declared rule)."""
    keys = ", ".join(cols)
    known = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    got = con.execute(f"""SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (
        SELECT count(*) AS n FROM {table} WHERE {known} GROUP BY {keys})""").fetchall()
    return int(got[0][0])


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
