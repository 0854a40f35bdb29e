"""Run detection over the warehouse and write scores, reasons, alerts and evidence.

The steps, each one SQL statement or a few (``STEPS`` names them for progress and
timings): prepare the payments; measure every party; link shared identifiers and
referrals; score behaviour; propagate over the network; score, explain and rank; raise
alerts; collect their evidence; index what the web application looks up. Intermediate
tables are temporary; what the analyst uses is published as ``det_*`` tables at once,
replacing the previous run's (``det_runs`` keeps every run's settings and counts).

The same statements run on DuckDB (the warehouse file; published in one transaction) and
on Spark (Parquet in and out; published by switching to the run's directory): what differs
is spelled by ``engine.dialect`` and done by the engine (``warehouse/engine.py``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sentinelle.detect import compiler, linkage, network, sessions
from sentinelle.detect.catalogue import ROLES, Catalogue
from sentinelle.detect.scoring import (
    Weights,
    base_score,
    comparable,
    points_sql,
    score_sql,
    scorecard_weights,
)
from sentinelle.errors import DetectionError
from sentinelle.normalise.zones import zones_table_rows
from sentinelle.resolve.subjects import party_subjects_sql, transactions_sql
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.dialect import Dialect
from sentinelle.warehouse.engine import DuckDBEngine, Engine

STEPS = ("prepare payments", "measure parties", "link identifiers and referrals",
         "propagate over the network", "score and explain", "alerts and evidence",
         "index for the web application")


RUN_COLUMNS = (("run_id", "VARCHAR"), ("started_at", "TIMESTAMP"),
               ("finished_at", "TIMESTAMP"), ("run_by", "VARCHAR"), ("scorer", "VARCHAR"),
               ("catalogue_digest", "VARCHAR"), ("parameters", "VARCHAR"),
               ("counts", "VARCHAR"))
# The results a run publishes (``_publish``); det_subject_parties only on subjects.
PUBLISHED = ("det_scores", "det_contributions", "det_alerts", "det_links", "det_evidence",
             "det_referral_matches", "det_subject_parties")


@dataclass
class DetectionRun:
    run_id: str
    scorer: str
    subjects: bool = False
    parties: dict[str, int] = field(default_factory=dict)
    alerts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def ensure_tables(wh: Warehouse) -> None:
    """The run log, empty, in a DuckDB warehouse (publishing creates it too)."""
    cols = ", ".join(f"{name} {sql_type}" for name, sql_type in RUN_COLUMNS)
    wh.execute(f"CREATE TABLE IF NOT EXISTS det_runs ({cols})")


def detect(target: Warehouse | Engine, catalogue: Catalogue, *, user: str,
           models: dict[str, Weights] | None = None,
           on_step: Callable[[str], None] | None = None,
           subjects: bool | None = None, on_disk: bool | None = None) -> DetectionRun:
    """Score every sender as a buyer and every beneficiary as a facilitator: with the
    scorecard, or with the adopted glass-box model of a role where ``models`` has one.

    ``target``: the DuckDB warehouse, or an engine (``warehouse/engine.py``: DuckDB, or
    Spark over Parquet). ``subjects``: score the subjects entity resolution found rather
    than each provider's parties (resolve/subjects.py); by default subjects once
    entity resolution has run, else parties: on six synthetic worlds at scale 1 average
    precision over people moved by −0.004 to +0.023 on subjects, and a person raises one
    alert instead of one per name (docs/benchmarks.md, "Entity resolution and
    detection"; docs/resolve.md for the held-out seeds). ``on_disk``: keep the
    intermediate tables in a scratch database file rather than in memory (DuckDB;
    chosen by their expected size when not given: ``DuckDBEngine.scratch``)."""
    engine: Engine = DuckDBEngine(target) if isinstance(target, Warehouse) else target
    payments = engine.scalar("SELECT count(*) FROM transactions")
    if not payments:
        raise DetectionError("the warehouse holds no transactions to score",
                             fix="sentinelle ingest transactions PATH first")
    weights = {role: _weights(catalogue, role, (models or {}).get(role)) for role in ROLES}
    scorer = "; ".join(f"{role}: {weights[role].scorer}" for role in ROLES)
    resolved = engine.has_table("er_clusters")
    if subjects is None:
        subjects = resolved
    if subjects and not resolved:
        raise DetectionError("detection on subjects needs entity resolution",
                             fix="run sentinelle resolve first")
    if subjects and not _readable(engine, "SELECT decided_by FROM er_clusters LIMIT 0"):
        raise DetectionError("the warehouse was resolved before er_clusters.decided_by "
                             "existed, which detection on subjects reads",
                             fix="run sentinelle resolve once more, or detect with --parties")
    run = DetectionRun(uuid.uuid4().hex[:12], scorer, subjects=subjects)
    started = datetime.now(UTC).replace(tzinfo=None)

    marks: list[tuple[str, float]] = []

    def step(name: str) -> None:
        marks.append((name, time.perf_counter()))
        if on_step:
            on_step(name)

    with engine.scratch(payments, on_disk):  # where intermediate tables are kept
        _run(engine, catalogue, weights, run, step, subjects)
        marks.append(("", time.perf_counter()))
        run.seconds = {name: round(end - start, 2)
                       for (name, start), (_, end) in zip(marks, marks[1:], strict=False)}
        _publish(engine, run, catalogue, user, started)
    clock = time.perf_counter()
    # Publishing replaces the det_* tables, which drops their indexes: the subject page's
    # lookups by party (score, contributions, evidence, alert number) use them.
    engine.index()
    # Shown with the other steps (det_runs, written when publishing, has them without
    # this last part).
    run.seconds["index the published results"] = round(time.perf_counter() - clock, 2)
    return run


def _readable(engine: Engine, sql: str) -> bool:
    """Whether the engine can run ``sql`` (a column of an older table may be missing; the
    engines raise their own errors, DuckDB's and Spark's)."""
    try:
        engine.rows(sql)
    except Exception:  # noqa: BLE001 - any engine's "no such column"
        return False
    return True


def _run(engine: Engine, catalogue: Catalogue, weights: dict[str, Weights],
         run: DetectionRun, step: Callable[[str], None], subjects: bool) -> None:
    """Every step up to publishing, each intermediate result an engine temp_table."""
    dialect = engine.dialect
    temp = engine.temp_table

    step(STEPS[0])
    _load_inputs(engine, catalogue)
    if subjects:
        temp("det_party_subjects", party_subjects_sql())
    engine.execute(dialect.temp_view("det_txn", transactions_sql(dialect, subjects)))
    temp("det_payments", compiler.payments_sql(catalogue, dialect))

    step(STEPS[1])
    for role in ROLES:
        temp(f"det_m_{role}", compiler.measures_sql(catalogue, role))

    step(STEPS[2])
    temp("det_ident", linkage.identifiers_sql(catalogue, dialect))
    temp("det_new_referral_matches", linkage.referral_matches_sql(dialect, subjects))
    temp("det_ref", linkage.referral_measures_sql(dialect))
    temp("det_sess_txn", sessions.session_payments_sql(engine.has_table("comm_sessions"),
                                                       dialect))
    temp("det_sess", sessions.session_measures_sql(dialect))
    for role in ROLES:
        temp(f"det_static_{role}", _static_sql(catalogue, role, dialect))
        temp(f"det_party_{role}", _party_sql(catalogue, role, weights[role],
                                             with_network=False))

    step(STEPS[3])

    def rescore(_round: int) -> None:
        for role in ROLES:
            temp(f"det_party_{role}", _party_sql(
                catalogue, role, scorecard_weights(catalogue, role), with_network=True))
    network.propagate(temp, catalogue, rescore, dialect)

    step(STEPS[4])
    for role in ROLES:
        temp(f"det_final_{role}", _final_sql(catalogue, role, weights[role], dialect))
    temp("det_new_contributions", _contributions_sql(catalogue, dialect))
    temp("det_new_scores", _scores_sql(dialect, {role: weights[role].scorer
                                                 for role in ROLES}))

    step(STEPS[5])
    threshold = compiler.number(catalogue.values["alert_threshold"], "alert_threshold")
    temp("det_alert_parties", f"""
        SELECT role, provider, party_id FROM det_new_scores WHERE score >= {threshold}""")
    _evidence(engine, catalogue)
    step(STEPS[6])
    _web_lookups(engine)
    for role in ROLES:
        run.parties[role] = engine.scalar(
            "SELECT count(*) FROM det_new_scores WHERE role = ?", [role])
        run.alerts[role] = engine.scalar(
            "SELECT count(*) FROM det_alert_parties WHERE role = ?", [role])


# ---------------------------------------------------------------------------- inputs
def _load_inputs(engine: Engine, catalogue: Catalogue) -> None:
    """Time zones and list parameters as small tables, values bound, never spliced."""
    engine.load_rows("det_zones", (("country", "VARCHAR"), ("zone", "VARCHAR")),
                     zones_table_rows())
    for name, values in compiler.list_params(catalogue).items():
        engine.load_rows(compiler.LIST_TABLE.format(name=name), (("value", "VARCHAR"),),
                         [[v.strip().lower() if name == "cover_phrases" else v.strip()]
                          for v in values])


def _weights(catalogue: Catalogue, role: str, model: Weights | None) -> Weights:
    if model is None:
        card = scorecard_weights(catalogue, role)
        return Weights(role, card.intercept, card.scale, card.weight,
                       scorer=f"scorecard {catalogue.digest()}")
    unknown = set(model.weight) - {i.id for i in catalogue.for_role(role)}
    if unknown:
        raise DetectionError(f"the {role} model uses indicators the catalogue lacks: "
                             f"{sorted(unknown)}", fix="retrain it: sentinelle model train")
    return model


# ---------------------------------------------------------------------------- parties
_STATIC_KINDS = ("aggregate", "identifiers", "referral", "sessions")


def _static_sql(catalogue: Catalogue, role: str, dialect: Dialect) -> str:
    """Every party of ``role`` with its own measures and strengths (not the network's)."""
    provider, key = compiler.PARTY_KEYS[role]
    cols, strengths = [], []
    for i in catalogue.for_role(role):
        if i.kind == "aggregate":
            cols.append(f"m.m_{i.id}")
            cols.append(f"{dialect.cast('NULL', 'VARCHAR')} AS d_{i.id}")
        elif i.kind == "identifiers":
            cols += [f"coalesce(id.m, 0) AS m_{i.id}", f"id.detail AS d_{i.id}"]
        elif i.kind == "referral":
            cols += [f"coalesce(r.m, 0) AS m_{i.id}", f"r.detail AS d_{i.id}"]
        elif i.kind == "sessions":
            cols += [f"coalesce(se.m, 0) AS m_{i.id}", f"se.detail AS d_{i.id}"]
        if i.kind in _STATIC_KINDS:
            strengths.append(i)
    ident = ("LEFT JOIN det_ident id ON id.provider = m.provider AND id.party_id = m."
             + key) if role == "facilitator" else ""
    scorecard = scorecard_weights(catalogue, role)
    return f"""
WITH base AS (
  SELECT m.{provider} AS provider, m.{key} AS party_id, m.name, m.country, m.payments, m.eur,
         m.last_s, coalesce(r.m, 0) > 0 AS referred, {", ".join(cols)}
  FROM det_m_{role} m {ident}
  LEFT JOIN det_ref r ON r.role = '{role}' AND r.provider = m.{provider}
   AND r.party_id = m.{key}
  LEFT JOIN det_sess se ON se.role = '{role}' AND se.provider = m.{provider}
   AND se.party_id = m.{key}
), strong AS (
  SELECT *, {", ".join(f"{compiler.strength_sql(i, 'm_' + i.id, 'payments')} AS s_{i.id}"
                        for i in strengths)}
  FROM base
)
SELECT *, {points_sql(scorecard, strengths)} AS beh_points,
       {score_sql(scorecard, points_sql(scorecard, strengths))} AS q0
FROM strong"""


def _party_sql(catalogue: Catalogue, role: str, weights: Weights, with_network: bool) -> str:
    """The party table the network reads: static columns, network measure, and ``q``."""
    nets = catalogue.for_role(role, "network")
    if not with_network or not nets:
        extra = ", ".join(f"CAST(NULL AS DOUBLE) AS m_{i.id}, 0.0 AS s_{i.id}" for i in nets)
        return (f"SELECT st.*, {extra + ', ' if extra else ''}st.q0 AS q "
                f"FROM det_static_{role} st")
    cols = ", ".join(f"n.m AS m_{i.id}, {compiler.strength_sql(i, 'n.m', 'st.payments')} "
                     f"AS s_{i.id}" for i in nets)
    points = "st.beh_points + " + " + ".join(
        f"{weights.of(i)!r} * {compiler.strength_sql(i, 'n.m', 'st.payments')}" for i in nets)
    return f"""
SELECT st.*, {cols}, {score_sql(weights, points)} AS q
FROM det_static_{role} st LEFT JOIN det_net_{role} n
  ON n.provider = st.provider AND n.party_id = st.party_id"""


def _network_detail(role: str, dialect: Dialect) -> str:
    def text(expr: str) -> str:
        return dialect.cast(expr, "VARCHAR")

    if role == "buyer":
        return ("CASE WHEN n.top_beneficiary IS NULL THEN NULL ELSE "
                "coalesce(f.name, '?') || ' (' || n.top_beneficiary || ', ' || "
                "coalesce(f.country, '?') || ')' || CASE WHEN n.top_referred THEN "
                "', named in a referral' ELSE '' END || ', also paid by ' || "
                f"{text('n.other_suspects')} || ' other suspected sender(s)' || "
                f"CASE WHEN n.other_referred > 0 THEN ', ' || {text('n.other_referred')} "
                "|| ' of them referred' ELSE '' END END")
    return ("CASE WHEN n.top_sender IS NULL THEN NULL ELSE "
            f"{text('n.suspects')} || ' sender(s) who look like buyers' || "
            f"CASE WHEN n.referred > 0 THEN ' (' || {text('n.referred')} || "
            "' referred)' ELSE '' END || ', strongest ' || n.top_sender || ' at ' || "
            f"{dialect.fixed('n.top_q', 2)} END")


def _final_sql(catalogue: Catalogue, role: str, weights: Weights,
               dialect: Dialect) -> str:
    """Final strengths (network from the last round), points, score and contributions."""
    indicators = catalogue.for_role(role)
    nets = [i for i in indicators if i.kind == "network"]
    join_f = ("LEFT JOIN det_static_facilitator f ON f.provider = p.provider "
              "AND f.party_id = n.top_beneficiary") if role == "buyer" else ""
    net_cols = "".join(f", {_network_detail(role, dialect)} AS d_{i.id}" for i in nets)
    total = points_sql(weights, indicators)
    points = ", ".join(f"{weights.of(i)!r} * s_{i.id} AS p_{i.id}" for i in indicators)
    return f"""
WITH p AS (
  SELECT p.*{net_cols}
  FROM det_party_{role} p
  LEFT JOIN det_net_{role} n ON n.provider = p.provider AND n.party_id = p.party_id {join_f}
), scored AS (
  SELECT *, {points}, {total} AS points, {score_sql(weights, total)} AS score FROM p
)
SELECT *, CAST({base_score(weights)!r} AS DOUBLE) AS base,
       CAST(row_number() OVER (ORDER BY {comparable("score")} DESC,
                               CAST(eur AS DECIMAL(18, 2)) DESC, provider, party_id)
            AS BIGINT) AS rank
FROM scored"""


def _contributions_sql(catalogue: Catalogue, dialect: Dialect) -> str:
    parts = []
    for role in ROLES:
        for i in catalogue.for_role(role):
            contribution = (f"CASE WHEN points = 0 THEN 0.0 "
                            f"ELSE (score - base) * p_{i.id} / points END")
            reason = compiler.reason_sql(i, catalogue, dialect, f"m_{i.id}", "payments",
                                         f"d_{i.id}")
            parts.append(
                f"SELECT '{role}' AS role, provider, party_id, {dialect.literal(i.id)} "
                f"AS indicator, CAST(m_{i.id} AS DOUBLE) AS value, s_{i.id} AS strength, "
                f"p_{i.id} AS points, {contribution} AS contribution, {reason} AS reason "
                f"FROM det_final_{role} WHERE s_{i.id} > 0")
    return "\nUNION ALL\n".join(parts)


def _scores_sql(dialect: Dialect, scorers: dict[str, str]) -> str:
    listed = dialect.ordered_text_agg(
        "reason || ' (' || " + dialect.signed("contribution", 2) + " || ')'",
        f"{comparable('contribution')} DESC, indicator", "; ")
    parts = " UNION ALL ".join(
        f"SELECT '{role}' AS role, provider, party_id, name, country, payments, eur, "
        f"last_s, score, base, points, rank, {dialect.literal(scorers[role])} AS scorer "
        f"FROM det_final_{role}" for role in ROLES)
    return f"""
WITH s AS ({parts}),
r AS (SELECT role, provider, party_id, {listed} AS reasons FROM det_new_contributions
      GROUP BY role, provider, party_id)
SELECT s.*, coalesce(r.reasons, '') AS reasons
FROM s LEFT JOIN r USING (role, provider, party_id)"""


# ---------------------------------------------------------------------------- evidence
def _evidence(engine: Engine, catalogue: Catalogue) -> None:
    """The payments behind each fired indicator of each alert."""
    dialect = engine.dialect
    parts = [compiler.evidence_sql(catalogue, i, dialect) for i in catalogue.indicators
             if i.kind == "aggregate"]
    fired = ("SELECT e.* FROM ({u}) e JOIN det_new_contributions c ON c.role = e.role AND "
             "c.provider = e.provider AND c.party_id = e.party_id AND c.indicator = e.indicator")
    network_parts = []
    suspect = compiler.number(catalogue.values["suspect_threshold"], "suspect_threshold")
    for i in catalogue.indicators:
        if i.kind != "network":
            continue
        if i.party == "buyer":
            # Payments to the beneficiaries that make this sender a lead.
            network_parts.append(f"""
SELECT 'buyer' AS role, a.provider, a.party_id, {dialect.literal(i.id)} AS indicator,
       p.txn_provider,
       p.txn_id
FROM det_alert_parties a
JOIN det_net_buyer n ON n.provider = a.provider AND n.party_id = a.party_id
JOIN det_payments p ON p.provider = a.provider AND p.sender_id = a.party_id
 AND p.beneficiary_id = n.top_beneficiary
WHERE a.role = 'buyer'""")
        else:
            # Payments received from senders who look like buyers.
            network_parts.append(f"""
SELECT 'facilitator' AS role, a.provider, a.party_id, {dialect.literal(i.id)} AS indicator,
       p.txn_provider, p.txn_id
FROM det_alert_parties a
JOIN det_payments p ON p.provider = a.provider AND p.beneficiary_id = a.party_id
JOIN det_party_buyer s ON s.provider = p.provider AND s.party_id = p.sender_id
WHERE a.role = 'facilitator' AND (s.q >= {suspect} OR s.referred)""")
    union = "\nUNION ALL\n".join(parts + network_parts
                                 + sessions.session_evidence_sql(catalogue, dialect))
    engine.temp_table("det_new_evidence", fired.format(u=union))


# ---------------------------------------------------------------------------- web
def _web_lookups(engine: Engine) -> None:
    """The indexes the web application's lookups use (DuckDB), and each alert's corridors
    (a facilitator's country; the countries a buyer pays), which the queue shows and
    filters on and would otherwise find by reading the buyer's payments. The indexes on
    the results are built once they are published."""
    d = engine.dialect
    engine.index(only=["transactions"])
    engine.temp_table("det_alert_corridors", f"""
        SELECT 'buyer' AS role, t.provider, t.sender_id AS party_id,
               {d.sorted_distinct_list("t.beneficiary_country")} AS corridors
        FROM det_txn t SEMI JOIN det_alert_parties a
          ON a.role = 'buyer' AND a.provider = t.provider AND a.party_id = t.sender_id
        GROUP BY ALL
        UNION ALL
        SELECT s.role, s.provider, s.party_id,
               CASE WHEN s.country IS NULL THEN {d.text_list()} ELSE {d.text_list("s.country")}
               END
        FROM det_new_scores s SEMI JOIN det_alert_parties a USING (role, provider, party_id)
        WHERE s.role = 'facilitator'""")


# ---------------------------------------------------------------------------- publish
def _publish(engine: Engine, run: DetectionRun, catalogue: Catalogue, user: str,
             started: datetime) -> None:
    """Replace the previous run's results at once (engine.publish), and log the run."""
    d = engine.dialect
    now = datetime.now(UTC).replace(tzinfo=None)
    lead = compiler.number(catalogue.values["lead_threshold"], "lead_threshold")
    tables: dict[str, str | None] = {
        # Stored in key order: a lookup of one party (the web application's subject page,
        # its counterparties) then reads one block instead of every score.
        "det_scores": f"""
            SELECT '{run.run_id}' AS run_id, role, provider, party_id, name, country,
                   payments, CAST(eur AS DECIMAL(18, 2)) AS eur,
                   {d.timestamp_from_epoch("last_s")} AS last_payment_at,
                   score, base, points, rank, reasons, scorer
            FROM det_new_scores ORDER BY role, provider, party_id""",
        "det_contributions": """
            SELECT * FROM det_new_contributions ORDER BY role, provider, party_id,
                   contribution DESC""",
        # An alert carries what the queue shows and filters on, so that a page of the
        # queue reads this table alone.
        "det_alerts": f"""
            SELECT '{run.run_id}' AS run_id, CAST(row_number() OVER (
                   ORDER BY {comparable("s.score")} DESC, s.role, s.provider, s.party_id)
                   AS BIGINT) AS alert_no, s.role, s.provider, s.party_id,
                   s.score, s.rank, s.reasons, s.name, s.country, s.payments,
                   CAST(s.eur AS DECIMAL(18, 2)) AS eur,
                   {d.timestamp_from_epoch("s.last_s")} AS last_payment_at,
                   coalesce(c.corridors, {d.text_list()}) AS corridors
            FROM det_new_scores s JOIN det_alert_parties a USING (role, provider, party_id)
            LEFT JOIN det_alert_corridors c USING (role, provider, party_id)
            ORDER BY alert_no""",
        "det_links": f"""
            SELECT e.provider, e.sender_id, e.beneficiary_id, e.payments,
                   CAST(e.eur AS DECIMAL(18, 2)) AS eur, e.family,
                   s.score AS sender_score, b.score AS beneficiary_score,
                   coalesce(sp.referred, false) AS sender_referred,
                   coalesce(bp.referred, false) AS beneficiary_referred
            FROM det_edges e
            JOIN det_final_buyer s ON s.provider = e.provider AND s.party_id = e.sender_id
            JOIN det_final_facilitator b
              ON b.provider = e.provider AND b.party_id = e.beneficiary_id
            LEFT JOIN det_static_buyer sp
              ON sp.provider = e.provider AND sp.party_id = e.sender_id
            LEFT JOIN det_static_facilitator bp
              ON bp.provider = e.provider AND bp.party_id = e.beneficiary_id
            WHERE s.score >= {lead} OR b.score >= {lead}
            ORDER BY e.provider, e.beneficiary_id, e.sender_id""",
        "det_evidence": """
            SELECT e.role, e.provider, e.party_id, e.indicator, e.txn_provider, e.txn_id
            FROM det_new_evidence e ORDER BY e.role, e.provider, e.party_id, e.indicator,
                 e.txn_provider, e.txn_id""",
        "det_referral_matches": """
            SELECT * FROM det_new_referral_matches
            ORDER BY referral_id, source, role, provider, party_id""",
        # Which provider's parties each subject holds: the subject page reads its
        # payments, and a counterparty its subject, through this table (None: dropped).
        "det_subject_parties": """
            SELECT DISTINCT 'sender' AS side, txn_provider AS provider,
                   sender_party AS party_id, sender_id AS subject_id FROM det_txn
            UNION
            SELECT DISTINCT 'beneficiary', txn_provider, beneficiary_party, beneficiary_id
            FROM det_txn
            ORDER BY subject_id, side, provider, party_id""" if run.subjects else None,
    }
    counts = {"parties": run.parties, "alerts": run.alerts, "seconds": run.seconds,
              "subjects": run.subjects}
    logged = [run.run_id, started, now, user, run.scorer, catalogue.digest(),
              json.dumps(catalogue.values, sort_keys=True), json.dumps(counts)]
    engine.publish(run.run_id, tables, {"det_runs": (RUN_COLUMNS, [logged])})


__all__ = ["PUBLISHED", "RUN_COLUMNS", "STEPS", "DetectionRun", "detect", "ensure_tables"]
