"""ISO 20022 payment messages and statements as canonical transactions (docs/iso20022.md)."""

from __future__ import annotations

from sentinelle.ingest.iso20022.reader import stage_iso20022

__all__ = ["stage_iso20022"]
