"""Find rows whose key was already seen: earlier in the same file, or in the warehouse.

The first row with a key stays as it is; a later one is quarantined — "identical" when its
raw text is the same (a re-sent row), "different content; not overwritten" otherwise.
The two queries are compiled for a dialect: DuckDB keeps their results as temporary
tables (``find_duplicates``), the Spark ingest as checkpointed views (``ingest/spark.py``).
"""

from __future__ import annotations

import duckdb

from sentinelle.model import Table
from sentinelle.warehouse.dialect import DUCKDB, Dialect


def duplicate_queries(table: Table, row_hash_sql: str, stored_hash_sql: str,
                      d: Dialect = DUCKDB) -> tuple[str, str]:
    """(``dup_candidates``, ``dups``): the lines whose key is seen twice or is already
    stored, then ``dups(_line, reason)`` from ``checks`` (rows with no problem only).

    The digest of a row's raw text is computed only for the candidates; ``row_hash_sql``
    gives ``(_line, _row_hash)`` for every staged row, and ``stored_hash_sql`` the same
    digest over a stored row aliased ``t``."""
    key = ", ".join(d.ident(k) for k in table.key)
    on = " AND ".join(f"t.{d.ident(k)} = c.{d.ident(k)}" for k in table.key)
    candidates = f"""WITH c AS (SELECT _line, {key} FROM checks WHERE _bad IS NULL),
        repeated AS (SELECT {key} FROM c GROUP BY ALL HAVING count(*) > 1)
        SELECT c._line FROM c SEMI JOIN repeated USING ({key})
        UNION SELECT c._line FROM c SEMI JOIN {table.name} t ON {on}"""
    dups = f"""WITH ok AS (
            SELECT c._line, {', '.join('c.' + d.ident(k) for k in table.key)}, h._row_hash
            FROM checks c JOIN dup_candidates d USING (_line)
            JOIN ({row_hash_sql}) h ON h._line = c._line),
        repeated AS (SELECT {key} FROM ok GROUP BY ALL HAVING count(*) > 1),
        w AS (
            SELECT ok.*, first_value(_line) OVER win AS first_line,
                   first_value(_row_hash) OVER win AS first_hash,
                   row_number() OVER win AS rn
            FROM ok SEMI JOIN repeated USING ({key})
            WINDOW win AS (PARTITION BY {key} ORDER BY _line)),
        within AS (
            SELECT _line, CASE WHEN _row_hash = first_hash
                THEN 'duplicate: identical to line ' || first_line || ' of this file'
                ELSE 'duplicate key: already used on line ' || first_line
                     || ' of this file with different content; not overwritten' END AS reason
            FROM w WHERE rn > 1),
        existing AS (
            SELECT ok._line, CASE WHEN ok._row_hash = {stored_hash_sql}
                THEN 'duplicate: identical to the row already ingested from file #'
                     || t.source_file_id || ' line ' || t.source_line
                ELSE 'duplicate key: a row with this key came from file #' || t.source_file_id
                     || ' line ' || t.source_line
                     || ' with different content; not overwritten' END AS reason
            FROM ok JOIN {table.name} t ON {on.replace("c.", "ok.")})
        SELECT _line, min(reason) AS reason FROM
            (SELECT * FROM within UNION ALL SELECT * FROM existing) GROUP BY _line"""
    return candidates, dups


def find_duplicates(con: duckdb.DuckDBPyConnection, table: Table, row_hash_sql: str,
                    stored_hash_sql: str, params: dict[str, str]) -> None:
    """Create the temporary tables ``dup_candidates`` and ``dups`` (see above)."""
    candidates, dups = duplicate_queries(table, row_hash_sql, stored_hash_sql)
    con.execute(f"CREATE OR REPLACE TEMP TABLE dup_candidates AS {candidates}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE dups AS {dups}", params or None)
