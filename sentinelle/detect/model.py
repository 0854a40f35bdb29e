"""The glass-box model: a logistic regression trained on an organisation's own outcomes.

Why it stays a glass box. Its inputs are the indicators' strengths (0 to 1) that the
scorecard already explains, not raw data; its output is
``sigmoid(intercept + sum(coefficient x strength))``, the scorecard's formula with the
coefficients in place of the weights. Each coefficient reads as "log-odds added by this
indicator at full strength" (negative when the organisation's outcomes say it points
away from abuse), and each score splits into ``base + one contribution per indicator``
exactly as the scorecard's does (``sentinelle.detect.scoring``), so an analyst reads a
model score the same way. Strengths are not rescaled, so the coefficients stay in those
units. The penalty is L2 (ridge), which shrinks without dropping indicators.

The labels are the organisation's judged cases (``read_labels``, or the decisions made in
the web application); the features are the strengths of the latest detection run
(``features``); ``fit`` returns one model per role, which the case database keeps as a
candidate until a supervisor adopts it, and ``detect(..., models=...)`` then scores with.
The probability is calibrated to the labelled cases' mix of positives, not to the
population's.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sentinelle.detect.catalogue import ROLES, Catalogue
from sentinelle.errors import DetectionError, LabelsError
from sentinelle.warehouse import Warehouse

if TYPE_CHECKING:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

LABEL_VALUES = {"1": True, "true": True, "yes": True, "confirmed": True,
                "0": False, "false": False, "no": False, "cleared": False}
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
RANDOM_STATE = 0
_COLUMNS = ("party_id", "role", "label")
_FIX = ("a CSV with the header party_id,role,label (and optionally provider); role is "
        "buyer or facilitator; label is 1/0, true/false, yes/no or confirmed/cleared")
_SHOWN = 5  # ids quoted in a message; the count says how many there are in all

Key = tuple[str, str]  # (provider, party_id)


@dataclass(frozen=True)
class Label:
    """One judged case: was this party, in this role, what the indicators suggest?"""

    party_id: str
    role: str
    label: bool
    provider: str | None = None
    line: int = 0


@dataclass(frozen=True)
class Quality:
    """How well the model ranks cases it did not see (stratified k-fold, out of fold)."""

    n_labels: int
    n_positive: int
    c: float
    folds: int
    average_precision: float
    brier: float
    positive_share: float  # what a random ranking's average precision would be
    not_in_warehouse: int
    run_id: str


@dataclass(frozen=True)
class TrainedModel:
    role: str
    intercept: float
    coefficients: dict[str, float]
    quality: Quality
    missing: list[str] = field(default_factory=list)  # labelled ids the warehouse lacks


def read_labels(path: Path | str) -> list[Label]:
    """Every row of an outcomes file, checked; one ``LabelsError`` lists all problems."""
    path = Path(path)
    problems: list[str] = []
    first: tuple[int, str, str] | None = None  # (line, column, value) of the first problem
    labels: list[Label] = []
    seen: dict[tuple[str | None, str, str], Label] = {}

    def problem(line: int, column: str, value: str, why: str) -> None:
        nonlocal first
        first = first or (line, column, value)
        problems.append(f"line {line}, column {column!r}: {why} ({value!r})")

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in _COLUMNS if c not in header]
            if missing:
                raise LabelsError(f"the labels file lacks the column(s) {', '.join(missing)}",
                                  file=str(path), line=1, value=",".join(header), fix=_FIX)
            reader.fieldnames = header
            for row in reader:
                line = reader.line_num
                text = {k: (row.get(k) or "").strip() for k in (*_COLUMNS, "provider")}
                found = len(problems)
                if not text["party_id"]:
                    problem(line, "party_id", text["party_id"], "empty")
                if text["role"].lower() not in ROLES:
                    problem(line, "role", text["role"], "must be buyer or facilitator")
                value = LABEL_VALUES.get(text["label"].lower())
                if value is None:
                    problem(line, "label", text["label"],
                            "must be 1/0, true/false, yes/no or confirmed/cleared")
                if len(problems) > found or value is None:
                    continue
                label = Label(text["party_id"], text["role"].lower(), value,
                              text["provider"] or None, line)
                key = (label.provider, label.party_id, label.role)
                if key in seen and seen[key].label != label.label:
                    problem(line, "label", text["label"],
                            f"contradicts line {seen[key].line} for {label.party_id}")
                    continue
                if key not in seen:
                    seen[key] = label
                    labels.append(label)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise LabelsError(f"cannot read the labels file: {error}", file=str(path),
                          fix=_FIX) from error
    if problems:
        assert first is not None
        raise LabelsError(f"the labels file has {len(problems)} problem(s)", file=str(path),
                          line=first[0], column=first[1], value=first[2], details=problems,
                          fix=_FIX)
    if not labels:
        raise LabelsError("the labels file has no rows", file=str(path), fix=_FIX)
    return labels


def features(wh: Warehouse, role: str, catalogue: Catalogue | None = None,
             ) -> tuple[list[Key], np.ndarray, list[str]]:
    """Every scored party of ``role`` and the strength of each of its indicators.

    Columns are the catalogue's indicators for the role when one is given (an indicator
    that never fired is a column of zeros), otherwise those the latest run saw fire.
    """
    import numpy as np

    latest_run(wh)
    keys: list[Key] = [(p, i) for p, i in wh.execute(
        "SELECT provider, party_id FROM det_scores WHERE role = ? ORDER BY provider, party_id",
        [role]).fetchall()]
    rows = wh.execute("SELECT provider, party_id, indicator, strength FROM det_contributions "
                      "WHERE role = ? AND strength > 0", [role]).fetchall()
    fired = sorted({r[2] for r in rows})
    ids = [i.id for i in catalogue.for_role(role)] if catalogue else fired
    unknown = sorted(set(fired) - set(ids))
    if unknown:
        raise DetectionError(f"the latest detection run used {role} indicators this "
                             f"catalogue lacks: {unknown}",
                             fix="pass the same indicator files as to sentinelle detect")
    row_of = {k: n for n, k in enumerate(keys)}
    col_of = {ident: n for n, ident in enumerate(ids)}
    matrix = np.zeros((len(keys), len(ids)))
    for provider, party_id, indicator, strength in rows:
        matrix[row_of[(provider, party_id)], col_of[indicator]] = strength
    return keys, matrix, ids


def fit(wh: Warehouse, catalogue: Catalogue, labels: list[Label], *,
        source: str = "labels") -> dict[str, TrainedModel]:
    """Fit one model per role that has labels, over the latest detection run's strengths.

    Nothing is written: the case database keeps trained models as candidates until a
    supervisor adopts one (``sentinelle.review.learning``)."""
    run_id = latest_run(wh)
    models: dict[str, TrainedModel] = {}
    for role in ROLES:
        mine = [label for label in labels if label.role == role]
        if mine:
            models[role] = _train_role(wh, catalogue, role, mine, run_id)
    if not models:
        raise LabelsError("the labels name no buyer and no facilitator", file=source)
    return models


def score_with(model: TrainedModel, matrix: np.ndarray, ids: list[str]) -> np.ndarray:
    """The model's probability for each row of a strength matrix (columns ``ids``)."""
    import numpy as np

    weights = np.array([model.coefficients.get(i, 0.0) for i in ids])
    return 1.0 / (1.0 + np.exp(-(model.intercept + matrix @ weights)))


def latest_run(wh: Warehouse) -> str:
    """The id of the detection run whose scores the warehouse holds."""
    tables = {r[0] for r in wh.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    run_id = (wh.scalar("SELECT max(run_id) FROM det_scores")
              if {"det_scores", "det_contributions"} <= tables else None)
    if run_id is None:
        raise DetectionError("training needs the strengths of a detection run, and this "
                             "warehouse has none", fix="sentinelle detect first, then train")
    return str(run_id)


def _train_role(wh: Warehouse, catalogue: Catalogue, role: str, labels: list[Label],
                run_id: str) -> TrainedModel:
    import numpy as np
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    keys, matrix, ids = features(wh, role, catalogue)
    rows, y, missing = _match(keys, labels, role)
    positives = int(sum(y))
    if min(positives, len(y) - positives) < 2:
        raise LabelsError(
            f"the {role} labels that match a scored party hold {positives} positive and "
            f"{len(y) - positives} negative case(s); training needs at least 2 of each"
            + (f" ({len(missing)} labelled {role}s are not in the warehouse)" if missing else ""),
            fix=f"label more {role}s, or leave them out of the file to keep the scorecard")
    x, target = matrix[rows], np.array(y, dtype=int)
    # A few columns: threaded BLAS only adds contention (measured 50x slower on 2 cores).
    with threadpool_limits(limits=1):
        c, folds, ap, brier = _choose_c(x, target)
        fitted = _model(c).fit(x, target)
    intercept = float(fitted.intercept_[0])
    coefficients = {ident: float(v) for ident, v in zip(ids, fitted.coef_[0], strict=True)}
    if not all(math.isfinite(v) for v in [intercept, *coefficients.values()]):
        raise DetectionError(f"the {role} model did not converge to finite coefficients",
                             fix="check the labels; the scorecard still works")
    quality = Quality(len(y), positives, c, folds, ap, brier, positives / len(y),
                      len(missing), run_id)
    return TrainedModel(role, intercept, coefficients, quality, missing)


def _match(keys: list[Key], labels: list[Label], role: str,
           ) -> tuple[list[int], list[bool], list[str]]:
    """Rows of the feature matrix each label names; labels of unknown parties set aside."""
    row_of = {k: n for n, k in enumerate(keys)}
    by_id: dict[str, list[int]] = {}
    for (_, party_id), n in row_of.items():
        by_id.setdefault(party_id, []).append(n)
    chosen: dict[int, Label] = {}
    missing, ambiguous, contradictions = [], [], []
    for label in labels:
        if label.provider is None:
            found = by_id.get(label.party_id, [])
        else:
            row = row_of.get((label.provider, label.party_id))
            found = [] if row is None else [row]
        if not found:
            missing.append(label.party_id)
        elif len(found) > 1:
            ambiguous.append(label.party_id)
        elif found[0] in chosen and chosen[found[0]].label != label.label:
            contradictions.append(f"line {label.line} contradicts line "
                                  f"{chosen[found[0]].line} for {label.party_id}")
        else:
            chosen.setdefault(found[0], label)
    if ambiguous:
        contradictions.append(f"{len(ambiguous)} id(s) held by more than one provider: "
                              f"{', '.join(ambiguous[:_SHOWN])}")
    if contradictions:
        raise LabelsError(f"some {role} labels do not name one party, or disagree",
                          details=contradictions,
                          fix="add a provider column; keep one label per party")
    rows = sorted(chosen)
    return rows, [chosen[n].label for n in rows], missing


def _model(c: float) -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    # The default penalty is L2; naming it is deprecated in recent scikit-learn.
    return LogisticRegression(C=c, max_iter=5000, random_state=RANDOM_STATE)


def _choose_c(x: np.ndarray, y: np.ndarray) -> tuple[float, int, float, float]:
    """The C of ``C_GRID`` with the best mean average precision over stratified folds,
    and that C's pooled out-of-fold average precision and Brier score. The figures are a
    little optimistic: C was chosen on the same folds.

    Equal average precisions (every C ranking the folds perfectly is common) are told
    apart by the Brier score: the same ranking, with the better-calibrated probability,
    which is what the alert threshold reads."""
    from sklearn.metrics import average_precision_score, brier_score_loss
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_validate

    folds = min(5, int(min(y.sum(), len(y) - y.sum())))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=RANDOM_STATE)
    ranked = []
    for c in C_GRID:
        s = cross_validate(_model(c), x, y, cv=cv,
                           scoring=("average_precision", "neg_brier_score"))
        ranked.append((-round(float(s["test_average_precision"].mean()), 9),
                       -float(s["test_neg_brier_score"].mean()), c))
    best = min(ranked)[2]
    p = cross_val_predict(_model(best), x, y, cv=cv, method="predict_proba")[:, 1]
    return best, folds, float(average_precision_score(y, p)), float(brier_score_loss(y, p))


__all__ = ["Label", "Quality", "TrainedModel", "features", "fit", "latest_run", "read_labels",
           "score_with"]
