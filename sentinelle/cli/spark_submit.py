"""The ``sentinelle`` command under spark-submit, on a cluster or a managed Spark service.

    spark-submit --master yarn --deploy-mode client \\
        "$(python -c 'import sentinelle.cli.spark_submit as m; print(m.__file__)')" \\
        detect --engine spark --input s3a://fiu/in --output s3a://fiu/results

spark-submit runs a Python file, not a console script: this one starts the session that
spark-submit configured (master, executors, memory, the cluster's Hadoop settings),
before any command runs, so that every command uses it (``warehouse.spark
.session_for_command`` takes the active session and leaves it running), then hands its
arguments to the ``sentinelle`` command. The session is stopped when the command ends.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from sentinelle.cli import main as command
    from sentinelle.warehouse.spark import require_pyspark

    # Sentinelle's timestamps are naive UTC, as in the DuckDB warehouse: the session's
    # zone must be UTC whatever the cluster's default.
    session = (require_pyspark().SparkSession.builder.appName("sentinelle")
               .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    sys.argv = ["sentinelle", *(sys.argv[1:] if argv is None else argv)]
    try:
        command()
    finally:
        session.stop()


if __name__ == "__main__":
    main()
