"""The reference-rate table: the shipped file, the loader's checks, and to_eur."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from sentinelle.errors import ReferenceDataError
from sentinelle.normalise.ecb import convert
from sentinelle.normalise.rates import (
    MAX_RATE_AGE_DAYS,
    Rate,
    RateBook,
    load_rates,
    rates_table,
    to_eur,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference-rates.md"

# The synthetic world's currencies and the main remittance corridors (the brief).
REQUIRED = (
    "EUR USD GBP AUD CAD NZD CHF SEK NOK DKK PLN CZK HUF RON BGN JPY SGD HKD PHP THB MXN COP DOP "
    "BRL INR VND IDR MYR GHS NGN MAD DZD XOF UAH JMD RUB TRY ZAR PKR CNY KRW AED SAR"
).split()

# Plausible units per euro over 2023–2026, wide enough for real moves, narrow enough that a
# slipped digit or a rate written the wrong way round (USD per EUR vs EUR per USD) fails.
BANDS = {
    "EUR": (1, 1), "USD": (0.9, 1.3), "GBP": (0.75, 0.95), "AUD": (1.4, 1.95),
    "CAD": (1.3, 1.75), "NZD": (1.55, 2.15), "CHF": (0.85, 1.1), "SEK": (10, 12.5),
    "NOK": (10, 12.8), "DKK": (7.4, 7.5), "PLN": (4.0, 5.0), "CZK": (22, 26.5),
    "HUF": (350, 430), "RON": (4.8, 5.3), "BGN": (1.95583, 1.95583), "JPY": (125, 185),
    "SGD": (1.3, 1.6), "HKD": (7.5, 9.5), "PHP": (50, 75), "THB": (33, 42), "MXN": (16, 25),
    "COP": (3800, 5500), "DOP": (55, 80), "BRL": (4.8, 7.0), "INR": (80, 110),
    "VND": (24_000, 33_000), "IDR": (15_000, 20_500), "MYR": (4.3, 5.4), "GHS": (10, 20),
    "NGN": (400, 2000), "MAD": (10, 11.5), "DZD": (130, 160), "XOF": (655.957, 655.957),
    "UAH": (35, 52), "JMD": (150, 200), "RUB": (60, 120), "TRY": (18, 55), "ZAR": (17, 23),
    "PKR": (220, 350), "CNY": (7.0, 8.8), "KRW": (1250, 1750), "AED": (3.6, 4.9),
    "SAR": (3.7, 5.0),
}  # fmt: skip

# Month-on-month moves above 12% that really happened: Nigeria's floats (June 2023,
# February 2024) and the swings after them, Türkiye's post-election adjustment (June–July
# 2023), Pakistan's removal of the rate cap (February 2023), the cedi's rally (May–June 2025).
KNOWN_JUMPS = {
    ("NGN", "2023-06"), ("NGN", "2023-07"), ("NGN", "2024-02"), ("NGN", "2024-04"),
    ("NGN", "2024-05"), ("TRY", "2023-06"), ("TRY", "2023-07"), ("PKR", "2023-02"),
    ("GHS", "2025-05"), ("GHS", "2025-06"),
}  # fmt: skip


@pytest.fixture(scope="module")
def shipped() -> list[Rate]:
    return load_rates()


def months(first: date, last: date) -> list[date]:
    out, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_shipped_table_has_every_currency_every_month(shipped: list[Rate]) -> None:
    have = {(r.currency, r.date) for r in shipped}
    missing = [
        (c, d.isoformat()) for c in REQUIRED for d in months(date(2023, 1, 1), date(2026, 11, 1))
        if (c, d) not in have
    ]
    assert missing == []
    assert {r.currency for r in shipped} == set(REQUIRED)


def test_shipped_rates_are_plausible(shipped: list[Rate]) -> None:
    bands = {c: (Decimal(str(low)), Decimal(str(high))) for c, (low, high) in BANDS.items()}
    outside = [
        (r.currency, r.date.isoformat(), str(r.units_per_eur))
        for r in shipped
        if not bands[r.currency][0] <= r.units_per_eur <= bands[r.currency][1]
    ]
    assert outside == []


def test_shipped_rates_do_not_jump_unexplained(shipped: list[Rate]) -> None:
    series: dict[str, list[Rate]] = defaultdict(list)
    for rate in shipped:
        series[rate.currency].append(rate)
    jumps = set()
    for currency, rates in series.items():
        for before, after in zip(rates, rates[1:], strict=False):
            if abs(after.units_per_eur / before.units_per_eur - 1) > Decimal("0.12"):
                jumps.add((currency, after.date.isoformat()[:7]))
    assert jumps == KNOWN_JUMPS


def test_shipped_rates_say_where_they_come_from(shipped: list[Rate]) -> None:
    sources = {r.currency: r.source for r in shipped if r.date == date(2024, 6, 1)}
    assert sources["XOF"] == sources["BGN"] == "fixed peg to the euro (exact)"
    assert "ECB" in sources["USD"] and "approximate" in sources["USD"]
    assert "central bank" in sources["VND"] and "approximate" in sources["VND"]
    late = {r.source for r in shipped if r.date == date(2026, 11, 1) and r.currency == "PHP"}
    assert late == {"carried forward from 2025-09 (no later figure known to this offline build)"}


def test_every_shipped_currency_is_documented(shipped: list[Rate]) -> None:
    text = DOCS.read_text("utf-8")
    assert "--rates" in text
    assert [c for c in sorted({r.currency for r in shipped}) if f"`{c}`" not in text] == []


def test_rates_table_for_the_warehouse() -> None:
    table = rates_table()
    assert table.schema.field("date").type == pa.date32()
    assert table.schema.field("currency").type == pa.string()
    assert table.schema.field("units_per_eur").type == pa.float64()
    assert table.num_rows == len(load_rates())


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_user_file_gives_one_error_listing_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "date,currency,units_per_eur,source\n"
        "2024-01-01,PHP,61.0,bank\n"       # line 2: fine
        "2024-13-01,PHP,61.0,bank\n"       # line 3: bad date
        "20240201,USD,1.08,bank\n"         # line 4: date not in YYYY-MM-DD
        "2024-02-01,XXY,1.0,bank\n"        # line 5: unknown currency
        "2024-02-01,GBP,0,bank\n"          # line 6: not above zero
        "2024-02-01,JPY,-160,bank\n"       # line 7: negative
        "2024-02-01,THB,abc,bank\n"        # line 8: not a number
        "2024-01-01,PHP,61.5,bank\n"       # line 9: duplicate of line 2
        "2024-02-01,EUR,1.1,bank\n"        # line 10: EUR must be 1
        "2024-02-01,SEK,11.3,\n"           # line 11: no source
    ))
    with pytest.raises(ReferenceDataError) as caught:
        load_rates(path)
    error = caught.value
    assert error.file == str(path)
    assert error.fix and "date,currency,units_per_eur,source" in error.fix
    assert error.details == [
        "line 3, field 'date': not a date YYYY-MM-DD ('2024-13-01')",
        "line 4, field 'date': not a date YYYY-MM-DD ('20240201')",
        "line 5, field 'currency': not an ISO 4217 code ('XXY')",
        "line 6, field 'units_per_eur': must be a number above 0 ('0')",
        "line 7, field 'units_per_eur': must be a number above 0 ('-160')",
        "line 8, field 'units_per_eur': not a number ('abc')",
        "line 9: duplicate of line 2 (2024-01-01, PHP)",
        "line 10, field 'units_per_eur': EUR must be 1 (1.1)",
        "line 11, field 'source': empty (say where the figure comes from)",
    ]
    assert "9 problem(s)" in str(error)


@pytest.mark.parametrize(
    ("description", "text", "message"),
    [
        ("missing column", "date,currency,rate\n2024-01-01,PHP,61\n", "lacks the column"),
        ("header only", "date,currency,units_per_eur,source\n", "has no rows"),
        ("not UTF-8", None, "cannot read the rate table"),
    ],
)
def test_unusable_files(tmp_path: Path, description: str, text: str | None, message: str) -> None:
    path = tmp_path / "rates.csv"
    if text is None:
        path.write_bytes(b"date,currency,units_per_eur,source\n2024-01-01,PHP,61,\xff\xfe\n")
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ReferenceDataError, match=message):
        load_rates(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="cannot read"):
        load_rates(tmp_path / "absent.csv")


@pytest.fixture
def book(tmp_path: Path) -> RateBook:
    return RateBook(load_rates(write(tmp_path, (
        "date,currency,units_per_eur,source\n"
        "2024-01-01,PHP,60,test\n"
        "2024-02-01,PHP,62.5,test\n"
        "2024-02-01,USD,1.25,test\n"
    ))))


CONVERSIONS = [
    ("same day as a rate", 3000, "PHP", date(2024, 2, 1), Decimal("48.00")),
    ("latest rate before the day", 3000, "PHP", date(2024, 1, 31), Decimal("50.00")),
    ("a datetime is a day", "3000", "php", datetime(2024, 2, 10, 23, 30), Decimal("48.00")),
    ("rounded to the cent, half even", Decimal("100"), "USD", date(2024, 2, 1), Decimal("80.00")),
    ("before the first rate: no guess", 3000, "PHP", date(2023, 12, 31), None),
    ("stale rate: no guess", 100, "USD", date(2024, 2, 1).replace(month=6), None),
    ("currency without rates", 100, "GBP", date(2024, 2, 1), None),
    ("EUR is itself, any day", "19.999", "EUR", date(1999, 1, 1), Decimal("20.00")),
    ("not a number", "twenty", "PHP", date(2024, 2, 1), None),
    ("no amount", None, "PHP", date(2024, 2, 1), None),
    ("no currency", 100, None, date(2024, 2, 1), None),
    ("infinite", "Infinity", "PHP", date(2024, 2, 1), None),
]


@pytest.mark.parametrize(
    ("amount", "currency", "on", "expected"),
    [c[1:] for c in CONVERSIONS],
    ids=[c[0] for c in CONVERSIONS],
)
def test_to_eur(book: RateBook, amount: object, currency: str | None, on: date,
                expected: Decimal | None) -> None:
    assert to_eur(amount, currency, on, book) == expected  # type: ignore[arg-type]


def test_to_eur_staleness_limit(book: RateBook) -> None:
    last = date(2024, 2, 1)
    within = date.fromordinal(last.toordinal() + MAX_RATE_AGE_DAYS)
    assert to_eur(125, "USD", within, book) == Decimal("100.00")
    assert to_eur(125, "USD", date.fromordinal(within.toordinal() + 1), book) is None
    assert to_eur(125, "USD", date(2030, 1, 1), book, max_age_days=None) == Decimal("100.00")


def test_to_eur_accepts_a_plain_list(shipped: list[Rate]) -> None:
    on = date(2024, 6, 15)
    assert to_eur(3000, "PHP", on, shipped) == to_eur(3000, "PHP", on, RateBook(shipped))


def test_ecb_history_converts_and_keeps_the_other_currencies(tmp_path: Path) -> None:
    ecb = tmp_path / "eurofxref-hist.csv"
    ecb.write_text(
        "Date,USD,PHP,RUB,CYP,\n"
        "2024-06-04,1.0882,63.71,N/A,N/A,\n"
        "2024-06-03,1.0852,63.55,N/A,N/A,\n"
        "2022-02-28,1.1199,57.41,117.0,N/A,\n",
        encoding="utf-8",
    )
    target = tmp_path / "rates.csv"
    convert(ecb, target)
    rates = load_rates(target)
    mine = {(r.date.isoformat(), r.currency): r.units_per_eur for r in rates}
    assert mine[("2024-06-04", "PHP")] == Decimal("63.71")
    assert mine[("2024-06-03", "EUR")] == 1
    assert not any(r.currency == "CYP" for r in rates)  # withdrawn: left out
    # RUB: the ECB stopped in 2022, so the shipped rows after that are kept; VND is not an
    # ECB currency at all.
    assert ("2024-06-01", "RUB") in mine and ("2024-06-01", "VND") in mine
    # PHP: the ECB's own figures replace the shipped ones
    assert ("2024-06-01", "PHP") not in mine
    convert(ecb, target, ecb_only=True)
    assert {r.currency for r in load_rates(target)} == {"EUR", "USD", "PHP", "RUB"}


def test_ecb_converter_refuses_another_file(tmp_path: Path) -> None:
    other = write(tmp_path, "date,currency,units_per_eur,source\n")
    with pytest.raises(ReferenceDataError, match="not an ECB reference-rate history"):
        convert(other, tmp_path / "out.csv")
