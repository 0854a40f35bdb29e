"""Amounts in the currency a report is filed in (goAML's local currency, FinCEN's dollars).

A payment in that currency keeps its own amount. Otherwise its euro amount — converted at
ingest with the rate in force on its day, which the warehouse records — is converted again
with the warehouse's own rate table (``ref_eur_rates``), so a report and the warehouse
never disagree on a rate. No rate on the day: no amount, never a guess.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from sentinelle.normalise.rates import Rate, RateBook
from sentinelle.report.gather import Transaction
from sentinelle.review.reader import WarehouseView

__all__ = ["in_currency", "rate_book"]

_CENT = Decimal("0.01")


def rate_book(view: WarehouseView) -> RateBook:
    """The rates the warehouse converted with."""
    if not view.has_table("ref_eur_rates"):
        return RateBook([])
    return RateBook(Rate(day, currency, Decimal(str(units)), source) for day, currency, units,
                    source in view.rows("SELECT date, currency, units_per_eur, source "
                                        "FROM ref_eur_rates"))


def in_currency(t: Transaction, currency: str, book: RateBook) -> tuple[Decimal | None,
                                                                        Decimal | None]:
    """(amount in ``currency``, units of ``currency`` per unit of the payment's own
    currency — 1 when it is the same); (None, None) when no rate is known."""
    if t.amount is not None and t.currency == currency:
        return t.amount.quantize(_CENT, ROUND_HALF_EVEN), Decimal(1)
    if t.amount_eur is None or t.timestamp is None:
        return None, None
    if currency == "EUR":
        value = t.amount_eur
    else:
        rate = book.rate_on(currency, t.timestamp)
        if rate is None:
            return None, None
        value = t.amount_eur * rate.units_per_eur
    value = value.quantize(_CENT, ROUND_HALF_EVEN)
    if t.amount is None or t.amount == 0:
        return value, None
    return value, (value / t.amount).quantize(Decimal("0.000001"), ROUND_HALF_EVEN)
