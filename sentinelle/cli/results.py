"""``sentinelle results``: a Spark detection run's results, brought to the warehouse."""

from __future__ import annotations

from typing import Annotated

import typer

from sentinelle.cli.common import DbOption, console, error_console, print_counts, warehouse
from sentinelle.settings import resolve

app = typer.Typer(help="Results published by sentinelle detect --engine spark.",
                  no_args_is_help=True)


@app.command("load")
def load(
    results: Annotated[str, typer.Argument(
        help="The --output directory of sentinelle detect --engine spark (a local path; "
        "copy a remote one here first).")],
    db: DbOption = None,
) -> None:
    """Load the current run in RESULTS into the warehouse, as sentinelle detect publishes.

    The det_* tables are replaced in one transaction and indexed; det_loads records who
    loaded which run, from where and when. Then alerts, explain, network and the web
    application read it."""
    from sentinelle.detect.results import load_results

    user = resolve()["user"]
    with warehouse(db) as wh:
        loaded = load_results(wh, results, user=user)
    print_counts(f"Run {loaded.run_id} loaded from {loaded.source}", loaded.rows)
    if loaded.evidence_missing:
        error_console.print(f"{loaded.evidence_missing:,} evidence rows name payments this "
                            "warehouse does not hold: the run read other data. Load it "
                            "into the warehouse that holds the payments it read (sentinelle "
                            "export parquet --out DIR gives the input from there).")
    console.print("Top alerts: sentinelle alerts; one party in full: sentinelle explain ID.")
