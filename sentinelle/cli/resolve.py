"""``sentinelle resolve``: one subject for every person behind many records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, error_console, progress_bar, warehouse
from sentinelle.cli.review import UrlOption, _cases, _url
from sentinelle.errors import SentinelleError
from sentinelle.resolve import DEFAULT_THRESHOLD, STEPS, ResolveRun
from sentinelle.resolve import resolve as run_resolution
from sentinelle.resolve.run import THRESHOLD_HELP, largest_sql
from sentinelle.resolve.run import recluster as recluster_pairs
from sentinelle.settings import resolve as resolve_settings
from sentinelle.warehouse.dialect import DUCKDB

LARGEST = 10


def _judgements(database_url: str | None, db: Path | None) -> dict[tuple[str, str], str]:
    """People's judgements from the case database (none when it does not exist yet)."""
    from sentinelle.review import judgements

    url = _url(database_url, db)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return {}
    with _cases(database_url, db) as (session, _):
        return judgements.effective(session)


def resolve(
    db: DbOption = None,
    threshold: Annotated[float | None, typer.Option(
        help=THRESHOLD_HELP + " Default: the setting resolve_threshold "
        f"({DEFAULT_THRESHOLD:g}).", show_default=False)] = None,
    recluster: Annotated[bool, typer.Option(
        "--recluster", help="Apply people's judgements to the last run's pairs without "
        "training the model again (seconds).")] = False,
    database_url: UrlOption = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="duckdb (the warehouse file) or spark (Parquet: --input and "
        "--output); default: the setting engine.", show_default=False)] = None,
    input_dir: Annotated[str | None, typer.Option(
        "--input", help="Spark: the directory or Hadoop-compatible URI of the Parquet "
        "tables to read (sentinelle export parquet --out DIR writes them).")] = None,
    output_dir: Annotated[str | None, typer.Option(
        "--output", help="Spark: the directory or URI to write er_*.parquet in; the "
        "input's, for sentinelle detect --engine spark --input DIR to score "
        "subjects.")] = None,
) -> None:
    """Link senders, beneficiaries and referral subjects that are the same person;
    people's judgements (the web application's Resolution page) outrank the model. Run
    sentinelle detect afterwards to score the subjects."""
    settings = resolve_settings({"db": str(db) if db else None,
                                 "resolve_threshold": threshold, "engine": engine})
    threshold = float(settings["resolve_threshold"])
    judged = _judgements(database_url, db)
    if settings["engine"] != "duckdb" or input_dir or output_dir:
        _on_spark(settings, threshold, recluster, judged, input_dir, output_dir)
        return
    if recluster:
        with warehouse(db, viewing=("resolve", "recluster")) as wh:
            result = recluster_pairs(wh, judged, threshold)
        console.print(f"Clustered again with {len(judged):,} judgement(s): "
                      f"{result.joined_by_judgement:,} join(s) by judgement, "
                      f"{result.joined_by_model:,} by the model, "
                      f"{result.refused_by_judgement:,} model pair(s) kept apart by people; "
                      f"{len(set(result.subjects.values())):,} subjects.")
        _contradictions(result.contradictions)
        return
    # The command shows names: the access is recorded first, like every view of people.
    with warehouse(db, viewing=("resolve", f"threshold {threshold}")) as wh, \
            progress_bar() as bar:
        task = bar.add_task("entity resolution", total=len(STEPS))

        def on_step(name: str) -> None:
            bar.update(task, description=name, completed=STEPS.index(name))

        run = run_resolution(wh, threshold, user=settings["user"],
                             threads=settings["threads"], on_step=on_step, judgements=judged)
        bar.update(task, description="done", completed=len(STEPS))
        largest = wh.execute(largest_sql(DUCKDB, LARGEST)).fetchall()
    _summary(run, threshold, largest)


def _on_spark(settings: dict, threshold: float, recluster: bool,
              judged: dict[tuple[str, str], str], input_dir: str | None,
              output_dir: str | None) -> None:
    """Entity resolution on Spark, from Parquet to Parquet (pyspark imported only here)."""
    if settings["engine"] not in ("duckdb", "spark"):
        raise SentinelleError(f"unknown engine {settings['engine']!r} (option --engine, "
                              "setting engine)", fix="use duckdb or spark")
    if settings["engine"] == "duckdb" or input_dir is None or output_dir is None:
        raise SentinelleError("entity resolution on Spark reads Parquet and writes Parquet",
                              fix="use --engine spark --input DIR --output DIR "
                                  "(sentinelle export parquet --out DIR writes DIR)")
    if recluster:
        raise SentinelleError("--recluster reads the last run's pairs in the warehouse",
                              fix="run it without --engine spark, or run the whole "
                                  "resolution on Spark again")
    from sentinelle.resolve.spark_run import resolve_on_spark
    from sentinelle.warehouse.publish import child, location_uri
    from sentinelle.warehouse.spark import collect, session_for_command
    from sentinelle.warehouse.spark_dialect import SPARK

    with session_for_command() as session, progress_bar() as bar:
        task = bar.add_task("entity resolution on Spark", total=len(STEPS))

        def on_step(name: str) -> None:
            bar.update(task, description=name, completed=STEPS.index(name))

        run = resolve_on_spark(session, input_dir, output_dir, threshold,
                               user=settings["user"], on_step=on_step, judgements=judged)
        bar.update(task, description="done", completed=len(STEPS))
        for name in ("er_records", "er_clusters"):
            session.read.parquet(child(location_uri(output_dir), f"{name}.parquet")
                                 ).createOrReplaceTempView(name)
        largest = collect(session, largest_sql(SPARK, LARGEST))
    _summary(run, threshold, largest)
    console.print(f"Written to {output_dir}: er_records, er_pairs, er_levels and er_clusters "
                  "(.parquet), and the run in er_runs/.")


def _summary(run: ResolveRun, threshold: float, largest: list) -> None:
    summary = RichTable(title=f"Entity resolution run {run.run_id} (threshold {threshold})")
    for col in ("records", "pairs compared", "subjects", "judgements applied"):
        summary.add_column(col, justify="right")
    summary.add_row(f"{run.records:,}", f"{run.pairs:,}", f"{run.subjects:,}",
                    f"{run.judgements:,}")
    console.print(summary)
    table = RichTable(title="Largest subjects")
    for col in ("subject", "records", "kinds", "names"):
        table.add_column(col, justify="right" if col == "records" else "left")
    for subject, size, kinds, names in largest:
        table.add_row(subject, str(size), kinds, names or "")
    console.print(table)
    if run.clustering:
        _contradictions(run.clustering.contradictions)
        if run.clustering.placed_by_date:
            console.print(f"{run.clustering.placed_by_date:,} referral subject(s) matched "
                          "namesakes the fields could not tell apart and joined the one "
                          "active when the tip arrived: check them on the Resolution page.")
        if run.clustering.ambiguous_referrals:
            console.print(f"{run.clustering.ambiguous_referrals:,} referral subject(s) match "
                          "two or more namesakes the fields and the tip's date cannot tell "
                          "apart and were left alone: their pairs are on the Resolution "
                          "page for a person to judge.")
    console.print("Each pair's explanation, field by field: the er_pairs table "
                  "(docs/resolve.md), and the Resolution page of the web application.")


def _contradictions(found: list[tuple[str, str]]) -> None:
    for a, b in found:
        error_console.print(f"Judged not the same, yet joined through records judged the "
                            f"same: {a} and {b}. Review the judgements on the Resolution page.")


COMMANDS = [resolve]
