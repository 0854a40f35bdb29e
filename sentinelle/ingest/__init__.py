"""Ingestion: files in, canonical rows or quarantine records out, with provenance."""

from __future__ import annotations

from sentinelle.ingest.pipeline import FileReport, ingest_file, ingest_paths

__all__ = ["FileReport", "ingest_file", "ingest_paths"]
