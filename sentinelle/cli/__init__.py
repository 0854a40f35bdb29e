"""The ``sentinelle`` command. Each group of commands lives in its own module."""

from __future__ import annotations

import sys

import typer

from sentinelle.cli import (
    bench,
    comms,
    detect,
    docs,
    ingest,
    mapping,
    model,
    report,
    resolve,
    results,
    review,
    synth,
    warehouse,
)
from sentinelle.cli.common import error_console
from sentinelle.cli.serve import serve
from sentinelle.errors import SentinelleError, WarehouseError

app = typer.Typer(
    name="sentinelle",
    help="Find the buyers and facilitators of livestreamed child abuse in payment data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(ingest.app, name="ingest")
app.add_typer(mapping.app, name="mapping")
app.add_typer(docs.app, name="docs")
app.command("synth")(synth.synth)
app.command("bench")(bench.bench)
app.add_typer(model.app, name="model")
app.command("serve")(serve)
app.add_typer(detect.export_app, name="export")
app.add_typer(review.db_app, name="db")
app.add_typer(review.users_app, name="users")
app.add_typer(review.audit_app, name="audit")
app.add_typer(report.app, name="report")
app.add_typer(results.app, name="results")
for command in warehouse.COMMANDS + detect.COMMANDS + resolve.COMMANDS:
    app.command()(command)
app.command("timeline")(comms.timeline_command)
app.command("sessions")(comms.sessions)

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except SentinelleError as exc:
        _print_error(exc)
        sys.exit(2)
    except Exception as exc:  # DuckDB reports a full disk as an error class of its own
        full = _disk_full(exc)
        if full is None:
            raise
        _print_error(full)
        sys.exit(2)
    except KeyboardInterrupt:
        error_console.print("Interrupted; the warehouse keeps only the files that completed.")
        sys.exit(130)


def _print_error(exc: SentinelleError) -> None:
    error_console.print("[bold red]Error:[/] ", end="")
    error_console.print(str(exc), markup=False, highlight=False)


def _disk_full(exc: BaseException) -> WarehouseError | None:
    """A full disk, said as such with what to change: DuckDB writes what does not fit in
    ``memory_limit`` to ``<warehouse>.tmp`` beside the warehouse, and large runs spill tens
    of gigabytes there. Any other error is left as it is."""
    text = str(exc)
    if "No space left on device" not in text:
        return None
    return WarehouseError(
        "the disk is full: the command stopped; the warehouse keeps what was committed "
        "before (each file ingested, each finished run)", value=text.splitlines()[0][:300],
        fix="free disk space beside the warehouse (DuckDB spills to WAREHOUSE.tmp), or give "
            "DuckDB more memory so that it spills less (SENTINELLE_MEMORY_LIMIT)")
