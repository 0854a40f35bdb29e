"""What every command shares: consoles, the --db option, opening the warehouse."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

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
