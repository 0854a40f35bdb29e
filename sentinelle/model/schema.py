"""Load and check the YAML declarations of the canonical tables."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from sentinelle.errors import ModelError

# Each field type: what the raw text must look like and what it is cleaned into.
FIELD_TYPES: dict[str, str] = {
    "string": "Text, trimmed; kept as given.",
    "text": "Free text, kept as given (placeholder-neutral in fixtures).",
    "timestamp": "ISO 8601 date-time with a UTC offset or `Z`; stored in UTC with the offset kept.",
    "decimal": "A number with a dot as decimal separator, greater than zero.",
    "currency": "ISO 4217 alphabetic code, validated against pycountry (unambiguous "
                "symbols such as € are converted).",
    "country": "ISO 3166-1 alpha-2 code, validated against pycountry (alpha-3, numeric "
               "codes and country names are converted).",
    "date": "ISO 8601 date, YYYY-MM-DD.",
    "enum": "One of a fixed list of values (case-insensitive).",
    "name": "A person's name; folded for matching (case, accents, order, particles).",
    "phone": "A phone number in any format; normalised to E.164 with phonenumbers.",
    "email": "An email address; lower-cased for matching.",
    "account": "An account number, IBAN or wallet id; spaces and dashes removed for matching.",
}

TABLE_NAMES = ("transactions", "referrals")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    description: str
    example: str
    required: bool = False
    values: tuple[str, ...] = ()
    region_from: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    description: str
    key: tuple[str, ...]
    fields: tuple[Field, ...]

    @property
    def column_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _parse(name: str, data: dict) -> Table:
    problems: list[str] = []
    fields: list[Field] = []
    for i, raw in enumerate(data.get("fields") or []):
        missing = [k for k in ("name", "type", "description", "example") if k not in raw]
        if missing:
            problems.append(f"field #{i + 1} lacks {', '.join(missing)}")
            continue
        if raw["type"] not in FIELD_TYPES:
            problems.append(f"field {raw['name']!r} has unknown type {raw['type']!r}")
        if raw["type"] == "enum" and not raw.get("values"):
            problems.append(f"enum field {raw['name']!r} lists no values")
        fields.append(
            Field(
                name=raw["name"],
                type=raw["type"],
                description=raw["description"],
                example=str(raw["example"]),
                required=bool(raw.get("required", False)),
                values=tuple(raw.get("values") or ()),
                region_from=raw.get("region_from"),
            )
        )
    names = [f.name for f in fields]
    for k in data.get("key") or []:
        if k not in names:
            problems.append(f"key column {k!r} is not a field")
    for f in fields:
        if f.region_from and f.region_from not in names:
            problems.append(f"{f.name}.region_from names unknown field {f.region_from!r}")
    if len(set(names)) != len(names):
        problems.append("a field name is declared twice")
    if problems:
        raise ModelError(
            f"the declaration of table {name!r} is broken",
            fix=f"edit sentinelle/model/{name}.yaml",
            details=problems,
        )
    return Table(
        name=data["name"],
        title=data["title"],
        description=" ".join(str(data["description"]).split()),
        key=tuple(data.get("key") or ()),
        fields=tuple(fields),
    )


@cache
def load_table(name: str) -> Table:
    """The declaration of one canonical table."""
    if name not in TABLE_NAMES:
        raise ModelError(f"no canonical table named {name!r}", fix=f"use one of {TABLE_NAMES}")
    text = resources.files("sentinelle.model").joinpath(f"{name}.yaml").read_text("utf-8")
    return _parse(name, yaml.safe_load(text))


def tables() -> list[Table]:
    return [load_table(n) for n in TABLE_NAMES]
