"""Dated euro reference rates: load, validate, and convert an amount to euros.

Why euros: the published indicators are in euros, Australian dollars and pesos (FATF "€10 to
€200", AIC "A$51", AMLC "P1,000–10,000"); thresholds and rankings need one currency. The shipped
table (``data/eur_rates.csv``, described in docs/reference-rates.md) is approximate; a user
replaces it with their own file of the same columns (``sentinelle ingest --rates FILE``).

A conversion uses the latest rate on or before the payment's date and never a later one, and
gives ``None`` rather than a guess when there is no rate, or only one older than
``MAX_RATE_AGE_DAYS``.
"""

from __future__ import annotations

import csv
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sentinelle.errors import ReferenceDataError
from sentinelle.normalise.codes import CURRENCIES

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMNS", "MAX_RATE_AGE_DAYS", "Rate", "RateBook", "load_rates", "rates_table", "to_eur",
]

COLUMNS = ("date", "currency", "units_per_eur", "source")
# A monthly table dated on the 1st leaves up to 31 days to the next row; two months of slack
# allows one missing month, and stops a table that ended years ago from pricing today's money.
MAX_RATE_AGE_DAYS = 62
_CENT = Decimal("0.01")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FIX = (
    "Correct the rows listed. The file must be UTF-8 CSV with the header "
    "date,currency,units_per_eur,source; date as YYYY-MM-DD, currency an ISO 4217 code, "
    "units_per_eur the number of currency units one euro buys (> 0), source where the figure "
    "comes from; one row per (date, currency)."
)


@dataclass(frozen=True)
class Rate:
    """How many units of ``currency`` one euro bought on ``date``, and who says so."""

    date: date
    currency: str
    units_per_eur: Decimal
    source: str


def _default_path() -> Path:
    return Path(str(resources.files("sentinelle.normalise").joinpath("data/eur_rates.csv")))


def _parse_row(row: dict[str, str], line: int, problems: list[str]) -> Rate | None:
    """One row to a Rate, or None after adding every problem of the row to ``problems``."""
    found = len(problems)
    text = {k: (row.get(k) or "").strip() for k in COLUMNS}
    day = None
    try:
        # fromisoformat alone would also take "20240101" and week dates; the format is fixed.
        if not _ISO_DATE.fullmatch(text["date"]):
            raise ValueError
        day = date.fromisoformat(text["date"])
    except ValueError:
        problems.append(f"line {line}, field 'date': not a date YYYY-MM-DD ({text['date']!r})")
    currency = text["currency"]
    if currency not in CURRENCIES:
        problems.append(f"line {line}, field 'currency': not an ISO 4217 code ({currency!r})")
    units = None
    try:
        units = Decimal(text["units_per_eur"])
        if not units.is_finite() or units <= 0:
            problems.append(
                f"line {line}, field 'units_per_eur': must be a number above 0 "
                f"({text['units_per_eur']!r})"
            )
        elif currency == "EUR" and units != 1:
            problems.append(f"line {line}, field 'units_per_eur': EUR must be 1 ({units})")
    except InvalidOperation:
        problems.append(
            f"line {line}, field 'units_per_eur': not a number ({text['units_per_eur']!r})"
        )
    if not text["source"]:
        problems.append(f"line {line}, field 'source': empty (say where the figure comes from)")
    if len(problems) > found or day is None or units is None:
        return None
    return Rate(day, currency, units, text["source"])


def load_rates(path: Path | None = None) -> list[Rate]:
    """Every row of a rate file, checked; one ``ReferenceDataError`` lists all problems.

    ``path=None`` loads the table shipped with Sentinelle.
    """
    path = Path(path) if path is not None else _default_path()
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            missing = [c for c in COLUMNS if c not in header]
            if missing:
                raise ReferenceDataError(
                    f"the rate table lacks the column(s) {', '.join(missing)}",
                    file=str(path), line=1, value=",".join(header), fix=_FIX,
                )
            reader.fieldnames = header
            problems: list[str] = []
            rates: list[Rate] = []
            first_line: dict[tuple[date, str], int] = {}
            for row in reader:
                line = reader.line_num
                rate = _parse_row(row, line, problems)
                if rate is None:
                    continue
                key = (rate.date, rate.currency)
                if key in first_line:
                    problems.append(
                        f"line {line}: duplicate of line {first_line[key]} "
                        f"({rate.date.isoformat()}, {rate.currency})"
                    )
                    continue
                first_line[key] = line
                rates.append(rate)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ReferenceDataError(
            f"cannot read the rate table: {error}", file=str(path), fix=_FIX
        ) from error
    if problems:
        raise ReferenceDataError(
            f"the rate table has {len(problems)} problem(s)",
            file=str(path), details=problems, fix=_FIX,
        )
    if not rates:
        raise ReferenceDataError("the rate table has no rows", file=str(path), fix=_FIX)
    return sorted(rates, key=lambda r: (r.currency, r.date))


def rates_table(path: Path | None = None) -> pa.Table:
    """The checked rates as an Arrow table for the warehouse.

    Columns: ``date`` (date32), ``currency`` (string), ``units_per_eur`` (float64), ``source``
    (string). ``path=None`` is the shipped table.
    """
    import pyarrow as pa  # only the warehouse needs Arrow; the cleaners stay light to import

    rates = load_rates(path)
    return pa.table(
        {
            "date": pa.array([r.date for r in rates], type=pa.date32()),
            "currency": pa.array([r.currency for r in rates], type=pa.string()),
            "units_per_eur": pa.array([float(r.units_per_eur) for r in rates], pa.float64()),
            "source": pa.array([r.source for r in rates], type=pa.string()),
        }
    )


class RateBook:
    """Rates indexed by currency for fast look-ups; build once, convert many amounts."""

    def __init__(self, rates: Iterable[Rate]) -> None:
        series: dict[str, list[Rate]] = {}
        for rate in sorted(rates, key=lambda r: (r.currency, r.date)):
            series.setdefault(rate.currency, []).append(rate)
        self._dates = {c: [r.date for r in rs] for c, rs in series.items()}
        self._rates = series

    def rate_on(
        self, currency: str, on: date, max_age_days: int | None = MAX_RATE_AGE_DAYS
    ) -> Rate | None:
        """The latest rate on or before ``on``; None if none, or older than ``max_age_days``."""
        if isinstance(on, datetime):  # a datetime does not compare with a date
            on = on.date()
        dates = self._dates.get(currency)
        if not dates:
            return None
        index = bisect_right(dates, on) - 1
        if index < 0:
            return None
        rate = self._rates[currency][index]
        if max_age_days is not None and (on - rate.date).days > max_age_days:
            return None
        return rate


def to_eur(
    amount: Decimal | int | float | str | None,
    currency: str | None,
    on: date,
    rates: RateBook | Iterable[Rate],
    *,
    max_age_days: int | None = MAX_RATE_AGE_DAYS,
) -> Decimal | None:
    """``amount`` of ``currency`` on day ``on`` in euros, to the cent; None if unknown.

    EUR is returned as is. Pass a ``RateBook`` when converting many amounts; a list of rates
    is indexed on every call.
    """
    if amount is None or not isinstance(currency, str) or not isinstance(on, date):
        return None
    currency = currency.strip().upper()
    book = rates if isinstance(rates, RateBook) else RateBook(rates)
    rate = None if currency == "EUR" else book.rate_on(currency, on, max_age_days)
    if rate is None and currency != "EUR":
        return None
    try:
        value = Decimal(str(amount).strip())
        if rate is not None:
            value /= rate.units_per_eur
        return value.quantize(_CENT, ROUND_HALF_EVEN) if value.is_finite() else None
    except InvalidOperation:  # not a number, or too many digits to hold to the cent
        return None
