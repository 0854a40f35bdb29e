"""``sentinelle model``: train the glass-box model on judged cases, see what it would
change, adopt it. Models are kept in the case database; what is done here is audited
under the operating-system user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from sentinelle.cli.common import DbOption, console, error_console, warehouse
from sentinelle.cli.detect import IndicatorsOption
from sentinelle.cli.review import UrlOption, _cases
from sentinelle.errors import LabelsError

if TYPE_CHECKING:
    from sentinelle.review.models import ModelVersion

app = typer.Typer(help="The glass-box model: train on decisions or outcomes, preview, adopt.",
                  no_args_is_help=True)

_SHOWN = 5


@app.command("train")
def train(
    labels: Annotated[Path | None, typer.Option(
        "--labels", help="CSV of judged cases: party_id,role,label (and optionally "
        "provider). Without it, the team's decisions in the case database are the labels.")]
    = None,
    indicators: IndicatorsOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Train a logistic regression per role over the latest run's indicator strengths and
    keep it as a candidate; every coefficient is shown and every score stays explained."""
    from sentinelle.detect import load_catalogue
    from sentinelle.detect.model import read_labels
    from sentinelle.review import learning

    catalogue = load_catalogue(indicators)
    cases = read_labels(labels) if labels else None  # a bad file is refused first
    with _cases(database_url, db) as (session, actor), warehouse(db) as wh:
        judged = cases if cases is not None else learning.labels_from_decisions(session)
        source = str(labels) if labels else "decisions"
        if not judged:
            raise LabelsError("there are no decided alerts to learn from yet",
                              fix="escalate or clear alerts in the web application, or "
                                  "pass --labels FILE")
        made = learning.train_candidates(wh, session, catalogue, judged, actor=actor,
                                         source=source)
        for version in made:
            _show(version)
            missing = json.loads(version.quality).get("not_in_warehouse", 0)
            if missing:
                error_console.print(f"{missing:,} labelled {version.role}(s) are not in the "
                                    "warehouse and were left out.")
        console.print("See what a candidate would change: sentinelle model preview ID; "
                      "adopt it: sentinelle model adopt ID; then sentinelle detect "
                      "--scorer model.")


def _show(version: ModelVersion) -> None:
    out = RichTable(title=f"Model v{version.id}, {version.role}s ({version.status}; "
                    "log-odds at full strength)")
    out.add_column("indicator")
    out.add_column("coefficient", justify="right")
    coefficients = json.loads(version.coefficients)
    for ident, value in sorted(coefficients.items(), key=lambda kv: -abs(kv[1])):
        out.add_row(ident, f"{value:+.3f}")
    out.add_row("[i](intercept)", f"{version.intercept:+.3f}")
    console.print(out)
    q = json.loads(version.quality)
    console.print(
        f"{q['n_labels']:,} labelled {version.role}s ({q['n_positive']:,} positive), "
        f"C = {q['c']:g}; over {q['folds']} folds: average precision "
        f"{q['average_precision']:.3f} (a random ranking: {q['positive_share']:.3f}), "
        f"Brier score {q['brier']:.3f}. Trained by {version.trained_by} on "
        f"{version.source} at {version.trained_at:%Y-%m-%d %H:%M} UTC.")


@app.command("list")
def list_models(db: DbOption = None, database_url: UrlOption = None) -> None:
    """Every model trained: candidate, adopted or retired."""
    from sentinelle.review import learning

    with _cases(database_url, db) as (session, _):
        table = RichTable(title="Models")
        for col in ("v", "role", "status", "trained", "by", "labels", "CV average precision",
                    "adopted"):
            table.add_column(col)
        for v in learning.versions(session):
            q = json.loads(v.quality)
            table.add_row(str(v.id), v.role, v.status, f"{v.trained_at:%Y-%m-%d %H:%M}",
                          v.trained_by, f"{v.n_labels:,} ({v.n_positive:,}+)",
                          f"{q['average_precision']:.3f}",
                          f"{v.adopted_at:%Y-%m-%d %H:%M} by {v.adopted_by}"
                          if v.adopted_at else "")
        console.print(table)


@app.command("preview")
def preview(
    version: Annotated[int, typer.Argument(help="The model version (sentinelle model list).")],
    indicators: IndicatorsOption = None,
    db: DbOption = None,
    database_url: UrlOption = None,
    limit: Annotated[int, typer.Option(help="Parties to list each way.")] = 10,
) -> None:
    """What adopting a candidate would change in the latest run's alerts."""
    from sentinelle.detect import load_catalogue
    from sentinelle.review import learning

    with _cases(database_url, db) as (session, _), \
            warehouse(db, viewing=("model preview", f"v{version}")) as wh:
        p = learning.preview(wh, session, version, load_catalogue(indicators), limit)
    console.print(f"Model v{p.version} ({p.role}s), alert threshold {p.threshold:g}: "
                  f"{p.alerts_now:,} alerts today, {p.alerts_then:,} with it — "
                  f"{p.new_count:,} new, {p.dropped_count:,} dropped.")
    for title, rows in (("Would become alerts", p.new), ("Would stop being alerts",
                                                         p.dropped)):
        if not rows:
            continue
        table = RichTable(title=title)
        for col in ("party", "name", "country", "score today", "with the model"):
            table.add_column(col)
        for c in rows:
            table.add_row(c.party_id, c.name or "", c.country or "", f"{c.current:.2f}",
                          f"{c.candidate:.2f}")
        console.print(table)


@app.command("adopt")
def adopt(
    version: Annotated[int, typer.Argument(help="The candidate to adopt.")],
    db: DbOption = None,
    database_url: UrlOption = None,
) -> None:
    """Make a candidate its role's model; the next `sentinelle detect --scorer model` uses
    it and records its version with every score."""
    from sentinelle.review import learning

    with _cases(database_url, db) as (session, actor):
        v = learning.adopt(session, version, actor=actor)
        console.print(f"Model v{v.id} is now the {v.role}s' model. Score with it: "
                      "sentinelle detect --scorer model")


__all__ = ["app"]
