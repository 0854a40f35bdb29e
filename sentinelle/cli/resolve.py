"""``sentinelle resolve``: one subject for every person behind many records."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, progress_bar, warehouse
from sentinelle.resolve import DEFAULT_THRESHOLD, STEPS
from sentinelle.resolve import resolve as run_resolution
from sentinelle.resolve.run import THRESHOLD_HELP
from sentinelle.settings import resolve as resolve_settings

LARGEST = 10


def resolve(
    db: DbOption = None,
    threshold: Annotated[float, typer.Option(help=THRESHOLD_HELP)] = DEFAULT_THRESHOLD,
) -> None:
    """Link senders, beneficiaries and referral subjects that are the same person."""
    settings = resolve_settings({"db": str(db) if db else None})
    # The command shows names: the access is recorded first, like every view of people.
    with warehouse(db, viewing=("resolve", f"threshold {threshold}")) as wh, \
            progress_bar() as bar:
        task = bar.add_task("entity resolution", total=len(STEPS))

        def on_step(name: str) -> None:
            bar.update(task, description=name, completed=STEPS.index(name))

        run = run_resolution(wh, threshold, user=settings["user"],
                             threads=settings["threads"], on_step=on_step)
        bar.update(task, description="done", completed=len(STEPS))
        largest = wh.execute("""
            SELECT c.subject_id, c.cluster_size,
                   string_agg(DISTINCT r.kind, ', ' ORDER BY r.kind) AS kinds,
                   string_agg(DISTINCT r.name, ', ' ORDER BY r.name) AS names
            FROM er_clusters c JOIN er_records r USING (record_id)
            WHERE c.cluster_size > 1
            GROUP BY ALL ORDER BY c.cluster_size DESC, c.subject_id LIMIT ?""",
                             [LARGEST]).fetchall()
    summary = RichTable(title=f"Entity resolution run {run.run_id} (threshold {threshold})")
    for col in ("records", "pairs compared", "subjects"):
        summary.add_column(col, justify="right")
    summary.add_row(f"{run.records:,}", f"{run.pairs:,}", f"{run.subjects:,}")
    console.print(summary)
    table = RichTable(title="Largest subjects")
    for col in ("subject", "records", "kinds", "names"):
        table.add_column(col, justify="right" if col == "records" else "left")
    for subject, size, kinds, names in largest:
        table.add_row(subject, str(size), kinds, names or "")
    console.print(table)
    console.print("Each pair's explanation, field by field: the er_pairs table "
                  "(docs/resolve.md).")


COMMANDS = [resolve]
