"""Turn the ECB's published history of euro reference rates into a Sentinelle rate table.

Why: the shipped table is approximate (docs/reference-rates.md). On an air-gapped network an
analyst can carry in the ECB's own file, ``eurofxref-hist.csv`` (inside ``eurofxref-hist.zip``
from the ECB's "Euro foreign exchange reference rates" page), and convert it here::

    python -m sentinelle.normalise.ecb eurofxref-hist.csv rates.csv
    sentinelle ingest --rates rates.csv …

The ECB file has one row per business day and one column per currency (``Date,USD,JPY,…``,
``N/A`` where there is no rate). Each published figure becomes one row, dated that day. The ECB
does not publish many remittance currencies (VND, COP, NGN, GHS…); unless ``--ecb-only`` is
given, their rows are copied from the shipped table, with its "approximate" sources, so the
new table still covers them (likewise for a currency after the ECB's last figure for it, such
as RUB since March 2022). Withdrawn currencies the ECB file still lists (CYP, ROL…) are left
out.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from sentinelle.errors import ReferenceDataError
from sentinelle.normalise.codes import CURRENCIES
from sentinelle.normalise.rates import COLUMNS, load_rates

__all__ = ["convert", "main"]

SOURCE = "ECB euro foreign exchange reference rate (eurofxref-hist.csv)"


def _ecb_rows(path: Path) -> list[tuple[str, str, str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if not header or header[0] != "Date":
            raise ReferenceDataError(
                "not an ECB reference-rate history: the first column should be 'Date'",
                file=str(path), line=1, value=",".join(header[:5]),
                fix="Use eurofxref-hist.csv from the ECB's eurofxref-hist.zip.",
            )
        rows = []
        for record in reader:
            if not record or not record[0].strip():
                continue
            day = record[0].strip()
            rows.append((day, "EUR", "1", SOURCE))
            for currency, value in zip(header[1:], record[1:], strict=False):
                value = value.strip()
                if currency in CURRENCIES and value and value != "N/A":
                    rows.append((day, currency, value, SOURCE))
    return rows


def convert(ecb_file: Path, target: Path, *, ecb_only: bool = False) -> int:
    """Write ``target`` from the ECB history; return its number of rows. Checks the result."""
    rows = _ecb_rows(ecb_file)
    if not ecb_only:
        # Per currency, shipped rows after the ECB's last figure: this also covers a currency
        # the ECB stopped publishing (RUB since March 2022).
        last: dict[str, str] = {}
        for day, currency, _, _ in rows:
            last[currency] = max(day, last.get(currency, day))
        rows += [
            (r.date.isoformat(), r.currency, str(r.units_per_eur), r.source)
            for r in load_rates()
            if r.date.isoformat() > last.get(r.currency, "")
        ]
    rows.sort(key=lambda r: (r[0], r[1]))
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    load_rates(target)  # the same checks ingest will apply: fail here, not at ingest time
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sentinelle.normalise.ecb",
        description="Convert the ECB's eurofxref-hist.csv to a Sentinelle rate table.",
    )
    parser.add_argument("ecb_file", type=Path, help="eurofxref-hist.csv, unzipped")
    parser.add_argument("target", type=Path, help="the rate table to write (CSV)")
    parser.add_argument(
        "--ecb-only", action="store_true",
        help="do not copy the shipped approximate rows for currencies the ECB does not publish",
    )
    args = parser.parse_args(argv)
    try:
        count = convert(args.ecb_file, args.target, ecb_only=args.ecb_only)
    except (OSError, ReferenceDataError) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"wrote {count} rows to {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
