"""Ingestion: files in, canonical rows or quarantine records out, with provenance.

``ingest_paths`` writes into the DuckDB warehouse; ``ingest_paths_spark`` runs the same
compiled SQL on a Spark session and writes Parquet (it never imports pyspark itself)."""

from __future__ import annotations

from sentinelle.ingest.pipeline import FileReport, ingest_file, ingest_paths
from sentinelle.ingest.spark import ingest_paths_spark

__all__ = ["FileReport", "ingest_file", "ingest_paths", "ingest_paths_spark"]
