"""What every command shares: consoles, the --db option, opening the warehouse."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from sentinelle.settings import resolve
from sentinelle.warehouse import Warehouse, open_warehouse
from sentinelle.warehouse.connection import require_existing

console = Console()
error_console = Console(stderr=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Warehouse file (default: ./sentinelle.duckdb, or $SENTINELLE_DB)."),
]


@contextmanager
def warehouse(db: Path | None, read_only: bool = False,
              viewing: tuple[str, str | None] | None = None) -> Iterator[Warehouse]:
    """Open the warehouse. ``viewing`` — (command, detail) — marks a command that shows rows
    about people: the access is written to ``access_log`` under the user's name first."""
    settings = resolve({"db": str(db) if db else None})
    if viewing:
        require_existing(settings["db"])
    wh = open_warehouse(settings["db"], settings["memory_limit"], settings["threads"],
                        read_only=read_only and not viewing)
    if viewing:
        wh.record_access(settings["user"], *viewing)
    try:
        yield wh
    finally:
        wh.close()


def progress_bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def print_counts(title: str, counts: Mapping[str, int], what: str = "table") -> None:
    """A table of names and their row counts, as status, synth and results load print."""
    table = RichTable(title=title)
    table.add_column(what)
    table.add_column("rows", justify="right")
    for name, rows in counts.items():
        table.add_row(name, f"{rows:,}")
    console.print(table)
