"""The embedded warehouse: a DuckDB file holding canonical tables, quarantine and provenance."""

from __future__ import annotations

from sentinelle.warehouse.connection import Warehouse, open_warehouse

__all__ = ["Warehouse", "open_warehouse"]
