"""``sentinelle detect``, ``alerts``, ``explain``, ``indicators`` and ``export scores``."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, progress_bar, warehouse
from sentinelle.detect import load_catalogue
from sentinelle.detect.catalogue import KINDS, ROLES, Catalogue
from sentinelle.detect.priority import ACTIVE_DAYS, PARTS, prioritise
from sentinelle.detect.run import STEPS
from sentinelle.detect.run import detect as run_detection
from sentinelle.errors import DetectionError
from sentinelle.settings import resolve
from sentinelle.warehouse import Warehouse
from sentinelle.warehouse.engine import DuckDBEngine, Engine, SparkEngine, export_parquet

ENGINES = ("duckdb", "spark")

IndicatorsOption = Annotated[list[Path] | None, typer.Option(
    "--indicators", help="An organisation's own indicator file (YAML), added to the "
    "built-in catalogue; repeatable.")]
ParamOption = Annotated[list[str] | None, typer.Option(
    "--param", help="Override a parameter (NAME=VALUE, lists comma-separated) or an "
    "indicator's ID.weight / ID.fires_from / ID.full_at / ID.support; repeatable.")]
RoleOption = Annotated[str | None, typer.Option(
    "--role", help="buyer or facilitator (default: both).")]

export_app = typer.Typer(help="Write results to files for other tools; every export is "
                         "recorded in the access log.", no_args_is_help=True)


def _catalogue(indicators: list[Path] | None, params: list[str] | None) -> Catalogue:
    return load_catalogue(indicators or [], params or [])


def _roles(role: str | None) -> tuple[str, ...]:
    if role is None:
        return ROLES
    if role not in ROLES:
        raise DetectionError(f"unknown role {role!r}", fix="use buyer or facilitator")
    return (role,)


def _require_run(wh: Warehouse) -> None:
    exists = wh.scalar("SELECT count(*) FROM information_schema.tables "
                       "WHERE table_name = 'det_scores'")
    if not exists:
        raise DetectionError("detection has not been run on this warehouse",
                             fix="sentinelle detect")


def detect(
    db: DbOption = None,
    indicators: IndicatorsOption = None,
    param: ParamOption = None,
    scorer: Annotated[str, typer.Option(
        help="scorecard (the declared weights) or model (the adopted glass-box model of each "
        "role that has one; see sentinelle model).")] = "scorecard",
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="The case database holding the adopted models (default: "
        "the SQLite file beside the warehouse).")] = None,
    timings: Annotated[bool, typer.Option("--timings", help="Show each step's time.")]
    = False,
    subjects: Annotated[bool | None, typer.Option(
        "--subjects/--parties", help="Score the subjects entity resolution found, or each "
        "provider's parties (default: subjects once sentinelle resolve has run, else "
        "parties; see docs/resolve.md).",
        show_default=False)] = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="duckdb (the warehouse file) or spark (Parquet: --input and "
        "--output); default: the setting engine.", show_default=False)] = None,
    input_dir: Annotated[str | None, typer.Option(
        "--input", help="Spark: the directory or Hadoop-compatible URI (hdfs://, s3a://, "
        "abfss://, gs://) of the Parquet tables to read (sentinelle export parquet "
        "--out DIR writes them).")] = None,
    output_dir: Annotated[str | None, typer.Option(
        "--output", help="Spark: the directory or URI to publish results in: "
        "DIR/runs/ID/ holds each run's tables, DIR/CURRENT the id of the last, "
        "DIR/det_runs/ every run (sentinelle results load DIR reads them into the "
        "warehouse).")] = None,
) -> None:
    """Score every sender as a buyer and every beneficiary as a facilitator; raise alerts."""
    catalogue = _catalogue(indicators, param)
    settings = resolve({"db": str(db) if db else None, "engine": engine})
    models = _adopted(scorer, database_url, Path(settings["db"]))
    with _engine(settings["engine"], db, input_dir, output_dir) as target, \
            progress_bar() as bar:
        task = bar.add_task("detection", total=len(STEPS))

        def on_step(name: str) -> None:
            bar.update(task, description=name, completed=STEPS.index(name))

        run = run_detection(target, catalogue, user=settings["user"], models=models,
                            on_step=on_step, subjects=subjects)
        bar.update(task, description="done", completed=len(STEPS))
    table = RichTable(title=f"Detection run {run.run_id} ({run.scorer})")
    for col in ("role", "subjects scored" if run.subjects else "parties scored", "alerts"):
        table.add_column(col, justify="left" if col == "role" else "right")
    for role in ROLES:
        table.add_row(role, f"{run.parties[role]:,}", f"{run.alerts[role]:,}")
    console.print(table)
    if timings:
        steps = RichTable(title="Time per step")
        steps.add_column("step")
        steps.add_column("seconds", justify="right")
        for name, seconds in run.seconds.items():
            steps.add_row(name, f"{seconds:.1f}")
        console.print(steps)
    console.print("Top alerts: sentinelle alerts; one party in full: sentinelle explain ID.")


@contextmanager
def _engine(name: str, db: Path | None, input_dir: str | None,
            output_dir: str | None) -> Iterator[Engine]:
    """The engine detection runs on; Spark (and pyspark) only when asked for."""
    if name not in ENGINES:
        raise DetectionError(f"unknown engine {name!r} (option --engine, setting engine)",
                             fix="use " + " or ".join(ENGINES))
    if name == "duckdb":
        if input_dir or output_dir:
            raise DetectionError("--input and --output are for --engine spark",
                                 fix="DuckDB reads and writes the warehouse: use --db")
        with warehouse(db) as wh:
            yield DuckDBEngine(wh)
        return
    if input_dir is None or output_dir is None:
        raise DetectionError("--engine spark reads Parquet and writes Parquet",
                             fix="add --input DIR (sentinelle export parquet --out DIR "
                                 "writes it) and --output DIR")
    from sentinelle.warehouse.spark import session_for_command

    session: Any
    with session_for_command() as session:
        yield SparkEngine(session, input_dir, output_dir)


def _adopted(scorer: str, database_url: str | None, warehouse_path: Path) -> dict | None:
    """The adopted models, read from the case database, when scoring with the model."""
    if scorer == "scorecard":
        return None
    if scorer != "model":
        raise DetectionError(f"unknown scorer {scorer!r}", fix="use scorecard or model")
    from sentinelle.review import learning
    from sentinelle.review.db import database_url as case_url
    from sentinelle.review.db import open_cases

    engine, sessions = open_cases(case_url(database_url, warehouse_path))
    try:
        with sessions() as session:
            models = learning.adopted_models(session)
    finally:
        engine.dispose()
    if not models:
        raise DetectionError("no glass-box model has been adopted yet",
                             fix="sentinelle model train, sentinelle model adopt ID; or use "
                                 "the scorecard")
    return models


def alerts(
    db: DbOption = None,
    role: RoleOption = None,
    limit: Annotated[int, typer.Option(help="Alerts to show per role.")] = 10,
    reasons: Annotated[int, typer.Option(help="Reasons to show per alert.")] = 3,
) -> None:
    """The top alerts with the reasons behind each score."""
    roles = _roles(role)
    with warehouse(db, viewing=("alerts", f"role={role or 'all'} limit={limit}")) as wh:
        _require_run(wh)
        for r in roles:
            rows = wh.execute(
                """SELECT a.alert_no, s.party_id, s.provider, s.name, s.country, s.payments,
                          s.eur, s.score, s.rank, s.reasons
                   FROM det_alerts a JOIN det_scores s USING (role, provider, party_id)
                   WHERE a.role = ? ORDER BY s.rank LIMIT ?""", [r, limit]).fetchall()
            total = wh.scalar("SELECT count(*) FROM det_alerts WHERE role = ?", [r])
            table = RichTable(title=f"Top {len(rows)} of {total:,} {r} alerts",
                              show_lines=True)
            table.add_column("rank", justify="right", no_wrap=True)
            table.add_column("party", no_wrap=True)
            table.add_column("score", justify="right", no_wrap=True)
            table.add_column("why (contribution to the score)", ratio=1, min_width=30)
            for _, pid, provider, name, country, payments, eur, score, rank, why in rows:
                shown = "\n".join("• " + w for w in why.split("; ")[:reasons])
                table.add_row(str(rank), f"{pid} [dim]{provider}[/]\n{name or ''} "
                              f"({country or '?'})\n{payments:,} payments, EUR {eur:,.0f}",
                              f"{score:.2f}", shown)
            console.print(table)
    console.print("The evidence behind each reason: sentinelle explain PARTY_ID --role ROLE.")


def explain(
    party_id: Annotated[str, typer.Argument(help="The sender or beneficiary id.")],
    role: Annotated[str, typer.Option(help="buyer or facilitator.")] = "buyer",
    db: DbOption = None,
    provider: Annotated[str | None, typer.Option(help="The provider, when ids repeat.")]
    = None,
    evidence: Annotated[int, typer.Option(help="Evidence transactions to list per "
                                          "indicator.")] = 5,
) -> None:
    """One party's score as a sum: the base, each indicator's contribution, its evidence."""
    _roles(role)
    with warehouse(db, viewing=("explain", f"{role} {party_id}")) as wh:
        _require_run(wh)
        found = wh.execute(
            """SELECT provider, name, country, payments, eur, score, base, rank
               FROM det_scores WHERE role = ? AND party_id = ? AND (? IS NULL OR provider = ?)
               ORDER BY provider""", [role, party_id, provider, provider]).fetchall()
        if not found:
            raise DetectionError(f"no {role} {party_id!r} in the last detection run",
                                 fix="check the id and --role (buyer = sender, "
                                     "facilitator = beneficiary)")
        if len(found) > 1:
            raise DetectionError(f"{party_id!r} exists under several providers",
                                 fix="add --provider: " + ", ".join(f[0] for f in found))
        prov, name, country, payments, eur, score, base, rank = found[0]
        parts = wh.execute(
            """SELECT indicator, value, strength, points, contribution, reason
               FROM det_contributions WHERE role = ? AND provider = ? AND party_id = ?
               ORDER BY contribution DESC""", [role, prov, party_id]).fetchall()
        ev = wh.execute(
            """SELECT e.indicator, t.txn_id, t.timestamp, t.timestamp_offset_min,
                      t.amount, t.currency, t.sender_id, t.beneficiary_id,
                      t.beneficiary_country, t.description, f.path, t.source_line
               FROM det_evidence e
               JOIN transactions t ON t.provider = e.provider AND t.txn_id = e.txn_id
               JOIN ingest_files f ON f.file_id = t.source_file_id
               WHERE e.role = ? AND e.provider = ? AND e.party_id = ?
               ORDER BY e.indicator, t.timestamp""", [role, prov, party_id]).fetchall()
    console.print(f"[b]{role} {party_id}[/] ({prov}) {name or ''} {country or ''}: "
                  f"{payments:,} payments, EUR {eur:,.2f}; score {score:.3f}, rank {rank:,}")
    table = RichTable(title="The score as a sum")
    for col in ("indicator", "measure", "strength", "points", "contribution", "reason"):
        table.add_column(col, overflow="fold",
                         justify="left" if col in ("indicator", "reason") else "right")
    table.add_row("base", "", "", "", f"{base:.3f}", "the score with no indicator firing")
    for ind, value, strength, points, contribution, reason in parts:
        table.add_row(ind, f"{value:.3g}", f"{strength:.2f}", f"{points:.2f}",
                      f"{contribution:+.3f}", reason)
    table.add_row("[b]score", "", "", "", f"[b]{score:.3f}", "")
    console.print(table)
    by_indicator: dict[str, list[tuple]] = {}
    for row in ev:
        by_indicator.setdefault(row[0], []).append(row)
    if not by_indicator:
        console.print("No evidence stored: evidence is kept for alerts only.")
    for ind, rows in by_indicator.items():
        table = RichTable(title=f"Evidence for {ind}: {len(rows):,} transaction(s)")
        for col in ("txn", "time (UTC)", "offset", "amount", "from", "to", "description",
                    "source"):
            table.add_column(col, overflow="fold")
        for _, txn, ts, off, amount, cur, s, b, bc, desc, path, line in rows[:evidence]:
            table.add_row(txn, f"{ts:%Y-%m-%d %H:%M}", f"{off or 0:+d} min",
                          f"{amount:,.2f} {cur}", s, f"{b} ({bc})", desc or "",
                          f"{Path(path).name}:{line}")
        console.print(table)


def network(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Hubs to show.")] = 10,
    senders: Annotated[int, typer.Option(help="Senders to list per hub.")] = 5,
) -> None:
    """Facilitator hubs: the beneficiaries paid by the most suspected buyers, and who they are."""
    with warehouse(db, viewing=("network", f"limit={limit}")) as wh:
        _require_run(wh)
        threshold = float(json.loads(wh.scalar(
            "SELECT parameters FROM det_runs ORDER BY started_at DESC LIMIT 1"))
            ["alert_threshold"])
        hubs = wh.execute(
            """SELECT l.provider, l.beneficiary_id, any_value(s.name), any_value(s.country),
                      max(l.beneficiary_score),
                      count(*) FILTER (WHERE l.sender_score >= ?) AS suspects,
                      count(*) FILTER (WHERE l.sender_referred) AS referred,
                      count(*) FILTER (WHERE l.sender_score < ? AND NOT l.family) AS leads,
                      sum(l.payments) FILTER (WHERE l.sender_score >= ?),
                      sum(l.eur) FILTER (WHERE l.sender_score >= ?)
               FROM det_links l JOIN det_scores s ON s.role = 'facilitator'
                AND s.provider = l.provider AND s.party_id = l.beneficiary_id
               GROUP BY l.provider, l.beneficiary_id
               HAVING count(*) FILTER (WHERE l.sender_score >= ?) > 0
               ORDER BY suspects DESC, max(l.beneficiary_score) DESC LIMIT ?""",
            [threshold] * 5 + [limit]).fetchall()
        who = {}
        for provider, bid, *_ in hubs:
            who[(provider, bid)] = wh.execute(
                """SELECT l.sender_id, s.name, s.country, l.sender_score, l.payments, l.eur,
                          l.sender_referred
                   FROM det_links l JOIN det_scores s ON s.role = 'buyer'
                    AND s.provider = l.provider AND s.party_id = l.sender_id
                   WHERE l.provider = ? AND l.beneficiary_id = ? AND NOT l.family
                   ORDER BY l.sender_score DESC LIMIT ?""", [provider, bid, senders]).fetchall()
    table = RichTable(title=f"Facilitator hubs (senders scoring ≥ {threshold:g} count as "
                      "suspected buyers)", show_lines=True)
    table.add_column("beneficiary", no_wrap=True)
    table.add_column("score", justify="right")
    table.add_column("suspected / referred / other senders", justify="right")
    table.add_column("from suspects", justify="right")
    table.add_column("strongest senders", ratio=1, min_width=30)
    for provider, bid, name, country, score, suspects, referred, leads, n, eur in hubs:
        listed = "\n".join(
            f"{sid} {sname or ''} ({scountry or '?'}) {sscore:.2f}"
            + (", referred" if sref else "") + f", {spay} payments, EUR {seur:,.0f}"
            for sid, sname, scountry, sscore, spay, seur, sref in who[(provider, bid)])
        table.add_row(f"{bid} [dim]{provider}[/]\n{name or ''} ({country or '?'})",
                      f"{score:.2f}", f"{suspects} / {referred} / {leads}",
                      f"{n:,} payments\nEUR {eur:,.0f}", listed)
    console.print(table)
    console.print("Every link with either side scoring ≥ lead_threshold is in det_links.")


def indicators(
    indicators: IndicatorsOption = None,
    param: ParamOption = None,
) -> None:
    """The indicator catalogue: what each indicator looks for, its source and weight."""
    catalogue = _catalogue(indicators, param)
    for role in ROLES:
        table = RichTable(title=f"{role.capitalize()} indicators", show_lines=True)
        for col in ("id", "title", "fires", "weight", "source"):
            table.add_column(col, overflow="fold")
        for i in catalogue.for_role(role):
            table.add_row(f"{i.id}\n[dim]{i.kind}", i.title,
                          f"{i.fires_from:g} → {i.full_at:g}", f"{i.weight:g}", i.source)
        console.print(table)
    params = RichTable(title="Parameters (--param NAME=VALUE)")
    for col in ("name", "value", "meaning"):
        params.add_column(col, overflow="fold")
    for name, p in catalogue.parameters.items():
        value = catalogue.values[name]
        params.add_row(name, ", ".join(map(str, value)) if isinstance(value, list)
                       else str(value), p.help)
    console.print(params)
    console.print("Kinds: " + "; ".join(f"{k}: {v}" for k, v in KINDS.items()))


@export_app.command("scores")
def export_scores(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    db: DbOption = None,
    role: RoleOption = None,
) -> None:
    """Every scored party: party_id, role, score, rank, reasons (and provider)."""
    roles = _roles(role)
    with warehouse(db, viewing=("export scores", str(out))) as wh:
        _require_run(wh)
        cursor = wh.execute(
            f"""SELECT party_id, role, score, rank, reasons, provider FROM det_scores
                WHERE role IN ({", ".join("?" for _ in roles)}) ORDER BY role, rank""",
            list(roles))
        out.parent.mkdir(parents=True, exist_ok=True)
        n = 0
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["party_id", "role", "score", "rank", "reasons", "provider"])
            while batch := cursor.fetchmany(50_000):
                writer.writerows((p, r, f"{s:.6f}", k, why, prov)
                                 for p, r, s, k, why, prov in batch)
                n += len(batch)
    console.print(f"wrote {n:,} scored parties to {out}")


@export_app.command("parquet")
def export_parquet_tables(
    out: Annotated[Path, typer.Option("--out", help="Directory to write NAME.parquet in.")],
    db: DbOption = None,
) -> None:
    """The tables detection reads, as Parquet files for sentinelle detect --engine spark.

    transactions and referrals; comm_sessions, er_records and er_clusters where they exist.
    """
    with warehouse(db, viewing=("export parquet", str(out))) as wh:
        written = export_parquet(wh, out)
    for path in written:
        console.print(f"wrote {path}")




def subjects(
    db: DbOption = None,
    limit: Annotated[int, typer.Option(help="Subjects to show.")] = 20,
    as_of: Annotated[datetime | None, typer.Option(
        "--as-of", help="The day priority is computed for (default: the latest payment in "
        "the warehouse).", formats=["%Y-%m-%d"])] = None,
    active_days: Annotated[int, typer.Option(
        help="A facilitator paid within this many days is still receiving money.", min=1)]
    = ACTIVE_DAYS,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a "
                                          "table.")] = False,
) -> None:
    """Alerted subjects by priority — children at risk now first, then score, referrals,
    recency and volume — with the reason for each rank."""
    with warehouse(db, viewing=("subjects", f"limit={limit}")) as wh:
        _require_run(wh)
        ranked = prioritise(wh, as_of, active_days)
    if as_json:
        for p in ranked[:limit]:
            typer.echo(json.dumps(p.as_dict(), default=str))
        return
    table = RichTable(title=f"Top {min(limit, len(ranked))} of {len(ranked):,} subjects by "
                      "priority", show_lines=True)
    table.add_column("rank", justify="right", no_wrap=True)
    table.add_column("subject", no_wrap=True)
    table.add_column("priority", justify="right", no_wrap=True)
    table.add_column("why (points)", ratio=1, min_width=30)
    for p in ranked[:limit]:
        table.add_row(str(p.rank), f"{p.party_id} [dim]{p.provider}[/]\n{p.name or ''} "
                      f"({p.country or '?'})\n{', '.join(p.roles)}", f"{p.priority:.0f}",
                      "\n".join("• " + r for r in p.reasons))
    console.print(table)
    console.print("Points: " + "; ".join(f"{part.name} {part.points:g} — {part.help}"
                                         for part in PARTS))


COMMANDS: list[Callable[..., None]] = [detect, alerts, subjects, explain, network,
                                       indicators]
