"""The indicator catalogue: declarations read from YAML, checked, with parameters resolved.

The built-in catalogue (``indicators.yaml``) and an organisation's own files go through
the same path, ``Catalogue.add_file``; every problem in a file is reported at once.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sentinelle.errors import CatalogueError

ROLES = ("buyer", "facilitator")
KINDS = {
    "aggregate": "computed in SQL over the party's payments",
    "identifiers": "computed from beneficiary records that share a phone or an account",
    "network": "propagated over the sender-beneficiary graph",
    "referral": "matched from referrals",
    "sessions": "counted from payments paired with the calls that followed them "
                "(comm_sessions, written by sentinelle sessions)",
}
_ID = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_PLACEHOLDER = re.compile(r"\{(\w+)(?::[^}]*)?\}")
_REASON_FIELDS = {"value", "payments", "detail"}


@dataclass(frozen=True)
class Parameter:
    name: str
    default: Any
    help: str
    source: str = ""


@dataclass(frozen=True)
class Indicator:
    id: str
    party: str
    kind: str
    title: str
    rationale: str
    source: str
    fires_from: float
    full_at: float
    weight: float
    reason: str
    measure: str = ""
    evidence: str = ""
    support: int = 1
    origin: str = "built-in"


@dataclass(frozen=True)
class Calibration:
    intercept: float
    scale: float


@dataclass
class Catalogue:
    parameters: dict[str, Parameter] = field(default_factory=dict)
    indicators: list[Indicator] = field(default_factory=list)
    calibration: dict[str, Calibration] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ building
    def add_file(self, path: Path | str, origin: str | None = None) -> None:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise CatalogueError(f"cannot read the indicator file: {exc}", file=str(path),
                                 fix="check the path and the YAML syntax") from exc
        self.add(data, origin or path.name, str(path))

    def add(self, data: dict[str, Any], origin: str, where: str) -> None:
        """Register the parameters, indicators and calibration of one declaration."""
        problems: list[str] = []
        if not isinstance(data, dict):
            raise CatalogueError("an indicator file must be a mapping", file=where)
        for name, raw in (data.get("parameters") or {}).items():
            if not isinstance(raw, dict) or "default" not in raw or "help" not in raw:
                problems.append(f"parameter {name!r} needs a default and a help line")
                continue
            if name in self.parameters:
                problems.append(f"parameter {name!r} is declared twice")
            self.parameters[name] = Parameter(name, raw["default"], str(raw["help"]),
                                              str(raw.get("source", "")))
            self.values[name] = raw["default"]
        known = {i.id for i in self.indicators}
        for n, raw in enumerate(data.get("indicators") or []):
            indicator = _indicator(raw, n, origin, problems)
            if indicator is None:
                continue
            if indicator.id in known:
                problems.append(f"indicator {indicator.id!r} is declared twice")
            known.add(indicator.id)
            self.indicators.append(indicator)
        for role, raw in (data.get("scorecard") or {}).items():
            if role not in ROLES or not isinstance(raw, dict):
                problems.append(f"scorecard entry {role!r} is not one of {ROLES}")
                continue
            self.calibration[role] = Calibration(float(raw.get("intercept", -7.0)),
                                                 float(raw.get("scale", 1.0)))
        problems += self._check_placeholders()
        if problems:
            raise CatalogueError("the indicator declarations are broken", file=where,
                                 details=problems,
                                 fix="correct the file; docs/indicators.md shows the format")

    def _check_placeholders(self) -> list[str]:
        problems = []
        for ind in self.indicators:
            for name in _PLACEHOLDER.findall(ind.reason):
                if name not in _REASON_FIELDS and name not in self.parameters:
                    problems.append(f"{ind.id}: reason names unknown {{{name}}}")
        return problems

    def override(self, assignments: list[str]) -> Catalogue:
        """A copy with ``NAME=VALUE`` (a shared parameter) or ``ID.FIELD=VALUE``
        (an indicator's fires_from, full_at, weight or support) applied."""
        out = Catalogue(dict(self.parameters), list(self.indicators), dict(self.calibration),
                        dict(self.values))
        problems: list[str] = []
        for text in assignments:
            name, sep, raw = text.partition("=")
            name = name.strip()
            if not sep:
                problems.append(f"{text!r} is not NAME=VALUE")
            elif "." in name:
                problems += out._override_indicator(name, raw.strip())
            elif name not in out.parameters:
                problems.append(f"no parameter named {name!r}")
            else:
                value = _coerce(out.parameters[name].default, raw.strip())
                if value is None:
                    problems.append(f"{name}={raw!r} is not a value of the right kind")
                else:
                    out.values[name] = value
        if problems:
            raise CatalogueError("some --param values are not valid", details=problems,
                                 fix="sentinelle indicators lists parameters and indicators")
        return out

    def _override_indicator(self, name: str, raw: str) -> list[str]:
        ident, _, attr = name.partition(".")
        found = [i for i in self.indicators if i.id == ident]
        if not found:
            return [f"no indicator named {ident!r}"]
        if attr not in ("fires_from", "full_at", "weight", "support"):
            return [f"{name}: only fires_from, full_at, weight and support can be changed"]
        try:
            value: float | int = int(raw) if attr == "support" else float(raw)
        except ValueError:
            return [f"{name}={raw!r} is not a number"]
        changes: dict[str, Any] = {attr: value}
        updated = replace(found[0], **changes)
        problem = _check_numbers(updated)
        if problem:
            return [problem]
        self.indicators = [updated if i.id == ident else i for i in self.indicators]
        return []

    # ------------------------------------------------------------------ reading
    def for_role(self, role: str, kind: str | None = None) -> list[Indicator]:
        return [i for i in self.indicators
                if i.party == role and (kind is None or i.kind == kind)]

    def get(self, ident: str) -> Indicator:
        for i in self.indicators:
            if i.id == ident:
                return i
        raise CatalogueError(f"no indicator named {ident!r}")

    def digest(self) -> str:
        """A fingerprint of everything that shapes the scores, stored with each run."""
        text = json.dumps([self.values, [vars(i) for i in self.indicators],
                           {r: vars(c) for r, c in self.calibration.items()}],
                          sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _indicator(raw: Any, n: int, origin: str, problems: list[str]) -> Indicator | None:
    if not isinstance(raw, dict):
        problems.append(f"indicator #{n + 1} is not a mapping")
        return None
    need = ["id", "party", "kind", "title", "rationale", "source", "fires_from", "full_at",
            "weight", "reason"]
    missing = [k for k in need if k not in raw]
    label = raw.get("id", f"#{n + 1}")
    if missing:
        problems.append(f"indicator {label!r} lacks {', '.join(missing)}")
        return None
    if not _ID.match(str(raw["id"])):
        problems.append(f"indicator id {raw['id']!r} must be lower_snake_case")
    if raw["party"] not in ROLES:
        problems.append(f"{label}: party must be one of {ROLES}, not {raw['party']!r}")
    if raw["kind"] not in KINDS:
        problems.append(f"{label}: kind must be one of {sorted(KINDS)}, not {raw['kind']!r}")
    if raw["kind"] == "aggregate" and not (raw.get("measure") and raw.get("evidence")):
        problems.append(f"{label}: an aggregate indicator needs a measure and an evidence")
    try:
        indicator = Indicator(
            id=str(raw["id"]), party=raw["party"], kind=raw["kind"], title=str(raw["title"]),
            rationale=" ".join(str(raw["rationale"]).split()), source=str(raw["source"]),
            fires_from=float(raw["fires_from"]), full_at=float(raw["full_at"]),
            weight=float(raw["weight"]), reason=str(raw["reason"]),
            measure=str(raw.get("measure", "")), evidence=str(raw.get("evidence", "")),
            support=int(raw.get("support", 1)), origin=origin)
    except (TypeError, ValueError) as exc:
        problems.append(f"{label}: {exc}")
        return None
    problem = _check_numbers(indicator)
    if problem:
        problems.append(problem)
    return indicator


def _check_numbers(i: Indicator) -> str | None:
    if i.full_at <= i.fires_from:
        return f"{i.id}: full_at ({i.full_at}) must be greater than fires_from ({i.fires_from})"
    if i.weight < 0:
        return f"{i.id}: a scorecard weight cannot be negative ({i.weight})"
    if i.support < 1:
        return f"{i.id}: support must be at least 1"
    return None


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, list):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(default, bool):
        return {"true": True, "false": False}.get(raw.lower())
    try:
        if isinstance(default, int | float):
            number = float(raw)
            return int(number) if number.is_integer() else number
        return type(default)(raw)
    except (TypeError, ValueError):
        return None


@cache
def _builtin_text() -> str:
    return resources.files("sentinelle.detect").joinpath("indicators.yaml").read_text("utf-8")


def load_catalogue(extra_files: list[Path] | None = None,
                   params: list[str] | None = None) -> Catalogue:
    """The built-in catalogue, plus an organisation's files, with overrides applied."""
    catalogue = Catalogue()
    catalogue.add(yaml.safe_load(_builtin_text()), "built-in", "sentinelle/detect/indicators.yaml")
    for path in extra_files or []:
        catalogue.add_file(path)
    return catalogue.override(params) if params else catalogue
