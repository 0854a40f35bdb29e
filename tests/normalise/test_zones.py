"""The country → time zone table: look-ups, coverage, validity in both engines, and the
generator that wrote it."""

from __future__ import annotations

import importlib.util
import zoneinfo
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import duckdb
import pycountry
import pytest

from sentinelle.normalise.zones import COUNTRY_ZONES, country_zone, zones_table_rows

DATA = Path(__file__).resolve().parents[2] / "sentinelle" / "normalise" / "data"
# Uninhabited; the tz database gives them no zone.
NO_ZONE = {"BV", "HM"}
# Not in ISO 3166-1, but payment data carry it (sentinelle.normalise.codes.COUNTRIES).
NOT_ISO = {"XK"}


def _tzdir() -> Path | None:
    """The tz database directory zoneinfo reads, if it has the country tables."""
    for directory in zoneinfo.TZPATH:
        if (Path(directory) / "zone1970.tab").is_file():
            return Path(directory)
    return None


def _generator() -> ModuleType:
    path = DATA / "make_country_zones.py"
    spec = importlib.util.spec_from_file_location("make_country_zones", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("description", "code", "expected"),
    [
        ("only zone", "PH", "Asia/Manila"),
        ("only zone, shared line in zone1970.tab", "FR", "Europe/Paris"),
        ("override among many zones", "US", "America/New_York"),
        ("override, not the first listed", "AU", "Australia/Sydney"),
        ("only zone", "GB", "Europe/London"),
        ("folded into another country's line", "SE", "Europe/Berlin"),
        ("override from zone.tab's own name", "MY", "Asia/Kuala_Lumpur"),
        ("Kosovo, not ISO but in payment data", "XK", "Europe/Belgrade"),
        ("lower case and spaces", " ph ", "Asia/Manila"),
        ("unknown code", "ZZ", None),
        ("alpha-3 is not looked up", "PHL", None),
        ("empty", "", None),
    ],
)
def test_country_zone(description: str, code: str, expected: str | None) -> None:
    assert country_zone(code) == expected, description


def test_not_text_is_unknown() -> None:
    assert country_zone(None) is None  # type: ignore[arg-type]


def test_every_country_with_a_zone_has_a_row() -> None:
    iso = {c.alpha_2 for c in pycountry.countries}
    tzdir = _tzdir()
    if tzdir is None:
        with_zone = iso - NO_ZONE
    else:
        with_zone = set()
        for line in (tzdir / "zone1970.tab").read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                with_zone |= iso & set(line.split("\t")[0].split(","))
        assert iso - with_zone == NO_ZONE
    assert sorted(with_zone - COUNTRY_ZONES.keys()) == []
    assert COUNTRY_ZONES.keys() - iso == NOT_ISO


def test_table_rows_match_the_mapping() -> None:
    rows = zones_table_rows()
    assert rows == sorted(rows) and dict(rows) == COUNTRY_ZONES
    assert all(len(row) == 2 for row in rows)


def test_every_zone_is_known_to_zoneinfo() -> None:
    if not zoneinfo.available_timezones():
        pytest.skip("no tz database for zoneinfo here: install the 'tzdata' package")
    bad = []
    for zone in sorted(set(COUNTRY_ZONES.values())):
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
            bad.append(f"{zone}: {error}")
    assert bad == []


def test_every_zone_is_known_to_duckdb() -> None:
    con = duckdb.connect()
    bad = []
    for zone in sorted(set(COUNTRY_ZONES.values())):
        try:
            con.execute("SELECT timezone(?, TIMESTAMPTZ '2024-01-01 00:00:00+00')", [zone])
        except duckdb.Error as error:
            bad.append(f"{zone}: {error}")
    assert bad == []


def test_csv_is_what_the_generator_writes() -> None:
    tzdir = _tzdir()
    if tzdir is None:
        pytest.skip("no zone1970.tab on this host (zoneinfo.TZPATH); cannot rerun the generator")
    generator = _generator()
    shipped = (DATA / "country_zones.csv").read_text(encoding="utf-8")
    zi = tzdir / "tzdata.zi"
    head = zi.read_text(encoding="utf-8").split("\n", 1)[0] if zi.is_file() else ""
    version = head.removeprefix("# ") if head.startswith("# version") else "version unknown"
    assert generator.render(generator.rows(tzdir)) == shipped, (
        f"country_zones.csv differs from what {tzdir} ({version}) gives: run "
        "python sentinelle/normalise/data/make_country_zones.py, or keep the file if this "
        "host's tz database is older than the one it was made from"
    )


# An instant in UTC and the wall-clock time it is in the zone: the hours either side of each
# 2024 daylight-saving change.
DST_CASES = [
    ("New York, before spring forward", "America/New_York", "2024-03-10 06:30", "2024-03-10 01:30"),
    ("New York, after spring forward", "America/New_York", "2024-03-10 07:30", "2024-03-10 03:30"),
    ("Paris, before spring forward", "Europe/Paris", "2024-03-31 00:30", "2024-03-31 01:30"),
    ("Paris, after spring forward", "Europe/Paris", "2024-03-31 01:30", "2024-03-31 03:30"),
    ("Paris, first 02:30 in autumn", "Europe/Paris", "2024-10-27 00:30", "2024-10-27 02:30"),
    ("Paris, second 02:30 in autumn", "Europe/Paris", "2024-10-27 01:30", "2024-10-27 02:30"),
    ("Paris, after fall back", "Europe/Paris", "2024-10-27 02:30", "2024-10-27 03:30"),
]  # fmt: skip


def _local_duckdb(zone: str, utc: datetime) -> datetime:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    row = con.execute("SELECT timezone(?, ?::TIMESTAMPTZ)", [zone, utc]).fetchone()
    assert row is not None
    result: datetime = row[0]
    return result


def _local_zoneinfo(zone: str, utc: datetime) -> datetime:
    if not zoneinfo.available_timezones():
        pytest.skip("no tz database for zoneinfo here: install the 'tzdata' package")
    return utc.astimezone(zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)


@pytest.mark.parametrize("engine", [_local_duckdb, _local_zoneinfo], ids=["duckdb", "zoneinfo"])
@pytest.mark.parametrize(("description", "zone", "utc", "local"), DST_CASES)
def test_local_hour_across_daylight_saving(
    engine: Callable[[str, datetime], datetime], description: str, zone: str, utc: str, local: str
) -> None:
    instant = datetime.fromisoformat(utc).replace(tzinfo=UTC)
    assert engine(zone, instant) == datetime.fromisoformat(local), description
