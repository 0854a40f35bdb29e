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
from sentinelle.errors import SentinelleError

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
        error_console.print("[bold red]Error:[/] ", end="")
        error_console.print(str(exc), markup=False, highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        error_console.print("Interrupted; the warehouse keeps only the files that completed.")
        sys.exit(130)
