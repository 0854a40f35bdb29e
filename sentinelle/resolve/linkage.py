"""The linkage model: Splink's comparisons and blocking rules, declared once, trained and
applied on DuckDB.

Splink runs in its own in-memory DuckDB connection over the records handed to it, so its
working tables (``__splink__…``) never land in the warehouse file. Splink is imported here
only, when a run starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
    ("name_key", "country"),          # referrals often lack a birth date
    ("surname", "birth_date"),        # a typo in the given name
    ("given", "birth_date"),          # a typo in the surname
)

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
    # spelt alike, same surname and the given name's initial, another name
    "name": (0.75, 0.04, 0.05, 0.02, 0.02, 0.12),
    # exact, one typo, within a month, a year, ten years, further
    "birth_date": (0.80, 0.05, 0.02, 0.07, 0.03, 0.03),
    # exact, two payees with two phones, else
    "phone": (0.55, 0.002, 0.448),
    "email": (0.06, 0.94),
    "account": (0.45, 0.55),
    "country": (0.95, 0.05),
    # another given name and exactly the same payers, another given name and payers in
    # common, another given name and no stranger in common, the same counterparties, some
    # in common, none in common
    "counterparties": (0.002, 0.15, 0.005, 0.74, 0.06, 0.043),
    # two referrals, a referral and a payment record, two payment records
    "kinds": (0.07, 0.24, 0.69),
}

# Fields whose m expectation maximisation refines on each run's own records, from the
# declared values: how names and birth dates are mistyped varies from one source to
# another. The others stay as declared (see M).
LEARNT: tuple[str, ...] = ()
EM_BLOCKING = (("birth_date",), ("name_key",))

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
            # "J. SMITH" in a notice: the initial says little alone, with the surname more.
            _sql("surname_l = surname_r AND (length(given_l) = 1 OR length(given_r) = 1) "
                 "AND left(given_l, 1) = left(given_r, 1)",
                 "same surname, the given name's initial"),
            cll.ElseLevel(),
        ],
    )
    # Who a party paid, or was paid by, read together with the given names. One phone
    # and two given names is a facilitator collecting under a relative's name, paid by
    # foreign buyers with no family tie, some of whom pay both names (AUSTRAC: "a common
    # beneficiary ... sent by multiple customers") -- or an honest household, paid by
    # the same relatives abroad and nobody else. Apart, the fields would count the
    # household's shared phone and shared payers as two independent proofs.
    other_given = "given_l IS DISTINCT FROM given_r"
    same = "counterparties_l = counterparties_r"
    counterparties = cl.CustomComparison(
        output_column_name="counterparties",
        comparison_description="the parties each record paid or was paid by",
        comparison_levels=[
            _sql("counterparties_l IS NULL OR counterparties_r IS NULL", "missing",
                 is_null=True),
            # u declared as well as m: random sampling meets this pattern among senders
            # who all pay one popular payee, not in households, and would make it count
            # for the match.
            _sql(f"{other_given} AND {same}", "another given name, paid by the same "
                 "parties and no other").configure(u_probability=0.008,
                                                   fix_u_probability=True),
            _sql(f"{other_given} AND len(list_intersect(strangers_l, strangers_r)) >= 1",
                 "another given name, paid by the same strangers"),
            _sql(other_given, "another given name, no stranger in common"),
            # Sharing a popular payee's custom says less than sharing a rare one's: a
            # term-frequency adjustment on the list, as for the name.
            _sql(same, "the same counterparties").configure(
                tf_adjustment_column="counterparties"),
            _sql("len(list_intersect(counterparties_l, counterparties_r)) >= 1",
                 "some counterparties in common"),
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
        # EM never meets one person under two names, so "else" stays declared.
        for level in (levels if f not in LEARNT else levels[-1:]):
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

    return [block_on(*cols) for cols in rules]


def link(records: pa.Table, threshold: float, threads: int = 0) -> Linkage:
    """Train on ``records`` (the prior from the deterministic rules, u by random sampling;
    m is declared), score every blocked pair and cluster the pairs at ``threshold``."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    # Splink's warnings about levels unseen in training go to the log, not the screen:
    # the declared priors (see comparisons) stand in for them.
    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if threads:
        con.execute("SET threads = ?", [threads])
    con.register("er_input_view", records)
    con.execute("CREATE TABLE er_input AS SELECT * FROM er_input_view")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=_rules(BLOCKING),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=True,
    )
    linker = Linker("er_input", settings, DuckDBAPI(connection=con),
                    set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        _rules(DETERMINISTIC), recall=DETERMINISTIC_RECALL)
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=SEED)
    for rule in _rules(EM_BLOCKING):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predicted = linker.inference.predict()
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
    return Linkage(pairs, clusters, model, level_labels(model))


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
