"""What detection's rank window costs on Spark: one partition, wide rows or narrow.

    python bench/rank_window.py 1000000 3000000

Detection numbers each role's parties with ``row_number() OVER (ORDER BY score, eur,
provider, party_id)`` over every column of the scored table (``detect/run.py``,
``_final_sql``); a window without ``PARTITION BY`` runs in one task on Spark. This times,
on N synthetic parties with 40 measure columns (80% at one score, as parties on which
nothing fires share the base score): that window as detection writes it, the same window
over the key columns only, and a plain ``ORDER BY`` (Spark's range-partitioned, parallel
sort) for comparison. Local mode, two cores; each written to Spark's no-op sink.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sentinelle.warehouse.spark import local_session

KEY = "floor(score * 1e12) DESC, eur DESC, provider, party_id"
QUERIES = (
    ("one partition, every column (as detection does)",
     f"SELECT *, row_number() OVER (ORDER BY {KEY}) AS rank FROM scored"),
    ("one partition, key columns only",
     f"SELECT provider, party_id, row_number() OVER (ORDER BY {KEY}) AS rank FROM scored"),
    ("parallel sort, every column, no numbering", f"SELECT * FROM scored ORDER BY {KEY}"),
)


def main(sizes: list[int]) -> None:
    spark = local_session(cores=2, shuffle_partitions=4)
    where = Path(tempfile.mkdtemp(prefix="rank-window-"))
    measures = ", ".join(f"rand({i}) AS m_{i}" for i in range(40))
    try:
        for n in sizes:
            spark.sql(f"""
                SELECT 'p' || CAST(id AS STRING) AS party_id,
                       'provider' || CAST(id % 5 AS STRING) AS provider,
                       CASE WHEN id % 10 < 8 THEN 0.0188 ELSE rand(99) END AS score,
                       CAST(rand(98) * 1000 AS DECIMAL(18, 2)) AS eur, {measures}
                FROM range({n})""").write.mode("overwrite").parquet(str(where / "scored"))
            spark.read.parquet(str(where / "scored")).createOrReplaceTempView("scored")
            for label, sql in QUERIES:
                start = time.perf_counter()
                spark.sql(sql).write.format("noop").mode("overwrite").save()
                print(f"{n:>12,} parties, {label}: {time.perf_counter() - start:.1f} s",
                      flush=True)
    finally:
        spark.stop()


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1_000_000])
