"""The canonical data model, declared once in YAML (one file per table) and loaded here.

Validation SQL, warehouse tables and the documentation page are all generated from
these declarations; nothing else lists the columns.
"""

from __future__ import annotations

from sentinelle.model.schema import FIELD_TYPES, Field, Table, load_table, tables

__all__ = ["FIELD_TYPES", "Field", "Table", "load_table", "tables"]
