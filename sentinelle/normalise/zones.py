"""Each country's representative IANA time zone, for a sender's local hour.

Why: a timestamp exported in UTC (``Z``) or with no offset says nothing about the sender's
clock, and the indicators are about local hours (late-night payments). Detection then falls
back on the zone where most of the sender's country lives. The table
(``data/country_zones.csv``, described in docs/reference-zones.md) is made from the tz
database by ``data/make_country_zones.py`` and shipped, so a look-up needs no network and
no tz files on the host; turning a zone into an offset is the engine's job (DuckDB's ICU).
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

__all__ = ["COUNTRY_ZONES", "country_zone", "zones_table_rows"]


def _default_path() -> Path:
    return Path(str(resources.files("sentinelle.normalise").joinpath("data/country_zones.csv")))


def _load(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["country"]: row["zone"] for row in csv.DictReader(handle)}


# ISO 3166-1 alpha-2 code (and XK, Kosovo) → IANA zone name, e.g. "PH" → "Asia/Manila".
COUNTRY_ZONES: dict[str, str] = _load(_default_path())


def country_zone(code: str) -> str | None:
    """The zone for a country code (case and spaces ignored); None for an unknown code."""
    if not isinstance(code, str):
        return None
    return COUNTRY_ZONES.get(code.strip().upper())


def zones_table_rows() -> list[tuple[str, str]]:
    """``(country, zone)`` pairs sorted by country, for a warehouse table."""
    return sorted(COUNTRY_ZONES.items())
