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
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
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
    # A context manager: where a run over ``rows`` payments keeps its temp_tables.
    def scratch(self, rows: int, on_disk: bool | None = None) -> Any: ...


# The intermediate tables of detection, in memory, per payment scored: 599 MiB for the
# 1,024,000 payments of a synthetic world of scale 5 (duckdb_memory(), IN_MEMORY_TABLE).
TABLE_BYTES_PER_PAYMENT = 600

_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
          "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}


def _bytes(setting: str) -> float:
    """A size as DuckDB shows a setting: '5.5 GiB', '953.6 MiB'."""
    number, _, unit = setting.strip().partition(" ")
    if unit not in _UNITS:
        raise WarehouseError(f"DuckDB showed a size as {setting!r}",
                             fix="report this: Sentinelle reads memory_limit as '5.5 GiB'")
    return float(number) * _UNITS[unit]


def _quote_text(text: str) -> str:
    return text.replace("'", "''")


def _ddl(dialect: Dialect, columns: Columns) -> str:
    return ", ".join(f"{dialect.ident(n)} {dialect.sql_type(t)}" for n, t in columns)


class DuckDBEngine:
    """The DuckDB warehouse file."""

    name = "duckdb"
    SCRATCH = "det_scratch"

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.dialect: Dialect = DUCKDB
        self._main: str | None = None  # the warehouse's name, while a scratch file is attached

    @contextmanager
    def scratch(self, rows: int, on_disk: bool | None = None) -> Iterator[None]:
        """Where a run over ``rows`` payments keeps its intermediate tables: temporary
        tables, or, when they would not fit in DuckDB's ``memory_limit`` (or
        ``on_disk``), a database file of their own beside the warehouse
        (``WAREHOUSE.scratch``), deleted afterwards. A temporary table is held in memory
        uncompressed and spills to disk almost as it is; a table in a database file is
        compressed as it is written, a sixth of the size on a synthetic world, and
        leaves the memory to the joins and sorts. Names are read through the search
        path, the warehouse's tables first; an intermediate table may not share a
        warehouse table's name (``temp_table``). Automatic checkpoints are held off
        meanwhile: the scratch file needs no durability, and a checkpoint after each
        table tripled the time."""
        if on_disk is None:
            limit = _bytes(self.wh.scalar("SELECT current_setting('memory_limit')"))
            on_disk = rows * TABLE_BYTES_PER_PAYMENT > limit
        if not on_disk or self.wh.path.name == ":memory:":
            yield
            return
        path = self.wh.path.with_name(self.wh.path.name + ".scratch")
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)  # a run that was killed; the warehouse is ours
        main = self.wh.scalar("SELECT current_database()")
        self.wh.execute(f"ATTACH '{_quote_text(str(path))}' AS {self.SCRATCH}")
        self.wh.execute(f"SET search_path = '{_quote_text(self.dialect.ident(main))}.main,"
                        f"{self.SCRATCH}.main'")
        threshold = self.wh.scalar("SELECT current_setting('checkpoint_threshold')")
        self.wh.execute("SET checkpoint_threshold = '1000TB'")
        self._main = main
        try:
            yield
        finally:
            self._main = None
            self.wh.execute(f"SET checkpoint_threshold = '{_quote_text(threshold)}'")
            self.wh.execute("RESET search_path")
            self.wh.execute(f"DETACH {self.SCRATCH}")
            for done in (path, path.with_name(path.name + ".wal")):
                done.unlink(missing_ok=True)

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> None:
        self.wh.execute(sql, list(args) if args is not None else None)

    def rows(self, sql: str, args: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.wh.execute(sql, list(args) if args is not None else None).fetchall()

    def scalar(self, sql: str, args: Sequence[Any] | None = None) -> Any:
        return self.wh.scalar(sql, list(args) if args is not None else None)

    def has_table(self, name: str) -> bool:
        return self.wh.has_table(name)

    def temp_table(self, name: str, select: str) -> None:
        if self._main is None:
            self.wh.execute(self.dialect.temp_table(name, select))
            return
        # Read first (temporary tables come before the search path): an earlier run's
        # in this session, in memory, is dropped; the warehouse's own would be read in
        # place of the scratch table.
        self.wh.execute(self.dialect.drop_temp_table(name))
        if self.wh.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = ? "
                          "AND database_name <> ?", [name, self.SCRATCH]):
            raise WarehouseError(f"an intermediate table is named like the warehouse's "
                                 f"table {name}", fix="rename the intermediate table")
        self.wh.execute(f"CREATE OR REPLACE TABLE {self.SCRATCH}.main.{name} AS {select}")

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
        if self._main is not None:
            # An index is held in memory until a checkpoint writes it, and checkpoints
            # are held off while the scratch file is attached: at 100 million payments
            # the two on transactions took the whole memory_limit and the run failed
            # publishing its results.
            self.wh.execute(f"CHECKPOINT {self.dialect.ident(self._main)}")


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

    @contextmanager
    def scratch(self, rows: int, on_disk: bool | None = None) -> Iterator[None]:
        """Nothing to set up: ``temp_table`` checkpoints each frame (Spark's own spill)."""
        yield

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
