"""Normalisation used by ingestion: names, phones, codes, accounts and reference rates.

Every cleaner is pure, deterministic and never raises on bad input: it returns ``None`` (or
``(None, reason)``) and the caller keeps the raw value beside the clean one. ``load_rates`` is
the exception: a broken reference table is a configuration error, raised at start-up.
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
from sentinelle.normalise.rates import (
    MAX_RATE_AGE_DAYS,
    Rate,
    RateBook,
    load_rates,
    rates_table,
    to_eur,
)

__all__ = [
    "COUNTRIES",
    "CURRENCIES",
    "MAX_RATE_AGE_DAYS",
    "FoldedName",
    "Rate",
    "RateBook",
    "clean_account",
    "clean_country",
    "clean_currency",
    "clean_email",
    "fold_name",
    "load_rates",
    "rates_table",
    "surname_key",
    "to_e164",
    "to_eur",
]
