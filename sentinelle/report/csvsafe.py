"""Transactions as CSV that a spreadsheet opens as data, never as formulas.

OWASP's rule for CSV injection: a cell whose text begins with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return may be run as a formula by Excel or LibreOffice; prefix it with
a single quote, and quote every field. Leading spaces do not disarm a formula in every
spreadsheet, so the first character after them is what counts. Numbers this module writes
itself (amounts) are left as numbers: only text that came from a file is neutralised.
UTF-8 throughout; ``bom=True`` starts the file with a byte-order mark, which Excel needs to
read UTF-8 names correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sentinelle.report.gather import ReportData

__all__ = ["COLUMNS", "neutralise", "render_csv", "write_rows"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = ("provider", "txn_id", "timestamp_utc", "timestamp_as_recorded", "amount",
           "currency", "amount_eur", "channel", "sender_id", "sender_name", "sender_country",
           "beneficiary_id", "beneficiary_name", "beneficiary_country", "beneficiary_city",
           "description", "indicators", "source_file", "source_sha256", "source_line")


def neutralise(value: Any) -> str:
    """The cell's text, safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if text.lstrip(" ").startswith(_TRIGGERS) or text.startswith(_TRIGGERS):
        return "'" + text
    return text


def write_rows(header: Sequence[str], rows: Iterable[Sequence[Any]], *,
               bom: bool = False) -> bytes:
    """Any table as safe CSV bytes: every field quoted, every text cell neutralised."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def render_csv(data: ReportData, *, bom: bool = False) -> bytes:
    """The report's transactions, oldest first, each with its source file and line."""
    files = {s.file_id: s for s in data.sources}

    def row(t: Any) -> list[Any]:
        source = files.get(t.source_file_id)
        return [t.provider, t.txn_id,
                t.timestamp.isoformat(timespec="seconds") + "Z" if t.timestamp else None,
                t.timestamp_raw, t.amount, t.currency, t.amount_eur, t.channel,
                t.sender.party_id, t.sender_name, t.sender_country, t.beneficiary.party_id,
                t.beneficiary_name, t.beneficiary_country, t.beneficiary_city, t.description,
                " ".join(t.indicators), source.path if source else None,
                source.sha256 if source else None, t.source_line]

    return write_rows(COLUMNS, (row(t) for t in data.transactions), bom=bom)
