"""Mapping files: how a provider's export becomes canonical transactions, declared in YAML.

Every key a mapping may use is declared once in ``KEYS`` (its meaning and an example):
the loader checks a file against it and lists every problem at once, and docs/mappings.md
is tested against it. Shipped mappings (``sentinelle/mappings/*.yaml``) go through the
same loader as a user's own file.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sentinelle.errors import MappingError
from sentinelle.model import load_table

PARTY_ATTRS = ("id", "name", "birth_date", "country", "phone", "email", "account", "city")
FORMATS = ("csv", "xlsx", "parquet")
SIDES = ("sender", "beneficiary", "by_direction")


@dataclass(frozen=True)
class Key:
    path: str
    kind: str
    meaning: str
    example: str


KEYS: tuple[Key, ...] = (
    Key("name", "text (required)", "Short name of the mapping, recorded with each file.",
        "example-remit"),
    Key("description", "text", "What export this mapping reads.", "Transfers export"),
    Key("read.format", "csv | xlsx | parquet",
        "The file's format; by default from its suffix.", "csv"),
    Key("read.encoding", "auto | codec name",
        "Text encoding of a CSV; `auto` reads a byte-order mark, else UTF-8, else cp1252.",
        "cp1252"),
    Key("read.delimiter", "auto | one character",
        "CSV delimiter; `auto` sniffs it among `,` `;` tab and `|`.", '";"'),
    Key("read.skip_lines", "integer", "Lines before the header row (a statement's title).",
        "3"),
    Key("read.sheet", "text", "Excel sheet to read; by default the first.", "Transactions"),
    Key("numbers.decimal", "`.` or `,`", "Decimal separator of amounts.", '","'),
    Key("numbers.thousands", "text", "Thousands separator(s) to remove, e.g. `.` or a space.",
        '"."'),
    Key("dates.formats", "list of strptime formats",
        "Formats tried in order for dates and date-times; ISO 8601 is always tried last. "
        "A format without a time gives a date (noon, see docs/iso20022.md conventions).",
        '["%d/%m/%Y %H:%M", "%d/%m/%Y"]'),
    Key("dates.timezone", "IANA zone",
        "Zone of times written without an offset; by default the sender country's zone.",
        "Europe/Paris"),
    Key("customer", "sender | beneficiary | by_direction",
        "Which side the provider's customer is. `customer_*` fields go to that side and "
        "`counterparty_*` to the other; `by_direction` decides per row (a statement: the "
        "account owner pays on debits and receives on credits).", "by_direction"),
    Key("direction.debit", "column", "Column of outgoing amounts (debits).", "Debit"),
    Key("direction.credit", "column", "Column of incoming amounts (credits).", "Credit"),
    Key("direction.sign", "column", "Column of a signed amount; its sign gives the direction.",
        "Amount"),
    Key("direction.negative", "outgoing | incoming",
        "What a negative signed amount means (default outgoing).", "outgoing"),
    Key("direction.column", "column", "Column whose value says the direction.", "Type"),
    Key("direction.outgoing", "list of text", "Values of `direction.column` for outgoing.",
        '["D", "DBIT"]'),
    Key("direction.incoming", "list of text", "Values of `direction.column` for incoming.",
        '["C", "CRDT"]'),
    Key("fields", "mapping", "Canonical column (or `customer_*`, `counterparty_*`) → where "
        "its value comes from: a column name, or a field spec below.",
        "{txn_id: Reference, amount: Amount}"),
    Key("fields.*.column", "column", "The column read.", "Sent amount"),
    Key("fields.*.columns", "list of columns", "Columns joined into one value (names).",
        '["First name", "Last name"]'),
    Key("fields.*.join", "text", "Separator for `columns` (default one space).", '" "'),
    Key("fields.*.value", "text", "A constant (provider, currency, country, channel).",
        "EUR"),
    Key("fields.*.default", "text", "Used when the column is empty.", "FR"),
    Key("fields.*.split", "text", "Split the value on this separator and keep `part`.", '"/"'),
    Key("fields.*.part", "integer", "Which part of a split to keep, from 0 (default 0).", "1"),
    Key("fields.*.map", "mapping", "Value map applied last (case-insensitive keys); a value "
        "not listed is kept as it is.", "{RMT: remittance, WAL: e_wallet}"),
    Key("fields.*.from_line", "true",
        "For `txn_id` only: the file's SHA-256 (12 characters) and the line, for exports "
        "without a transaction reference.", "true"),
)
_SPEC_KEYS = {k.path.rsplit(".", 1)[1] for k in KEYS if k.path.startswith("fields.*.")}
_SECTIONS = {k.path.split(".")[0] for k in KEYS if "." in k.path and k.path != "fields"}


@dataclass(frozen=True)
class FieldSpec:
    column: str | None = None
    columns: tuple[str, ...] = ()
    join: str = " "
    value: str | None = None
    default: str | None = None
    split: str | None = None
    part: int = 0
    map: dict[str, str] = field(default_factory=dict)
    from_line: bool = False

    def sources(self) -> list[str]:
        return [c for c in (self.column, *self.columns) if c]


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    origin: str
    sha256: str
    read: dict[str, Any]
    decimal: str
    thousands: str
    date_formats: tuple[str, ...]
    timezone: str | None
    customer: str
    direction: dict[str, Any]
    fields: dict[str, FieldSpec]

    def columns_used(self) -> list[str]:
        used = [c for s in self.fields.values() for c in s.sources()]
        used += [self.direction[k] for k in ("debit", "credit", "sign", "column")
                 if k in self.direction]
        return list(dict.fromkeys(used))


def targets(customer: str) -> set[str]:
    """Field names a mapping may fill: canonical columns, party attributes by role."""
    table = load_table("transactions")
    names = set(table.column_names)
    names |= {f"{side}_{a}" for side in ("sender", "beneficiary") for a in PARTY_ATTRS}
    roles = {f"{role}_{a}" for role in ("customer", "counterparty") for a in PARTY_ATTRS}
    if customer == "by_direction":
        return (names - {f"{s}_{a}" for s in ("sender", "beneficiary") for a in PARTY_ATTRS}
                - {"amount"}) | roles
    return names | roles


def shipped() -> dict[str, Path]:
    """The mappings shipped with Sentinelle, by name."""
    folder = Path(str(resources.files("sentinelle").joinpath("mappings")))
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))}


def load_mapping(ref: str | Path) -> Mapping:
    """A mapping from a file, or a shipped mapping by name; every problem listed at once."""
    path = Path(ref)
    if not path.exists() and str(ref) in shipped():
        path = shipped()[str(ref)]
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read the mapping: {exc}", file=str(path),
                           fix="check the path (or a shipped name: sentinelle mapping list) "
                           "and the YAML syntax") from exc
    return parse_mapping(data, str(path), hashlib.sha256(raw).hexdigest())


def parse_mapping(data: Any, where: str, sha256: str = "") -> Mapping:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise MappingError("a mapping file must be a YAML mapping", file=where,
                           fix="see docs/mappings.md")
    for key in data:
        if key not in {k.path for k in KEYS} | _SECTIONS:
            problems.append(f"unknown key {key!r}")
    sections = {s: _section(data, s, problems) for s in ("read", "numbers", "dates",
                                                          "direction")}
    for s, body in sections.items():
        for key in body:
            if f"{s}.{key}" not in {k.path for k in KEYS}:
                problems.append(f"unknown key {s}.{key}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name is required (a short text)")
    read = sections["read"]
    _check_read(read, problems)
    numbers = sections["numbers"]
    decimal = str(numbers.get("decimal", "."))
    thousands = str(numbers.get("thousands", ""))
    if decimal not in (".", ","):
        problems.append(f"numbers.decimal must be '.' or ',', not {decimal!r}")
    if decimal in thousands:
        problems.append("numbers.thousands must not contain the decimal separator")
    dates = sections["dates"]
    formats = dates.get("formats", [])
    if isinstance(formats, str):
        formats = [formats]
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f
                                                for f in formats):
        problems.append("dates.formats must be a list of strptime formats like '%d/%m/%Y'")
        formats = []
    zone = dates.get("timezone")
    if zone is not None:
        from sentinelle.ingest.timestamps import zone_for
        if zone_for(str(zone), None) is None:
            problems.append(f"dates.timezone {zone!r} is not an IANA zone (like Europe/Paris)")
    customer = str(data.get("customer", "sender"))
    if customer not in SIDES:
        problems.append(f"customer must be one of {', '.join(SIDES)}, not {customer!r}")
    direction = sections["direction"]
    _check_direction(direction, customer, problems)
    fields = _fields(data.get("fields"), customer, direction, problems)
    if problems:
        raise MappingError("the mapping is not valid", file=where, details=problems,
                           fix="correct the file; docs/mappings.md lists every key")
    return Mapping(str(name), str(data.get("description", "")), where, sha256, read, decimal,
                   thousands, tuple(formats), str(zone) if zone else None, customer,
                   direction, fields)


def _section(data: dict, name: str, problems: list[str]) -> dict[str, Any]:
    body = data.get(name) or {}
    if not isinstance(body, dict):
        problems.append(f"{name} must be a mapping of keys")
        return {}
    return body


def _check_read(read: dict[str, Any], problems: list[str]) -> None:
    if "format" in read and read["format"] not in FORMATS:
        problems.append(f"read.format must be one of {', '.join(FORMATS)}")
    enc = read.get("encoding", "auto")
    if enc != "auto":
        try:
            codecs.lookup(str(enc))
        except LookupError:
            problems.append(f"read.encoding {enc!r} is not a known encoding")
    delim = read.get("delimiter", "auto")
    if delim != "auto" and (not isinstance(delim, str) or len(delim) != 1):
        problems.append(f"read.delimiter must be one character or auto, not {delim!r}")
    skip = read.get("skip_lines", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        problems.append("read.skip_lines must be a whole number, 0 or more")


def _check_direction(direction: dict[str, Any], customer: str, problems: list[str]) -> None:
    kinds = [k for k in (("debit", "credit"), ("sign",), ("column",))
             if any(x in direction for x in k)]
    if customer == "by_direction" and len(kinds) != 1:
        problems.append("customer: by_direction needs exactly one way to read the direction: "
                        "direction.debit and direction.credit, or direction.sign, or "
                        "direction.column with outgoing and incoming values")
    if customer != "by_direction" and direction:
        problems.append("direction is only used with customer: by_direction")
    if ("debit" in direction) != ("credit" in direction):
        problems.append("direction.debit and direction.credit go together")
    if direction.get("negative", "outgoing") not in ("outgoing", "incoming"):
        problems.append("direction.negative must be outgoing or incoming")
    if "column" in direction:
        for k in ("outgoing", "incoming"):
            if not isinstance(direction.get(k), list) or not direction[k]:
                problems.append(f"direction.column needs direction.{k}: a list of values")


def _fields(raw: Any, customer: str, direction: dict[str, Any],
            problems: list[str]) -> dict[str, FieldSpec]:
    if not isinstance(raw, dict) or not raw:
        problems.append("fields is required: canonical column → export column")
        return {}
    allowed = targets(customer)
    if "column" in direction:  # the direction is a code; the amount is its own column
        allowed.add("amount")
    out: dict[str, FieldSpec] = {}
    for target, spec in raw.items():
        if target not in allowed:
            hint = (" (with customer: by_direction, use customer_* and counterparty_*; the "
                    "amount comes from direction)" if customer == "by_direction" else "")
            problems.append(f"fields.{target}: not a column a mapping can fill{hint}")
            continue
        parsed = _spec(target, spec, problems)
        if parsed:
            out[target] = parsed
    roles = {"customer": "sender", "counterparty": "beneficiary"} if customer == "sender" \
        else {"customer": "beneficiary", "counterparty": "sender"}
    for target in list(out):
        role, _, attr = target.partition("_")
        if customer != "by_direction" and role in roles and f"{roles[role]}_{attr}" in out:
            problems.append(f"fields.{target} and fields.{roles[role]}_{attr} fill the "
                            "same column")
    needed = ["txn_id", "timestamp", "currency"]
    if customer != "by_direction" or "column" in direction:
        needed.append("amount")
    for name in needed:
        if name not in out:
            problems.append(f"fields.{name} is required (a column, or a value)")
    return out


def _spec(target: str, spec: Any, problems: list[str]) -> FieldSpec | None:
    if isinstance(spec, str):
        return FieldSpec(column=spec)
    if not isinstance(spec, dict):
        problems.append(f"fields.{target}: a column name or a mapping of "
                        f"{', '.join(sorted(_SPEC_KEYS))}")
        return None
    unknown = set(spec) - _SPEC_KEYS
    if unknown:
        problems.append(f"fields.{target}: unknown key(s) {', '.join(sorted(unknown))}")
    sources = [k for k in ("column", "columns", "value", "from_line") if k in spec]
    if len(sources) != 1:
        problems.append(f"fields.{target}: give exactly one of column, columns, value, "
                        "from_line")
        return None
    columns = spec.get("columns", [])
    if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
        problems.append(f"fields.{target}.columns must be a list of column names")
        columns = []
    mapping = spec.get("map", {})
    if not isinstance(mapping, dict):
        problems.append(f"fields.{target}.map must map values to values")
        mapping = {}
    part = spec.get("part", 0)
    if not isinstance(part, int) or isinstance(part, bool):
        problems.append(f"fields.{target}.part must be a whole number")
        part = 0
    if spec.get("from_line") is not None and (target != "txn_id" or spec["from_line"] is not True):
        problems.append(f"fields.{target}.from_line: only `from_line: true` on txn_id")

    def text(key: str) -> str | None:
        return None if spec.get(key) is None else str(spec[key])

    return FieldSpec(text("column"), tuple(columns), str(spec.get("join", " ")), text("value"),
                     text("default"), text("split"), part,
                     {str(k).strip().lower(): str(v) for k, v in mapping.items()},
                     bool(spec.get("from_line")))
