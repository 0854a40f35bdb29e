"""``sentinelle mapping``: draft, check and list mappings for providers' own exports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import console

app = typer.Typer(help="Mappings that read a provider's own export as canonical transactions "
                  "(docs/mappings.md).", no_args_is_help=True)


@app.command()
def suggest(
    file: Annotated[Path, typer.Argument(help="The export (CSV, .xlsx or Parquet).")],
    encoding: Annotated[str, typer.Option(help="CSV encoding (auto: detected).")] = "auto",
    delimiter: Annotated[str, typer.Option(help="CSV delimiter (auto: sniffed).")] = "auto",
    skip_lines: Annotated[int, typer.Option(help="Lines above the header row.")] = 0,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet (default: the first).")] = None,
) -> None:
    """Draft a mapping from the header and a sample of rows; printed as YAML to check."""
    from sentinelle.ingest.suggest import suggest as draft

    print(draft(file, encoding=encoding, delimiter=delimiter, skip_lines=skip_lines,
                sheet=sheet), end="")


@app.command()
def check(mapping: Annotated[str, typer.Argument(
        help="Mapping file, or the name of a shipped mapping.")]) -> None:
    """Validate a mapping: every problem is listed at once."""
    from sentinelle.ingest.mapfile import load_mapping

    m = load_mapping(mapping)
    console.print(f"The mapping [b]{m.name}[/] is valid: customer {m.customer}, "
                  f"{len(m.fields)} fields; it reads the columns: "
                  + ", ".join(m.columns_used()), highlight=False)


@app.command("list")
def list_() -> None:
    """The mappings shipped with Sentinelle (usable by name with --mapping)."""
    from sentinelle.ingest.mapfile import load_mapping, shipped

    table = RichTable(title="Shipped mappings")
    for col in ("name", "description", "customer"):
        table.add_column(col)
    for name in shipped():
        m = load_mapping(name)
        table.add_row(name, m.description, m.customer)
    console.print(table)
