"""Normalisation used by ingestion: names, phones, codes, accounts and reference rates.

Every cleaner is pure, deterministic and never raises on bad input: it returns ``None`` (or
``(None, reason)``) and the caller keeps the raw value beside the clean one.
"""

from __future__ import annotations

from sentinelle.normalise.codes import (
    COUNTRIES,
    CURRENCIES,
    clean_account,
    clean_country,
    clean_currency,
    clean_email,
)
from sentinelle.normalise.names import FoldedName, fold_name, surname_key
from sentinelle.normalise.phones import to_e164

__all__ = [
    "COUNTRIES",
    "CURRENCIES",
    "FoldedName",
    "clean_account",
    "clean_country",
    "clean_currency",
    "clean_email",
    "fold_name",
    "surname_key",
    "to_e164",
]
