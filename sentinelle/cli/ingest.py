"""``sentinelle ingest``: load canonical files into the warehouse."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli import comms as comms_cli
from sentinelle.cli.common import DbOption, console, progress_bar, warehouse
from sentinelle.errors import SettingsError
from sentinelle.ingest import FileReport, ingest_paths
from sentinelle.settings import resolve
from sentinelle.warehouse.publish import local_path

ENGINES = ("duckdb", "spark")

app = typer.Typer(help="Load files into the warehouse; every row accepted or quarantined.",
                  no_args_is_help=True)

PathsArg = Annotated[list[str], typer.Argument(
    help="Files or folders (CSV or Parquet); with --engine spark also Hadoop-compatible URIs.")]


TimingsOption = Annotated[bool, typer.Option(
    "--timings", help="After the summary, show how long each step of each file took.")]
EngineOption = Annotated[str | None, typer.Option(
    "--engine", help="duckdb (the warehouse file) or spark (Parquet under --output); "
    "default: duckdb with --db, else the setting engine.", show_default=False)]
OutputOption = Annotated[str | None, typer.Option(
    "--output", help="Spark: the directory or Hadoop-compatible URI to write Parquet in "
    "(DIR/transactions.parquet, quarantine, cleaning notes, ingest_files), which "
    "sentinelle detect --engine spark --input DIR reads.")]


def _spark_output(engine: str, db: Path | None, output: str | None) -> str | None:
    """Where Spark writes, or None for the DuckDB warehouse; a wrong mix says why."""
    if engine not in ENGINES:
        raise SettingsError(f"unknown engine {engine!r} (option --engine, setting engine)",
                            fix="use " + " or ".join(ENGINES))
    if engine == "duckdb":
        if output is not None:
            raise SettingsError("--output is for --engine spark",
                                fix="DuckDB writes the warehouse: use --db")
        return None
    if output is None or db is not None:
        raise SettingsError("--engine spark writes Parquet under --output, not a warehouse",
                            fix="add --output DIR (and leave out --db)")
    return output


def _local(paths: list[str]) -> list[Path]:
    """The paths DuckDB reads: on this machine (a URI of another file system is Spark's)."""
    found = []
    for given in paths:
        here = local_path(given)
        if here is None:
            raise SettingsError(f"{given} is not on this machine",
                                fix="ingest it with --engine spark --output DIR, or copy "
                                    "it here first (for example hadoop fs -get)")
        found.append(here if given.startswith("file:") else Path(given))
    return found


def _run(table: str, paths: list[str], db: Path | None, timings: bool = False,
         engine: str | None = None, output: str | None = None, **options: object) -> None:
    if engine is None and db is not None:
        engine = "duckdb"  # a warehouse named on the command line is DuckDB's, whatever the setting
    settings = resolve({"db": str(db) if db else None, "engine": engine})
    spark_output = _spark_output(settings["engine"], db, output)
    local = _local(paths) if spark_output is None else []
    steps: list[tuple[str, str, float]] = []  # (file, step, started at)
    with ExitStack() as stack, progress_bar() as bar:
        files = bar.add_task("files", total=None)
        step = bar.add_task("", total=None)

        def on_file(path: Path, i: int, n: int) -> None:
            bar.update(files, description=f"file {i + 1} of {n}", completed=i, total=n)
            bar.update(step, description=f"  {path.name}")
            steps.append((path.name, "", time.perf_counter()))

        def on_step(what: str) -> None:
            bar.update(step, description=f"  {what}")
            steps.append((steps[-1][0] if steps else "", what, time.perf_counter()))

        if spark_output is None:
            wh = stack.enter_context(warehouse(db))
            reports = ingest_paths(wh, table, local, user=settings["user"], on_file=on_file,
                                   progress=on_step, **options)  # type: ignore[arg-type]
        else:  # pyspark only when asked for
            from sentinelle.ingest.spark import ingest_paths_spark
            from sentinelle.warehouse.spark import session_for_command

            session = stack.enter_context(session_for_command())
            reports = ingest_paths_spark(session, table, paths, spark_output,
                                         user=settings["user"], on_file=on_file,
                                         progress=on_step, **options)  # type: ignore[arg-type]
        bar.update(files, completed=len(reports), total=len(reports))
        bar.update(step, description="  done", visible=False)
        steps.append(("", "", time.perf_counter()))
    _print(reports)
    if timings:
        _print_timings(steps)
    if any(r.status == "refused" for r in reports):
        raise typer.Exit(1)


def _print_timings(steps: list[tuple[str, str, float]]) -> None:
    table = RichTable(title="Time per step")
    for col in ("file", "step", "seconds"):
        table.add_column(col, justify="right" if col == "seconds" else "left")
    for (name, what, start), (_, _, end) in zip(steps, steps[1:], strict=False):
        if what:
            table.add_row(name, what, f"{end - start:.1f}")
    console.print(table)


def _print(reports: list[FileReport]) -> None:
    table = RichTable(title="Ingestion")
    for col in ("file", "status", "read", "accepted", "quarantined"):
        table.add_column(col, justify="right" if col in ("read", "accepted", "quarantined")
                         else "left")
    for r in reports:
        table.add_row(r.path.name, r.status, f"{r.read:,}", f"{r.accepted:,}",
                      f"{r.quarantined:,}")
    total = [sum(getattr(r, k) for r in reports) for k in ("read", "accepted", "quarantined")]
    table.add_row("[b]total", "", *(f"[b]{n:,}" for n in total))
    console.print(table)
    done = [r for r in reports if r.status == "ingested"]
    if done and all(r.reconciles for r in done):
        console.print("Every file reconciles: rows read = accepted + quarantined.")
    for r in reports:
        if r.message:
            console.print(f"[yellow]{r.path}[/]: ", end="")
            console.print(r.message, markup=False, highlight=False)
    if sum(total[2:]):
        console.print("Quarantined rows: [b]sentinelle quarantine[/] lists them with reasons.")


@app.command()
def transactions(
    paths: PathsArg,
    db: DbOption = None,
    provider: Annotated[str | None, typer.Option(
        help="Provider for rows whose provider column is empty.")] = None,
    rates: Annotated[Path | None, typer.Option(
        help="CSV of dated EUR reference rates to use instead of the shipped table.")] = None,
    timings: TimingsOption = False,
    mapping: Annotated[str | None, typer.Option(
        help="Mapping file (or shipped mapping name) for a provider's own export: "
        "docs/mappings.md.")] = None,
    format: Annotated[str | None, typer.Option(
        "--format", help="iso20022 to read files as ISO 20022 messages whatever their "
        "suffix (.xml files are by default): docs/iso20022.md.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="With --mapping: the CSV's encoding, over the mapping's and detection.")] = None,
    delimiter: Annotated[str | None, typer.Option(
        help="With --mapping: the CSV's delimiter, over the mapping's and detection.")] = None,
    sheet: Annotated[str | None, typer.Option(
        help="With --mapping: the Excel sheet to read.")] = None,
    engine: EngineOption = None,
    output: OutputOption = None,
) -> None:
    """Ingest transaction files: the canonical layout (docs/model.md), a provider's export
    with --mapping (docs/mappings.md), or ISO 20022 XML (docs/iso20022.md)."""
    from sentinelle.ingest.mapfile import load_mapping
    from sentinelle.ingest.readers import ReadOptions, more_suffixes, stager_for

    if format not in (None, "iso20022"):
        raise typer.BadParameter("--format takes iso20022 (other layouts: --mapping)")
    settings = resolve({"provider": provider, "rates": str(rates) if rates else None})
    loaded = load_mapping(mapping) if mapping else None
    _run("transactions", paths, db, timings, default_provider=settings["provider"],
         rates=Path(settings["rates"]) if settings["rates"] else None,
         stager_for=stager_for(loaded, format, ReadOptions(encoding, delimiter, sheet)),
         more_suffixes=more_suffixes(loaded), engine=engine, output=output)


@app.command()
def referrals(paths: PathsArg, db: DbOption = None, timings: TimingsOption = False,
              engine: EngineOption = None, output: OutputOption = None) -> None:
    """Ingest referral files (tips from NCMEC, Interpol, Europol, an FIU, partner police)."""
    _run("referrals", paths, db, timings, engine=engine, output=output)


app.command("comms")(comms_cli.comms)  # chat and call exports: sentinelle/cli/comms.py
