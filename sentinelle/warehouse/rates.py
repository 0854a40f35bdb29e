"""The warehouse's copy of the EUR reference rates, kept equal to the table in force."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from sentinelle.normalise import MAX_RATE_AGE_DAYS, rates_table
from sentinelle.warehouse.connection import Warehouse


def rates_sha256(path: Path | None) -> str:
    data = path.read_bytes() if path else (
        resources.files("sentinelle.normalise").joinpath("data/eur_rates.csv").read_bytes())
    return hashlib.sha256(data).hexdigest()


def load_rates(wh: Warehouse, path: Path | None) -> str:
    """Load the shipped table, or ``path``, unless it is already the one in force.
    Returns its SHA-256, which each ingested file records."""
    sha = rates_sha256(path)
    if wh.scalar("SELECT value FROM meta WHERE key = 'rates_sha256'") == sha:
        return sha
    wh.con.register("rates_batch", rates_table(path))
    wh.execute("BEGIN TRANSACTION")
    try:
        wh.execute("DELETE FROM ref_eur_rates")
        wh.execute("INSERT INTO ref_eur_rates SELECT date, currency, units_per_eur, source "
                   "FROM rates_batch")
        # One row per currency and day a rate is in force: the conversion is then a plain
        # equality join, the same on every engine, and a rate never reaches further than
        # MAX_RATE_AGE_DAYS.
        wh.execute("DELETE FROM ref_eur_rates_daily")
        age = int(MAX_RATE_AGE_DAYS)
        wh.execute(
            f"""INSERT INTO ref_eur_rates_daily
            SELECT CAST(d.day AS DATE), r.currency, r.units_per_eur, r.date
            FROM (SELECT *, lead(date) OVER (PARTITION BY currency ORDER BY date) AS next
                  FROM ref_eur_rates) r,
                 LATERAL (SELECT unnest(generate_series(
                     CAST(r.date AS TIMESTAMP),
                     CAST(least(coalesce(r.next - 1, r.date + {age}), r.date + {age})
                          AS TIMESTAMP),
                     INTERVAL 1 DAY)) AS day) d""")
        wh.execute("INSERT OR REPLACE INTO meta VALUES ('rates_sha256', ?)", [sha])
        wh.execute("COMMIT")
    except BaseException:
        wh.execute("ROLLBACK")
        raise
    finally:
        wh.con.unregister("rates_batch")
    return sha
