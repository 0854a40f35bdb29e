"""Where compiled SQL runs: one object per engine for what is not a spelling.

The dialect says how an engine *spells* a thing; an engine says how it *does* one: run a
statement with bound values, keep an intermediate table for the rest of a run, load a few
rows (time zones, list parameters) without splicing them into SQL, and publish a run's
results so that readers see the previous run or the new one, never half of each.

``DuckDBEngine`` wraps the warehouse file: temporary tables, and results replaced in one
transaction, as detection has always done. ``SparkEngine`` wraps a Spark session over a
location of Parquet inputs and writes each run's results as Parquet under an output
location, a local path or a Hadoop-compatible URI (``warehouse/publish.py``). PySpark is
imported only by ``SparkEngine``'s callers (``warehouse/spark.py``), never here.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sentinelle.errors import WarehouseError
from sentinelle.warehouse.connection import Warehouse, create_lookup_indexes
from sentinelle.warehouse.dialect import DUCKDB, Dialect
from sentinelle.warehouse.publish import HadoopFiles, child, location_uri, publish_run
from sentinelle.warehouse.spark_dialect import SPARK

Columns = Sequence[tuple[str, str]]

# What a Spark run reads, each from <input>/<name>.parquet (a file or a directory of
# files): the canonical tables, and what resolution and session pairing wrote, if any.
SPARK_INPUTS = ("transactions", "referrals", "comm_sessions", "er_records", "er_clusters")


class Engine(Protocol):
    """What detection asks of an engine (``DuckDBEngine``, ``SparkEngine``)."""

    name: str
    dialect: Dialect

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> None: ...
    def rows(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...
    def scalar(self, sql: str, args: Sequence[Any] | None = None) -> Any: ...
    def has_table(self, name: str) -> bool: ...
    def temp_table(self, name: str, select: str) -> None: ...
    def load_rows(self, name: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None: ...
    def publish(self, run_id: str, tables: dict[str, str | None],
                appended: dict[str, tuple[Columns, list[Sequence[Any]]]]) -> None: ...
    def index(self, only: Collection[str] | None = None) -> None: ...


def _ddl(dialect: Dialect, columns: Columns) -> str:
    return ", ".join(f"{dialect.ident(n)} {dialect.sql_type(t)}" for n, t in columns)


class DuckDBEngine:
    """The DuckDB warehouse file."""

    name = "duckdb"

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.dialect: Dialect = DUCKDB

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> None:
        self.wh.execute(sql, list(args) if args is not None else None)

    def rows(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.wh.execute(sql, list(args) if args is not None else None).fetchall()

    def scalar(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        return self.wh.scalar(sql, list(args) if args is not None else None)

    def has_table(self, name: str) -> bool:
        return self.wh.has_table(name)

    def temp_table(self, name: str, select: str) -> None:
        self.wh.execute(self.dialect.temp_table(name, select))

    def load_rows(self, name: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None:
        self.wh.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({_ddl(self.dialect, columns)})")
        batch = [list(r) for r in rows]
        if batch:
            marks = ", ".join("?" for _ in columns)
            self.wh.con.executemany(f"INSERT INTO {name} VALUES ({marks})", batch)

    def publish(self, run_id: str, tables: dict[str, str | None],
                appended: dict[str, tuple[Columns, list[Sequence[Any]]]]) -> None:
        """Every table replaced (``None``: dropped) and every row appended in one
        transaction: a failed run leaves the previous run's results as they were."""
        for name, (columns, _) in appended.items():
            self.wh.execute(f"CREATE TABLE IF NOT EXISTS {name} ({_ddl(self.dialect, columns)})")
        self.wh.execute("BEGIN TRANSACTION")
        try:
            for name, select in tables.items():
                self.wh.execute(f"DROP TABLE IF EXISTS {name}" if select is None
                                else f"CREATE OR REPLACE TABLE {name} AS {select}")
            for name, (columns, rows) in appended.items():
                marks = ", ".join("?" for _ in columns)
                for row in rows:
                    self.wh.execute(f"INSERT INTO {name} VALUES ({marks})", list(row))
            self.wh.execute("COMMIT")
        except Exception:
            self.wh.execute("ROLLBACK")
            raise

    def index(self, only: Collection[str] | None = None) -> None:
        create_lookup_indexes(self.wh, only)


class SparkEngine:
    """A Spark session reading Parquet from ``inputs`` and writing Parquet to ``output``,
    each a local path or a Hadoop-compatible URI.

    Results land in ``output/runs/<run id>/<table>/``; ``output/CURRENT`` names the run
    to read, switched once every table is written (``warehouse/publish.py``).
    ``det_runs`` keeps every run, one Parquet file appended per run, in
    ``output/det_runs/``.
    """

    name = "spark"

    def __init__(self, session: Any, inputs: str | Path, output: str | Path) -> None:
        self.session = session
        # Spark 3.5 keeps, in a checkpointed frame, the constraints its query implied;
        # over the scoring formulas they grow so large that planning a join of a few
        # such tables took 50 s for 40 rows (det_links). Detection needs none of them.
        session.conf.set("spark.sql.constraintPropagation.enabled", "false")
        self.dialect: Dialect = SPARK
        self.output = location_uri(output)
        self._kept: dict[str, Any] = {}
        found = False
        source = HadoopFiles(session, inputs)
        for table in SPARK_INPUTS:
            uri = child(source.uri, f"{table}.parquet")
            if source.exists(uri):
                session.read.parquet(uri).createOrReplaceTempView(table)
                found = found or table == "transactions"
        if not found:
            raise WarehouseError(f"no transactions.parquet in {inputs}",
                                 fix="sentinelle export parquet --out DIR writes the "
                                     "warehouse's tables there")

    def _sql(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        """A statement as Spark must read it (dialect.statement: decimal literals)."""
        text = self.dialect.statement(sql)
        return self.session.sql(text, args=list(args)) if args else self.session.sql(text)

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> None:
        self._sql(sql, args)

    def rows(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        with warnings.catch_warnings():  # see spark.collect: PySpark's socket, not ours
            warnings.filterwarnings("ignore", message="unclosed <socket.socket",
                                    category=ResourceWarning)
            return [tuple(r) for r in self._sql(sql, args).collect()]

    def scalar(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        found = self.rows(sql, args)
        return found[0][0] if found else None

    def has_table(self, name: str) -> bool:
        return bool(self.session.catalog.tableExists(name))

    def temp_table(self, name: str, select: str) -> None:
        """Computed now and kept for the run. Not ``CACHE TABLE … AS``: that view keeps
        its query's text and reads the tables it names as they are when it is read, so a
        table replaced in a later network round would change what an earlier one holds.
        A checkpointed frame holds its rows, whatever happens to the names later."""
        frame = self._sql(select).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._kept[name] = frame  # the previous version is released with its last reader

    def load_rows(self, name: str, columns: Columns, rows: Iterable[Sequence[Any]]) -> None:
        # A naive datetime is UTC here, as in the warehouse; PySpark would read it in the
        # process's local time zone.
        data = [tuple(v.replace(tzinfo=UTC) if isinstance(v, datetime) and v.tzinfo is None
                      else v for v in r) for r in rows]
        frame = self.session.createDataFrame(data, schema=_ddl(self.dialect, columns))
        frame.createOrReplaceTempView(name)
        self._kept[name] = frame

    def publish(self, run_id: str, tables: dict[str, str | None],
                appended: dict[str, tuple[Columns, list[Sequence[Any]]]]) -> None:
        """Write the run's tables under its own directory and append its log rows, then
        make it the current run (``warehouse/publish.py``). A table mapped to ``None`` is
        simply not written."""
        frames = {name: self._sql(select) for name, select in tables.items()
                  if select is not None}
        logs = {}
        for name, (columns, rows) in appended.items():
            self.load_rows(f"det_append_{name}", columns, rows)
            logs[name] = self._kept[f"det_append_{name}"]
        publish_run(self.session, self.output, run_id, frames, logs)

    def index(self, only: Collection[str] | None = None) -> None:
        """Nothing: Parquet has no indexes; the published tables are written sorted by
        their lookup keys instead, so a reader skips row groups by their statistics."""


def export_parquet(wh: Warehouse, directory: Path) -> list[Path]:
    """The warehouse tables a Spark run reads, each as ``directory/<name>.parquet``
    (those the warehouse has). Paths go through DuckDB's relation API, never into SQL."""
    directory.mkdir(parents=True, exist_ok=True)
    # Read to the end: DuckDB refuses the relation API on a connection with a result open.
    present = {name for (name,) in wh.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    written = []
    for table in SPARK_INPUTS:
        if table in present:
            path = directory / f"{table}.parquet"
            wh.con.table(table).write_parquet(str(path))
            written.append(path)
    return written


__all__ = ["SPARK_INPUTS", "DuckDBEngine", "Engine", "SparkEngine",
           "export_parquet"]
