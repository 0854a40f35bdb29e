"""Communications evidence: chat and call exports in one canonical table, one timeline
with the payments, and payments paired with the calls that follow them (docs/comms.md)."""

from __future__ import annotations

from sentinelle.comms.sources import FORMATS, Importer, Options, get, register
from sentinelle.comms.table import COLUMNS, KINDS
from sentinelle.comms.writer import discover, ingest_file

__all__ = ["COLUMNS", "FORMATS", "KINDS", "Importer", "Options", "discover", "get",
           "ingest_file", "register"]
