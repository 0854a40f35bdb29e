"""Draft a mapping from an export's header and a sample of its rows, for a person to check.

Each column is guessed from its name (words in English, French, Spanish and German) and
from what its values look like: dates (and which of day or month comes first), amounts
(and their decimal separator), ISO currency and country codes, phone numbers, IBANs. The
draft is YAML with a comment on every guess; it says what it could not find. It is never
applied without being read: ``sentinelle mapping check`` then validates it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import pycountry
import yaml

from sentinelle.ingest.convert import iban_country
from sentinelle.ingest.tabular import open_tabular

SAMPLE_ROWS = 200
DATE_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
                "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %I:%M %p",
                "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%d-%m-%Y"]
# Canonical column → words that name it (lower case; matched as whole words of the header).
NAMES: dict[str, tuple[str, ...]] = {
    "sender_id": ("customer no", "customer id", "client", "sender id", "sender no"),
    "beneficiary_id": ("receiver no", "receiver id", "beneficiary id", "payee id"),
    "sender_name": ("sender name", "payer name", "remitter name", "customer name",
                    "titulaire", "holder", "sender", "payer", "remitter", "from", "donneur"),
    "beneficiary_name": ("receiver name", "beneficiary name", "payee name", "recipient name",
                         "beneficiary", "receiver", "recipient", "payee", "to",
                         "counterparty", "contrepartie", "bénéficiaire"),
    "txn_id": ("transaction id", "transaction no", "reference", "référence", "ref",
               "txn", "referencia", "referenz", "id"),
    "timestamp": ("date", "datum", "fecha", "time", "created", "booking date",
                  "date opération"),
    "amount": ("amount", "montant", "importe", "betrag", "sum", "value"),
    "debit": ("debit", "débit", "soll", "withdrawal", "out"),
    "credit": ("credit", "crédit", "haben", "deposit", "in"),
    "currency": ("currency", "ccy", "devise", "moneda", "währung"),
    "description": ("description", "purpose", "memo", "libellé", "note", "concepto",
                    "verwendungszweck", "narrative"),
    "channel": ("channel", "method", "type", "payout method"),
    "sender_country": ("sender country", "from country"),
    "beneficiary_country": ("receiver country", "beneficiary country", "to country",
                            "destination", "pays"),
    "beneficiary_city": ("city", "payout city", "ville"),
    "sender_phone": ("sender mobile", "sender phone"),
    "beneficiary_phone": ("receiver mobile", "beneficiary phone", "mobile", "phone"),
    "sender_account": ("account", "iban", "compte"),
    "beneficiary_account": ("beneficiary account", "counterparty iban", "iban contrepartie"),
}
PHONE_RE = re.compile(r"^\+?[\d\s().-]{7,20}$")
AMOUNT_RES = (re.compile(r"^[-+]?\d+([.,]\d{1,4})?-?$"),
              re.compile(r"^[-+]?\d{1,3}([ .,'\u00a0]\d{3})+([.,]\d{1,4})?-?$"))
NOT_AMOUNTS = ("balance", "solde", "saldo", "mobile", "phone", "tel")
SHARE = 0.8  # a column is of a kind when this share of its sampled values are


@dataclass
class Column:
    name: str
    values: list[Any] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # what the values look like
    date_format: str | None = None
    decimal: str | None = None


def suggest(path: Path, *, encoding: str = "auto", delimiter: str = "auto",
            skip_lines: int = 0, sheet: str | None = None) -> str:
    tab = open_tabular(path, encoding=encoding, delimiter=delimiter, skip_lines=skip_lines,
                       sheet=sheet)
    sample = [r.cells for r in islice(tab.records, SAMPLE_ROWS) if not r.problem]
    columns = [Column(h, [row[i] for row in sample if row[i] not in (None, "")])
               for i, h in enumerate(tab.header)]
    for col in columns:
        _look(col)
    fields, notes = _assign(columns)
    draft: dict[str, Any] = {"name": path.stem.lower().replace(" ", "-"),
                             "description": f"Drafted from {path.name}; check every line"}
    read: dict[str, Any] = {"format": tab.format}
    if tab.encoding:
        read |= {"encoding": tab.encoding, "delimiter": tab.delimiter}
    if skip_lines:
        read["skip_lines"] = skip_lines
    draft["read"] = read
    formats = sorted({c.date_format for c in columns if c.date_format and c.name in
                      {_col(s) for s in fields.values()}})
    if formats:
        draft["dates"] = {"formats": formats}
    decimals = {c.decimal for c in columns if c.decimal}
    if "," in decimals:
        draft["numbers"] = {"decimal": ",", "thousands": ". "}
    if "debit" in fields and "credit" in fields:
        draft["customer"] = "by_direction"
        draft["direction"] = {"debit": fields.pop("debit"), "credit": fields.pop("credit")}
        fields.pop("amount", None)
        fields = {_by_direction(k): v for k, v in fields.items()}
    else:
        fields.pop("debit", None)
        fields.pop("credit", None)
        draft["customer"] = "sender"
    draft["fields"] = fields
    text = yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=100)
    header = ["# Draft mapping made by `sentinelle mapping suggest`: every guess below must be",
              "# checked against the export before use (sentinelle mapping check M.yaml).",
              *(f"# {n}" for n in notes)]
    return "\n".join(header) + "\n" + text


def _col(spec: Any) -> str | None:
    return spec if isinstance(spec, str) else None


def _by_direction(key: str) -> str:
    """With a debit/credit statement, the account columns are the owner's (the customer)
    and the named other party is the counterparty."""
    for side, role in (("sender_", "customer_"), ("beneficiary_", "counterparty_")):
        if key.startswith(side):
            return role + key[len(side):]
    return key


def _look(col: Column) -> None:
    texts = [str(v).strip() for v in col.values]
    if not texts:
        return

    def most(test: Any) -> bool:
        return sum(1 for t in texts if test(t)) >= SHARE * len(texts)

    if most(lambda t: isinstance(t, datetime)) or all(isinstance(v, datetime)
                                                       for v in col.values):
        col.kinds.append("date")
        return
    for fmt in DATE_FORMATS:
        if most(lambda t, f=fmt: _parses(t, f)):
            col.kinds.append("date")
            col.date_format = fmt
            return
    numeric = all(isinstance(v, int | float) for v in col.values)
    if (numeric or most(lambda t: any(r.match(t) for r in AMOUNT_RES))) and not any(
            w in col.name.lower() for w in NOT_AMOUNTS):
        col.kinds.append("amount")
        col.decimal = "," if any(re.search(r",\d{1,2}-?$", t) for t in texts) else "."
        return
    if most(lambda t: len(t) == 3 and t.isalpha()
            and pycountry.currencies.get(alpha_3=t.upper())):
        col.kinds.append("currency")
    if most(_is_country):
        col.kinds.append("country")
    if most(iban_country):
        col.kinds.append("iban")
    elif most(lambda t: PHONE_RE.match(t) and sum(ch.isdigit() for ch in t) >= 7):
        col.kinds.append("phone")


def _is_country(text: str) -> bool:
    try:
        pycountry.countries.lookup(text)
        return True
    except LookupError:
        return False


def _parses(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
        return True
    except ValueError:
        return False


def _assign(columns: list[Column]) -> tuple[dict[str, Any], list[str]]:
    """Each canonical column to the best export column: a name match agreeing with the
    content first, then a content match alone."""
    fields: dict[str, Any] = {}
    notes: list[str] = []
    taken: set[str] = set()
    content = {"timestamp": "date", "amount": "amount", "debit": "amount",
               "credit": "amount", "currency": "currency", "sender_account": "iban",
               "beneficiary_account": "iban", "sender_phone": "phone",
               "beneficiary_phone": "phone", "sender_country": "country",
               "beneficiary_country": "country"}
    for target, words in NAMES.items():
        best = None
        for col in columns:
            if col.name in taken:
                continue
            name = col.name.lower()
            score = max((len(w) for w in words if re.search(rf"(^|\W){re.escape(w)}(\W|$)",
                                                            name)), default=0)
            if score and content.get(target) and content[target] not in col.kinds:
                score = 0 if col.values else score  # the name says so, the values do not
            if score and (best is None or score > best[0]):
                best = (score, col)
        if best:
            fields[target] = best[1].name
            taken.add(best[1].name)
            notes.append(f"{target} ← {best[1].name!r} (by name"
                         + (f"; values look like {', '.join(best[1].kinds)})"
                            if best[1].kinds else ")"))
    for target, kind in content.items():
        if target in fields or target in ("debit", "credit"):
            continue
        for col in columns:
            if col.name not in taken and kind in col.kinds:
                fields[target] = col.name
                taken.add(col.name)
                notes.append(f"{target} ← {col.name!r} (by content: {kind})")
                break
    missing = [t for t in ("txn_id", "timestamp", "currency", "sender_id", "sender_country",
                           "beneficiary_id", "beneficiary_country") if t not in fields]
    if missing:
        notes.append("not found, fill in (a column, or `{value: ...}`): " + ", ".join(missing)
                     + " (an id falls back on the account, else the name)")
    notes.append("unused columns: " + (", ".join(c.name for c in columns
                                                if c.name not in taken) or "none"))
    return fields, notes
