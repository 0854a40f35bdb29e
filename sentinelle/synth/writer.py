"""Write the world: transactions.csv in chunks, referrals.csv, truth.csv, world.json.

Why DuckDB's COPY over a stream of Arrow batches: it writes RFC 4180 CSV, quoting only
the fields that need it (as spreadsheet and provider exports do), keeps the batches'
order, and never holds more than a chunk of rows in memory — ten million rows stay well
under a gigabyte. Same world, same bytes: nothing here depends on threads or hashing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinelle.model import load_table
from sentinelle.synth import calendar, vocabulary
from sentinelle.synth.geography import currencies
from sentinelle.synth.identities import Identities
from sentinelle.synth.transactions import CHANNELS, Rows

PROVIDER = "Kestrel Remit"  # fictitious
CHUNK = 500_000
Progress = Callable[[str, int, int], None]


def copy_csv(path: Path, schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> None:
    """Stream record batches into one CSV file with a header, in order."""
    reader = pa.RecordBatchReader.from_batches(schema, batches)
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET enable_progress_bar = false")
        con.execute("SET threads = 1")
        con.from_arrow(reader).write_csv(str(path), header=True)
    finally:
        con.close()


def _amounts(minor: np.ndarray) -> pa.Array:
    whole = pa.array(minor // 100).cast(pa.string())
    cents = pc.utf8_lpad(pa.array(minor % 100).cast(pa.string()), 2, "0")
    return pc.binary_join_element_wise(whole, cents, ".")


def write_transactions(path: Path, rows: Rows, ids: Identities, world_handles: list[str],
                       txn_numbers: np.ndarray, progress: Progress) -> int:
    columns = load_table("transactions").column_names
    schema = pa.schema([(c, pa.string()) for c in columns])
    s, b = ids.columns["sender"], ids.columns["beneficiary"]
    descriptions = pa.array(list(vocabulary.PHRASE_LIST) + world_handles, pa.string())
    total = len(rows)

    def batches() -> Iterator[pa.RecordBatch]:
        for lo in range(0, max(total, 1), CHUNK):
            hi = min(lo + CHUNK, total)
            snd = pa.array(rows.sender[lo:hi])
            ben = pa.array(rows.beneficiary[lo:hi])
            desc = rows.description[lo:hi]
            data = {
                "txn_id": pc.binary_join_element_wise(
                    "KR", pc.utf8_lpad(pa.array(txn_numbers[lo:hi]).cast(pa.string()), 10, "0"),
                    ""),
                "timestamp": calendar.format_timestamps(rows.utc[lo:hi], rows.zone[lo:hi]),
                "amount": _amounts(rows.amount_minor[lo:hi]),
                "currency": pa.array(currencies()).take(pa.array(rows.currency[lo:hi])),
                "channel": pa.array(CHANNELS).take(pa.array(rows.channel[lo:hi])),
                "sender_id": s["id"].take(snd),
                "sender_name": s["name"].take(snd),
                "sender_birth_date": s["birth_date"].take(snd),
                "sender_country": s["country"].take(snd),
                "sender_phone": s["phone"].take(snd),
                "sender_email": s["email"].take(snd),
                "sender_account": s["account"].take(snd),
                "beneficiary_id": b["id"].take(ben),
                "beneficiary_name": b["name"].take(ben),
                "beneficiary_country": b["country"].take(ben),
                "beneficiary_city": b["city"].take(ben),
                "beneficiary_phone": b["phone"].take(ben),
                "beneficiary_account": b["account"].take(ben),
                "description": descriptions.take(
                    pa.array(np.maximum(desc, 0), mask=desc == vocabulary.EMPTY)),
                "provider": pa.array([PROVIDER]).take(pa.array(np.zeros(hi - lo, np.int8))),
            }
            progress("Writing transactions.csv", hi, total)
            yield pa.record_batch([data[c] for c in columns], schema=schema)

    copy_csv(path, schema, batches())
    return total


def write_table(path: Path, data: dict[str, list[Any]], columns: list[str]) -> int:
    schema = pa.schema([(c, pa.string()) for c in columns])
    batch = pa.record_batch([pa.array(data[c], pa.string()) for c in columns], schema=schema)
    copy_csv(path, schema, iter([batch]))
    return batch.num_rows


def write_json(path: Path, content: dict[str, Any]) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
