"""``sentinelle train``: fit the glass-box model on the organisation's judged cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, error_console, warehouse
from sentinelle.cli.detect import IndicatorsOption
from sentinelle.settings import resolve

_SHOWN = 5


def train(
    labels: Annotated[Path, typer.Option(
        "--labels", help="CSV of judged cases: party_id,role,label (and optionally provider).")],
    indicators: IndicatorsOption = None,
    db: DbOption = None,
    user: Annotated[str | None, typer.Option(
        "--user", help="Who trains, for provenance (default: the user setting).")] = None,
) -> None:
    """Train a logistic regression per role on labelled outcomes, over the latest run's
    indicator strengths; every coefficient is shown and every score stays explained."""
    from sentinelle.detect import load_catalogue
    from sentinelle.detect.model import read_labels
    from sentinelle.detect.model import train as fit

    settings = resolve({"db": str(db) if db else None, "user": user})
    cases = read_labels(labels)  # a bad file is refused before the warehouse is opened
    catalogue = load_catalogue(indicators)  # for the indicator ids: pass detect's files
    with warehouse(db) as wh:
        models = fit(wh, catalogue, cases, user=settings["user"], labels_file=str(labels))
    for role, m in models.items():
        out = RichTable(title=f"{role.capitalize()} model (log-odds at full strength)")
        out.add_column("indicator")
        out.add_column("coefficient", justify="right")
        for ident, value in sorted(m.coefficients.items(), key=lambda kv: -abs(kv[1])):
            out.add_row(ident, f"{value:+.3f}")
        out.add_row("[i](intercept)", f"{m.intercept:+.3f}")
        console.print(out)
        q = m.quality
        console.print(
            f"{q.n_labels:,} labelled {role}s ({q.n_positive:,} positive), C = {q.c:g}; "
            f"over {q.folds} folds: average precision {q.average_precision:.3f} "
            f"(a random ranking: {q.positive_share:.3f}), Brier score {q.brier:.3f}.")
        if m.missing:
            error_console.print(
                f"{len(m.missing):,} labelled {role}(s) not in the warehouse, left "
                f"out: {', '.join(m.missing[:_SHOWN])}{', …' if len(m.missing) > _SHOWN else ''}",
                markup=False, highlight=False)
    console.print("Score with it: sentinelle detect --scorer model")
