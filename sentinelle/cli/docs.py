"""``sentinelle docs``: generate the reference pages from the declarations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentinelle.cli.common import console

app = typer.Typer(help="Reference pages generated from the declarations.", no_args_is_help=True)

FolderOption = Annotated[Path, typer.Option(help="Documentation folder.")]


@app.command()
def build(folder: FolderOption = Path("docs")) -> None:
    """Write docs/model.md, docs/settings.md and docs/cli.md."""
    from sentinelle.cli import app as root
    from sentinelle.docgen import pages

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pages(root).items():
        (folder / name).write_text(text, "utf-8")
        console.print(f"wrote {folder / name}")


@app.command()
def check(folder: FolderOption = Path("docs")) -> None:
    """Fail when a generated page is out of date."""
    from sentinelle.cli import app as root
    from sentinelle.docgen import stale

    out_of_date = stale(root, folder)
    if out_of_date:
        console.print("Out of date: " + ", ".join(out_of_date) + " — run: sentinelle docs build")
        raise typer.Exit(1)
    console.print("Reference pages are up to date.")
