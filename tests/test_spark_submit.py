"""``sentinelle`` under spark-submit: the command runs on the session spark-submit made.

spark-submit is the launcher PySpark installs beside itself (``.venv/bin/spark-submit``);
the cluster here is local mode, with settings given the way a cluster's are (--conf).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import TXN_COLUMNS, txn, write_csv

pytestmark = pytest.mark.spark


def test_a_command_under_spark_submit_runs_on_the_submitted_session(tmp_path: Path) -> None:
    import sentinelle.cli.spark_submit as entry

    submit = Path(sys.executable).parent / "spark-submit"
    if not submit.exists():
        submit = Path(shutil.which("spark-submit") or "spark-submit")
    rows = [txn(i) for i in range(1, 4)] + [txn(4, amount="not a number")]
    csv = write_csv(tmp_path / "export.csv", rows, TXN_COLUMNS)
    out = tmp_path / "in"
    result = subprocess.run(
        [str(submit), "--master", "local[1]", "--conf", "spark.ui.enabled=false",
         "--conf", "spark.driver.host=127.0.0.1", "--conf", "spark.driver.bindAddress=127.0.0.1",
         "--conf", f"spark.local.dir={tmp_path / 'tmp'}",
         "--conf", f"spark.sql.warehouse.dir={tmp_path / 'warehouse'}",
         "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={tmp_path / 'derby'}",
         entry.__file__, "ingest", "transactions", str(csv), "--engine", "spark",
         "--output", str(out)],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200", "PYSPARK_PYTHON": sys.executable})
    assert result.returncode == 0, result.stderr[-3000:]
    con = duckdb.connect()
    accepted = con.execute("SELECT count(*) FROM read_parquet(?)",
                           [str(out / "transactions.parquet" / "*.parquet")]).fetchone()[0]
    quarantined = con.execute("SELECT count(*), any_value(reason) FROM read_parquet(?)",
                              [str(out / "quarantine.parquet" / "*.parquet")]).fetchone()
    assert (accepted, quarantined[0]) == (3, 1)
    assert "4" in result.stdout and "quarantined" in result.stdout
