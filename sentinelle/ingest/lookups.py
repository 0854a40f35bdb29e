"""Clean the library-backed types over distinct values, into small mapping tables.

The cleaning query joins these tables (see ``cleaning.py``); each has one row per
distinct raw value (per region, for phones), so a join never multiplies rows. Phones
are keyed without their layout and with the party's country as written, so each
number is parsed once however it was typed.
Large sets are cleaned in worker processes, one per core: phonenumbers and the name
folding are pure Python and would otherwise leave every core but one idle.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import duckdb
import pyarrow as pa

from sentinelle.ingest.cleaning import phone_key, raw_col, region_raw_col
from sentinelle.ingest.phone_sql import fast_clean
from sentinelle.model import Table
from sentinelle.normalise import clean_country, clean_currency, fold_name, to_e164
from sentinelle.warehouse.dialect import DUCKDB, quote_ident

PARALLEL_FROM = 40_000  # below this, starting workers costs more than it saves
CHUNK = 20_000


def _clean_chunk(kind: str, values: list[Any]) -> list[tuple[str | None, ...]]:
    if kind == "name":
        out: list[tuple[str | None, ...]] = []
        for v in values:
            f = fold_name(v)
            out.append((f.folded, f.surname) if f else (None, None))
        return out
    if kind == "phone":  # (number without layout, the party's country as written)
        return [to_e164(key, clean_country(country)[0] if country else None)
                for key, country in values]
    cleaner = clean_country if kind == "country" else clean_currency
    return [cleaner(v) for v in values]


def clean_values(kind: str, values: list[Any]) -> list[tuple[str | None, ...]]:
    """Clean ``values`` with the cleaner of ``kind``, in parallel when there are many."""
    workers = os.cpu_count() or 1
    if len(values) < PARALLEL_FROM or workers == 1:
        return _clean_chunk(kind, values)
    chunks = [values[i:i + CHUNK] for i in range(0, len(values), CHUNK)]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        parts = pool.map(_clean_chunk, [kind] * len(chunks), chunks)
        return [row for part in parts for row in part]


def _distinct(con: duckdb.DuckDBPyConnection, selects: Iterable[str]) -> list[tuple]:
    sql = " UNION ".join(selects)
    return con.execute(f"SELECT DISTINCT * FROM ({sql})").fetchall() if sql else []


def _load(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    arrow = pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()})
    con.register("map_batch", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM map_batch")
    con.unregister("map_batch")


def _raw_values(con: duckdb.DuckDBPyConnection, table: Table, kind: str) -> list[str]:
    fields = [f for f in table.fields if f.type == kind]
    rows = _distinct(con, (f"SELECT {quote_ident('r_' + f.name)} FROM stg_r" for f in fields))
    return [r[0] for r in rows if r[0] is not None]


def build_mappings(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, int]:
    """Create map_country, map_currency, map_name and map_phone; return their sizes."""
    sizes = {}
    for kind in ("country", "currency"):
        raws = _raw_values(con, table, kind)
        cleaned = clean_values(kind, raws)
        _load(con, f"map_{kind}", {"raw": raws, "clean": [c[0] for c in cleaned],
                                   "reason": [c[1] for c in cleaned]})
        sizes[kind] = len(raws)

    raws = _raw_values(con, table, "name")
    folded = clean_values("name", raws)
    _load(con, "map_name", {"raw": raws, "folded": [f[0] for f in folded],
                            "surname": [f[1] for f in folded]})
    sizes["name"] = len(raws)

    _phone_map(con, table, sizes)
    return sizes


def _phone_map(con: duckdb.DuckDBPyConnection, table: Table, sizes: dict[str, int]) -> None:
    """map_phone, keyed by the number as written and the party's country as written.

    Each distinct number is cleaned once whatever its layout: in SQL where the numbering
    plan decides simply (``phone_sql``), by ``to_e164`` otherwise. Each step is its own
    statement: folded into one, DuckDB computes the layout-free key for every row instead
    of every distinct value."""
    selects = [f"SELECT DISTINCT {raw_col(f)} AS written, {region_raw_col(f)} AS region_raw "
               f"FROM stg_r" for f in table.fields if f.type == "phone"]
    if not selects:
        selects = ["SELECT CAST(NULL AS VARCHAR) AS written, '' AS region_raw LIMIT 0"]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE phone_written AS
        SELECT DISTINCT * FROM ({' UNION ALL '.join(selects)}) WHERE written IS NOT NULL""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE phone_written AS
        SELECT *, {phone_key(DUCKDB, 'written')} AS raw FROM phone_written""")
    con.execute("""CREATE OR REPLACE TEMP TABLE phone_keys AS
        SELECT k.raw, k.region_raw, m.clean AS region
        FROM (SELECT DISTINCT raw, region_raw FROM phone_written WHERE raw <> '') k
        LEFT JOIN map_country m ON m.raw = k.region_raw""")
    fast_clean(con)
    rest = con.execute("""SELECT raw, region_raw FROM phone_keys k WHERE NOT EXISTS (
        SELECT 1 FROM phone_fast f WHERE f.raw = k.raw AND f.region_raw = k.region_raw)"""
                       ).fetchall()
    results = clean_values("phone", rest)
    _load(con, "phone_slow", {"raw": [p[0] for p in rest], "region_raw": [p[1] for p in rest],
                              "clean": [r[0] for r in results], "reason": [r[1] for r in results]})
    con.execute("""CREATE OR REPLACE TEMP TABLE map_phone AS
        SELECT w.written AS raw, w.region_raw, c.clean, coalesce(c.reason, CASE WHEN c.clean
               IS NULL THEN 'no digits in the phone number' END) AS reason
        FROM phone_written w LEFT JOIN (
            SELECT raw, region_raw, fast AS clean, CAST(NULL AS VARCHAR) AS reason
            FROM phone_fast
            UNION ALL SELECT raw, region_raw, clean, reason FROM phone_slow) c
        ON c.raw = w.raw AND c.region_raw = w.region_raw""")
    sizes["phone"] = con.execute("SELECT count(*) FROM phone_keys").fetchone()[0]  # type: ignore[index]
    sizes["phone_by_python"] = len(rest)
