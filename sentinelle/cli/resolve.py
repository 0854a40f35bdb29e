"""``sentinelle resolve``: one subject for every person behind many records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, error_console, progress_bar, warehouse
from sentinelle.cli.review import UrlOption, _cases, _url
from sentinelle.resolve import DEFAULT_THRESHOLD, STEPS
from sentinelle.resolve import resolve as run_resolution
from sentinelle.resolve.run import THRESHOLD_HELP
from sentinelle.resolve.run import recluster as recluster_pairs
from sentinelle.settings import resolve as resolve_settings

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
) -> None:
    """Link senders, beneficiaries and referral subjects that are the same person;
    people's judgements (the web application's Resolution page) outrank the model. Run
    sentinelle detect afterwards to score the subjects."""
    settings = resolve_settings({"db": str(db) if db else None,
                                 "resolve_threshold": threshold})
    threshold = float(settings["resolve_threshold"])
    judged = _judgements(database_url, db)
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
        largest = wh.execute("""
            SELECT c.subject_id, c.cluster_size,
                   string_agg(DISTINCT r.kind, ', ' ORDER BY r.kind) AS kinds,
                   string_agg(DISTINCT r.name, ', ' ORDER BY r.name) AS names
            FROM er_clusters c JOIN er_records r USING (record_id)
            WHERE c.cluster_size > 1
            GROUP BY ALL ORDER BY c.cluster_size DESC, c.subject_id LIMIT ?""",
                             [LARGEST]).fetchall()
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
    console.print("Each pair's explanation, field by field: the er_pairs table "
                  "(docs/resolve.md), and the Resolution page of the web application.")


def _contradictions(found: list[tuple[str, str]]) -> None:
    for a, b in found:
        error_console.print(f"Judged not the same, yet joined through records judged the "
                            f"same: {a} and {b}. Review the judgements on the Resolution page.")


COMMANDS = [resolve]
