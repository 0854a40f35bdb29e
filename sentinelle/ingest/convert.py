"""Apply a mapping to one record of a provider's export: a canonical row, or the reason not.

Only what the mapping declares is done here — columns picked, joined, split, value-mapped;
dates and numbers read in the export's own format; the direction decided; the customer and
the counterparty put on their sides. Everything else (validating codes, folding names,
phones to E.164, quarantine of a bad required value) is the canonical cleaning's job, so
mapped and canonical files are cleaned alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sentinelle.ingest.mapfile import PARTY_ATTRS, FieldSpec, Mapping
from sentinelle.ingest.timestamps import canonical_timestamp, parse_iso, zone_for
from sentinelle.model import load_table
from sentinelle.normalise.iban import check_iban, looks_like_iban

SOURCE_PREFIX = "source:"  # the export's own columns, kept whole in ``extra``


@dataclass(frozen=True)
class Rejected:
    column: str | None
    value: str | None
    reason: str


def extra_columns(mapping: Mapping, header: list[str]) -> list[str]:
    """The converted rows' extra columns: party attributes the model has no column for on
    that side, the direction and the timestamp's precision, then the export's row whole."""
    canonical = set(load_table("transactions").column_names)
    sides = [f"{s}_{a}" for s in ("sender", "beneficiary") for a in PARTY_ATTRS]
    return ([c for c in sides if c not in canonical] + ["direction", "timestamp_precision"]
            + [SOURCE_PREFIX + h for h in header])


class Converter:
    def __init__(self, mapping: Mapping, header: list[str], file_sha256: str):
        self.m = mapping
        self.header = header
        self.index = {h: i for i, h in enumerate(header)}
        self.sha12 = file_sha256[:12]
        self.canonical = set(load_table("transactions").column_names)
        missing = [c for c in mapping.columns_used() if c not in self.index]
        self.missing_columns = missing

    def convert(self, line: int, cells: list[Any]) -> dict[str, str | None] | Rejected:
        m = self.m
        got: dict[str, Any] = {t: self._value(s, cells, line) for t, s in m.fields.items()}
        out: dict[str, str | None] = {}
        direction = "outgoing" if m.customer == "sender" else "incoming"
        if m.customer == "by_direction":
            decided = self._direction(cells)
            if isinstance(decided, Rejected):
                return decided
            direction, amount = decided
            if amount is not None:
                got["amount"] = amount
        out["direction"] = direction
        customer, counterparty = (("sender", "beneficiary") if direction == "outgoing"
                                  else ("beneficiary", "sender"))
        for target, value in got.items():
            role, _, attr = target.partition("_")
            side = {"customer": customer, "counterparty": counterparty}.get(role)
            out[f"{side}_{attr}" if side else target] = _text(value)
        problem = self._amount(out, got)
        if problem:
            return problem
        _fallbacks(out)
        problem = self._timestamp(out, got)
        if problem:
            return problem
        for key in ("sender_birth_date", "beneficiary_birth_date"):
            if got_date := _as_date(out.get(key), m.date_formats):
                out[key] = got_date.isoformat()
        for i, h in enumerate(self.header):
            out[SOURCE_PREFIX + h] = _text(cells[i])
        return out

    # ------------------------------------------------------------------ pieces
    def _cell(self, cells: list[Any], column: str) -> Any:
        value = cells[self.index[column]]
        return None if value is None or (isinstance(value, str) and not value.strip()) \
            else value

    def _value(self, spec: FieldSpec, cells: list[Any], line: int) -> Any:
        if spec.from_line:
            return f"{self.sha12}-{line}"
        value: Any = spec.value
        if spec.column:
            value = self._cell(cells, spec.column)
        elif spec.columns:
            parts = [_text(self._cell(cells, c)) for c in spec.columns]
            value = spec.join.join(p for p in parts if p) or None
        if value is not None and spec.split is not None:
            pieces = str(value).split(spec.split)
            value = pieces[spec.part].strip() if -len(pieces) <= spec.part < len(pieces) \
                else None
        if value is None:
            value = spec.default
        if value is not None and spec.map:
            value = spec.map.get(str(value).strip().lower(), value)
        return value

    def _number(self, value: Any) -> Decimal | None:
        if isinstance(value, bool):
            return None
        if isinstance(value, int | float | Decimal):
            return Decimal(str(value))
        text = str(value).strip().replace("\u00a0", " ")
        for sep in self.m.thousands:
            text = text.replace(sep, "")
        if self.m.decimal == ",":
            text = text.replace(",", ".")
        text = text.replace(" ", "")
        if text.endswith("-"):  # trailing minus, as some banks write debits
            text = "-" + text[:-1]
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None

    def _number_problem(self, column: str, value: Any) -> Rejected:
        return Rejected(column, _text(value),
                        f"not a number in the mapping's format (decimal {self.m.decimal!r}"
                        + (f", thousands {self.m.thousands!r})" if self.m.thousands else ")"))

    def _direction(self, cells: list[Any]) -> tuple[str, Decimal | None] | Rejected:
        d = self.m.direction
        if "debit" in d:
            found = {}
            for side, col in (("outgoing", d["debit"]), ("incoming", d["credit"])):
                raw = self._cell(cells, col)
                if raw is None:
                    continue
                number = self._number(raw)
                if number is None:
                    return self._number_problem(col, raw)
                if number != 0:
                    found[side] = abs(number)
            if len(found) != 1:
                return Rejected(d["debit"], None,
                                "both a debit and a credit amount" if found else
                                "neither a debit nor a credit amount")
            [(side, amount)] = found.items()
            return side, amount
        if "sign" in d:
            raw = self._cell(cells, d["sign"])
            number = None if raw is None else self._number(raw)
            if number is None:
                return self._number_problem(d["sign"], raw)
            if number == 0:
                return Rejected(d["sign"], _text(raw), "a zero amount has no direction")
            negative = d.get("negative", "outgoing")
            positive = "incoming" if negative == "outgoing" else "outgoing"
            return (negative if number < 0 else positive), abs(number)
        raw = _text(self._cell(cells, d["column"]))
        key = (raw or "").strip().lower()
        for side in ("outgoing", "incoming"):
            if key in {str(v).strip().lower() for v in d[side]}:
                return side, None
        return Rejected(d["column"], raw, "direction not one of the mapping's values ("
                        + ", ".join(str(v) for v in d["outgoing"] + d["incoming"]) + ")")

    def _amount(self, out: dict[str, str | None], got: dict[str, Any]) -> Rejected | None:
        value = got.get("amount")
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else self._number(value)
        if number is None:
            spec = self.m.fields.get("amount")
            return self._number_problem(spec.column if spec else None, value)  # type: ignore[arg-type]
        out["amount"] = format(number.normalize() if number == number.to_integral()
                               else number, "f")
        return None

    def _timestamp(self, out: dict[str, str | None], got: dict[str, Any]) -> Rejected | None:
        value = got.get("timestamp")
        if value is None:
            return None  # the cleaning quarantines a missing timestamp
        parsed = _as_datetime(value, self.m.date_formats)
        if parsed is None:
            spec = self.m.fields["timestamp"]
            return Rejected(spec.column or ", ".join(spec.columns), _text(value),
                            "not a date in the mapping's formats ("
                            + ", ".join(self.m.date_formats + ("ISO 8601",)) + ")")
        zone = zone_for(self.m.timezone, out.get("sender_country"))
        out["timestamp"], day_only = canonical_timestamp(parsed, zone)
        out["timestamp_precision"] = "day" if day_only else None
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_datetime(value: Any, formats: tuple[str, ...]) -> date | datetime | None:
    if isinstance(value, datetime):
        # Excel stores a date as midnight: a cell with no time of day is a date.
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        has_time = any(d in fmt for d in ("%H", "%I", "%M"))
        return parsed if has_time else parsed.date()
    return parse_iso(text)


def _as_date(value: str | None, formats: tuple[str, ...]) -> date | None:
    if not value:
        return None
    parsed = _as_datetime(value, formats)
    return parsed.date() if isinstance(parsed, datetime) else parsed


def _fallbacks(out: dict[str, str | None]) -> None:
    """A party with no id takes its account, else its name; a party with no country takes
    its IBAN's country (a statement often names a counterparty by name and IBAN only)."""
    for side in ("sender", "beneficiary"):
        account = out.get(f"{side}_account")
        if not out.get(f"{side}_id"):
            out[f"{side}_id"] = account or out.get(f"{side}_name")
        if not out.get(f"{side}_country") and account:
            out[f"{side}_country"] = iban_country(account)


def iban_country(account: str) -> str | None:
    compact = "".join(ch for ch in account.upper() if ch.isalnum())
    if looks_like_iban(compact) and check_iban(compact) is None:
        return compact[:2]
    return None
