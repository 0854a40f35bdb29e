"""Clean the library-backed types over distinct values, into small mapping tables.

The cleaning query joins these tables (see ``cleaning.py``); each has one row per
distinct raw value (per region, for phones), so a join never multiplies rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import duckdb
import pyarrow as pa

from sentinelle.model import Table
from sentinelle.normalise import clean_country, clean_currency, fold_name, to_e164
from sentinelle.warehouse.dialect import quote_ident


def _distinct(con: duckdb.DuckDBPyConnection, selects: Iterable[str]) -> list[tuple]:
    sql = " UNION ".join(selects)
    return con.execute(f"SELECT DISTINCT * FROM ({sql})").fetchall() if sql else []


def _load(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    arrow = pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()})
    con.register("map_batch", arrow)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM map_batch")
    con.unregister("map_batch")


def _code_map(
    con: duckdb.DuckDBPyConnection, table: Table, kind: str, name: str,
    cleaner: Callable[[str], tuple[str | None, str | None]],
) -> None:
    fields = [f for f in table.fields if f.type == kind]
    rows = _distinct(con, (f"SELECT {quote_ident('r_' + f.name)} FROM stg_r" for f in fields))
    raws = [r[0] for r in rows if r[0] is not None]
    cleaned = [cleaner(r) for r in raws]
    _load(con, name, {"raw": raws, "clean": [c for c, _ in cleaned],
                      "reason": [why for _, why in cleaned]})


def build_mappings(con: duckdb.DuckDBPyConnection, table: Table) -> dict[str, int]:
    """Create map_country, map_currency, map_name and map_phone; return their sizes."""
    _code_map(con, table, "country", "map_country", clean_country)
    _code_map(con, table, "currency", "map_currency", clean_currency)

    names = [f for f in table.fields if f.type == "name"]
    raws = [r[0] for r in _distinct(con, (f"SELECT {quote_ident('r_' + f.name)} FROM stg_r"
                                          for f in names)) if r[0] is not None]
    folded = [fold_name(r) for r in raws]
    _load(con, "map_name", {
        "raw": raws,
        "folded": [f.folded if f else None for f in folded],
        "surname": [f.surname if f else None for f in folded],
        "key": [f.key if f else None for f in folded],
    })

    selects = []
    for f in (f for f in table.fields if f.type == "phone"):
        phone = quote_ident("r_" + f.name)
        if f.region_from:
            region = quote_ident("r_" + f.region_from)
            selects.append(
                f"SELECT s.{phone} AS raw, m.clean AS region FROM stg_r s "
                f"LEFT JOIN map_country m ON m.raw = s.{region} WHERE s.{phone} IS NOT NULL"
            )
        else:
            selects.append(f"SELECT {phone} AS raw, NULL AS region FROM stg_r "
                           f"WHERE {phone} IS NOT NULL")
    pairs = _distinct(con, selects)
    results = [to_e164(raw, region) for raw, region in pairs]
    _load(con, "map_phone", {
        "raw": [p[0] for p in pairs], "region": [p[1] for p in pairs],
        "clean": [c for c, _ in results], "reason": [why for _, why in results],
    })
    return {"names": len(raws), "phones": len(pairs)}
