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
FIELDS = ("name", "birth_date", "phone", "email", "account", "country")

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

# Expectation maximisation, each pass fixing the fields its blocking rule holds equal.
# Not on the phone: households share one number, and pairs blocked on it would teach the
# model that people with different names are often the same person.
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
            # On the name in its usual order, not the sorted key: sorted, two relatives'
            # names start with the same surname and look alike.
            cll.JaroWinklerLevel("name", 0.92),
            cll.JaroWinklerLevel("name", 0.85),
            cll.ElseLevel(),
        ],
    )
    return [
        name,
        cl.DateOfBirthComparison("birth_date", input_is_string=True),
        # Priors for agreement (m: how often one person's two records agree; u: how often
        # two people's do) stand where training sees too few pairs to estimate them, as in
        # a small world where no two records share an email.
        _exact("phone", m=0.7, u=1e-6),
        _exact("email", m=0.9, u=1e-7),
        _exact("account", m=0.6, u=1e-7),
        # Fixed: a world where every same-person pair shares a country would otherwise
        # teach that two countries rule a match out entirely (people move; referrals err).
        _exact("country", m=0.95, u=0.05, fix_m=True),
    ]


def _exact(column: str, m: float, u: float, fix_m: bool = False) -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        output_column_name=column,
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column).configure(m_probability=m, u_probability=u,
                                                  fix_m_probability=fix_m),
            cll.ElseLevel().configure(m_probability=1 - m, u_probability=1 - u,
                                      fix_m_probability=fix_m),
        ],
    )


def _rules(rules: tuple[tuple[str, ...], ...]) -> list[Any]:
    from splink import block_on

    return [block_on(*cols) for cols in rules]


def link(records: pa.Table, threshold: float, threads: int = 0) -> Linkage:
    """Train on ``records`` (u by random sampling, m by EM), score every blocked pair and
    cluster the pairs at ``threshold``."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    # Splink's warnings about levels unseen in training go to the log, not the screen:
    # the declared priors (see comparisons) stand in for them.
    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()
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
    tf = {"name": " * bf_tf_adj_name"}
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
