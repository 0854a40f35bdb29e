"""The two baselines detection is measured against, computed on the same warehouse.

(a) The rule most monitoring teams start with: the number of small payments (at most
EUR 100) to the Philippines, Thailand, Colombia and Romania — per sender for buyers, per
beneficiary (payments received) for facilitators.

(b) A generic anomaly detector: scikit-learn's IsolationForest over generic per-party
features (how much, how often, to how many, where, when), deliberately not the
catalogue's indicators, so it shows what off-the-shelf anomaly detection finds alone.

Each returns, per role, every party of that role in the warehouse with a score, higher
meaning more suspicious.
"""

from __future__ import annotations

import numpy as np

from sentinelle.warehouse import Warehouse

RULE_COUNTRIES = ["PH", "TH", "CO", "RO"]
RULE_MAX_EUR = 100
FOREST_SEED = 0
FOREST_TREES = 200

Party = tuple[str, str]  # (provider, party_id)
Ranking = dict[Party, float]

# Per role: the party's own columns, then the counterpart's (sender ↔ beneficiary).
_SIDES = {"buyer": ("sender", "beneficiary"), "facilitator": ("beneficiary", "sender")}

# The anomaly detector's features, each one SQL aggregate over a party's payments;
# ``{own}`` and ``{other}`` are the party's side and its counterpart's. ``?`` binds the
# four countries. Local time is the timestamp (UTC) moved by the offset it was sent with.
_LOCAL = "(timestamp + to_minutes(CAST(coalesce(timestamp_offset_min, 0) AS BIGINT)))"
FEATURES: dict[str, tuple[str, str]] = {
    "payments": ("count(*)", "payments made (buyers) or received (facilitators)"),
    "total_eur": ("coalesce(sum(amount_eur), 0)", "their total in euros"),
    "median_eur": ("coalesce(median(amount_eur), 0)", "their median in euros"),
    "counterparts": ("count(DISTINCT {other}_id)", "distinct beneficiaries (senders)"),
    "countries": ("count(DISTINCT {other}_country)",
                  "distinct beneficiary (sender) countries"),
    "corridor_share": ("avg(CASE WHEN list_contains(?, beneficiary_country) THEN 1 ELSE 0 END)",
                       "share of payments to PH, TH, CO or RO"),
    "night_share": (f"avg(CASE WHEN hour({_LOCAL}) >= 22 OR hour({_LOCAL}) < 6 "
                    "THEN 1 ELSE 0 END)", "share between 22:00 and 6:00, local time"),
    "mean_gap_days": ("coalesce(epoch(max(timestamp) - min(timestamp)) / 86400.0 "
                      "/ nullif(count(*) - 1, 0), 0)", "mean days between payments"),
    "active_days": (f"count(DISTINCT CAST({_LOCAL} AS DATE))",
                    "days with at least one payment"),
}


def rule_scores(wh: Warehouse, role: str) -> Ranking:
    """Baseline (a): small payments to the four countries, counted per party."""
    own, _ = _SIDES[role]
    rows = wh.execute(f"""
        SELECT provider, {own}_id,
               count(*) FILTER (WHERE amount_eur <= ? AND list_contains(?, beneficiary_country))
        FROM transactions WHERE {own}_id IS NOT NULL GROUP BY ALL""",
                      [RULE_MAX_EUR, RULE_COUNTRIES]).fetchall()
    return {(p, pid): float(n) for p, pid, n in rows}


def features(wh: Warehouse, role: str) -> tuple[list[Party], np.ndarray]:
    """Every party of ``role`` and its row of ``FEATURES``, in a stable order."""
    own, other = _SIDES[role]
    cols = ", ".join(sql.format(own=own, other=other) for sql, _ in FEATURES.values())
    rows = wh.execute(f"""
        SELECT provider, {own}_id, {cols}
        FROM transactions WHERE {own}_id IS NOT NULL
        GROUP BY ALL ORDER BY 1, 2""", [RULE_COUNTRIES]).fetchall()
    parties = [(r[0], r[1]) for r in rows]
    matrix = np.array([[float(v) for v in r[2:]] for r in rows], dtype=float)
    return parties, matrix.reshape(len(rows), len(FEATURES))


def forest_scores(wh: Warehouse, role: str) -> Ranking:
    """Baseline (b): IsolationForest's anomaly score (minus its decision function)."""
    from sklearn.ensemble import IsolationForest

    parties, matrix = features(wh, role)
    if not parties:
        return {}
    forest = IsolationForest(n_estimators=FOREST_TREES, random_state=FOREST_SEED, n_jobs=1)
    forest.fit(matrix)
    scores = -forest.decision_function(matrix)
    return dict(zip(parties, (float(s) for s in scores), strict=True))


BASELINES = {"rule": rule_scores, "isolation forest": forest_scores}

__all__ = ["BASELINES", "FEATURES", "features", "forest_scores", "rule_scores"]
