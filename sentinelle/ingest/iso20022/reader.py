"""Stage an ISO 20022 file as canonical transactions, through the canonical pipeline.

The message type and version come from the namespace of the first namespaced element
(the ``Document``, after any business application header); a message Sentinelle does
not read is refused whole, naming what it found. Each transaction element becomes a row
with the line where it starts; nothing is decided here that the cleaning decides (a bad
amount or date is passed as read, and quarantined there with its value).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import duckdb

from sentinelle.errors import InputRefused
from sentinelle.ingest.converted import ConvertedRows
from sentinelle.ingest.iso20022 import messages
from sentinelle.ingest.iso20022.safexml import stream
from sentinelle.ingest.sources import PendingSource
from sentinelle.ingest.staging import Staged
from sentinelle.ingest.timestamps import canonical_timestamp, parse_iso, zone_for
from sentinelle.model import Table


def stage_iso20022(con: duckdb.DuckDBPyConnection, pending: PendingSource, table: Table,
                   progress: Callable[[str], None] = lambda _: None) -> Staged:
    path = pending.path
    if table.name != "transactions":
        raise InputRefused("an ISO 20022 message holds transactions", file=str(path),
                           fix="use sentinelle ingest transactions")
    if pending.size == 0:
        raise InputRefused("the file is empty", file=str(path), fix="export the data again")
    rows = ConvertedRows(con, table, messages.EXTRAS[:-1])
    found: list[messages.Message] = []

    def on_namespace(namespace: str, line: int) -> set[str]:
        if "head.001" in namespace:
            return set()  # the business application header comes before the Document
        msg = messages.detect(namespace)
        if msg is None or msg.version not in messages.SUPPORTED[msg.kind]:
            raise InputRefused(
                f"not an ISO 20022 message Sentinelle reads (namespace {namespace})",
                file=str(path), line=line,
                fix="supported: " + ", ".join(
                    f"{k}.001.{min(v):02d}–{max(v):02d}" for k, v in messages.SUPPORTED.items())
                + " (docs/iso20022.md)")
        found.append(msg)
        progress(f"reading {msg.name}")
        return {messages.TRANSACTION_TAG[msg.kind]}

    def handle(tx: ET.Element, parents: list[ET.Element]) -> None:
        for line, row in messages.rows(found[0], tx, parents):
            rows.add(line, _finish(row, found[0]))

    stream(path, on_namespace, handle)
    if not found:
        raise InputRefused("no ISO 20022 message in the file (no namespaced Document)",
                           file=str(path), fix="check that this is a pacs.008, pain.001 or "
                           "camt.052/053/054 file")
    return rows.finish("xml-element-line", f"iso20022 {found[0].name}", "xml-transaction-order")


def _finish(row: messages.Row, msg: messages.Message) -> messages.Row:
    """The timestamp made canonical in the payer's zone (see ``timestamps.py``)."""
    when = row.pop("when", None)
    parsed = parse_iso(when) if when else None
    if parsed is not None:
        zone = zone_for(None, row.get("sender_country"))
        row["timestamp"], day_only = canonical_timestamp(parsed, zone)
        row["timestamp_precision"] = "day" if day_only else "time"
    else:
        row["timestamp"] = when  # quarantined by the cleaning, with the value as read
    row["message"] = msg.name
    return row
