"""Write ``country_zones.csv``: one representative IANA time zone per country.

See docs/reference-zones.md. Detection uses the table to put a sender's local hour on a
timestamp that carries no usable offset (a provider that exports in UTC with ``Z``).

Not part of the installed package: this script records how the shipped table was made. Run it
from the repository root on a machine that has the tz database (any Linux with ``tzdata``):

    python sentinelle/normalise/data/make_country_zones.py [TZDIR [OUT]]

``TZDIR`` defaults to ``/usr/share/zoneinfo``; ``OUT`` to ``country_zones.csv`` beside this
script. It reads three files of the tz database:

- ``zone1970.tab``: the zones, each with the countries it covers. One line can name several
  countries (``AE,OM,RE,SC,TF  Asia/Dubai``); every one of them gets a row. A country's lines
  are in the tz database's order, which puts its most populous zone first.
- ``zone.tab``: each country's own zone names (``Asia/Kuala_Lumpur``, where zone1970.tab says
  ``Asia/Singapore``). Used only to check that an override names a zone of that country.
- ``iso3166.tab``: the country codes, to check that zone1970.tab names no other code.

The ``note`` column says how the zone was chosen: ``only zone``; ``first listed`` (several
zones, none overridden: the first line of zone1970.tab that names the country); or
``override: <reason>``, from ``OVERRIDES`` below: the zone where most of the country's people
live, where the first line listed is not it, or where a reader would look for it.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

TZDIR = Path("/usr/share/zoneinfo")
COLUMNS = ("country", "zone", "note")

OVERRIDES: dict[str, tuple[str, str]] = {
    "AQ": ("Antarctica/McMurdo", "McMurdo Station, the largest base, keeps New Zealand time"),
    "AR": ("America/Argentina/Buenos_Aires", "Greater Buenos Aires holds a third of Argentines"),
    "AU": ("Australia/Sydney", "New South Wales is the most populous state"),
    "BR": ("America/Sao_Paulo", "Brasília time (São Paulo, Rio, Brasília) covers most people"),
    "CA": ("America/Toronto", "Eastern time (Ontario, Quebec) covers most Canadians"),
    "CD": ("Africa/Kinshasa", "Kinshasa, the largest city, is on West Africa Time"),
    "CL": ("America/Santiago", "mainland Chile; Magallanes, Aysén and Easter Island are small"),
    "CN": ("Asia/Shanghai", "Beijing time is the official time of the whole country"),
    "DE": ("Europe/Berlin", "zone1970.tab lists Büsingen (Europe/Zurich) before the rest"),
    "EC": ("America/Guayaquil", "mainland Ecuador; the Galápagos are an hour behind"),
    "ES": ("Europe/Madrid", "mainland Spain; the Canaries are an hour behind"),
    "FM": ("Pacific/Pohnpei", "the capital, Palikir, is on Pohnpei"),
    "GL": ("America/Nuuk", "most of Greenland, with the capital"),
    "ID": ("Asia/Jakarta", "Western Indonesia time (Java, Sumatra) covers most Indonesians"),
    "KI": ("Pacific/Tarawa", "the Gilbert Islands hold most of the people"),
    "KZ": ("Asia/Almaty", "the largest city; the whole country keeps UTC+5 since March 2024"),
    "MH": ("Pacific/Majuro", "Majuro, the capital, holds most of the people"),
    "MN": ("Asia/Ulaanbaatar", "most of Mongolia, with the capital"),
    "MX": ("America/Mexico_City", "Central time covers most Mexicans"),
    "MY": ("Asia/Kuala_Lumpur", "peninsular Malaysia holds most Malaysians"),
    "NZ": ("Pacific/Auckland", "all New Zealand but the Chatham Islands"),
    "PF": ("Pacific/Tahiti", "the Society Islands (Tahiti) hold most of the people"),
    "PS": ("Asia/Hebron", "the West Bank holds more people than Gaza"),
    "PT": ("Europe/Lisbon", "mainland Portugal; the Azores are an hour behind"),
    "RU": ("Europe/Moscow", "Moscow time covers most Russians"),
    "TF": ("Indian/Kerguelen", "Port-aux-Français on Kerguelen is the largest station"),
    "UA": ("Europe/Kyiv", "zone1970.tab lists Crimea (Europe/Simferopol) before the rest"),
    "UM": ("Pacific/Wake", "Wake Island has more staff than Midway"),
    "US": ("America/New_York", "Eastern time covers about half of Americans"),
    "UZ": ("Asia/Tashkent", "Tashkent is the largest city (same clock as Samarkand)"),
    "VN": ("Asia/Ho_Chi_Minh", "Vietnam's own zone; zone1970.tab lists the north as Asia/Bangkok"),
}  # fmt: skip

# Codes the payment data carry that neither ISO 3166-1 nor the tz database has.
EXTRA: dict[str, tuple[str, str]] = {
    "XK": ("Europe/Belgrade", "Kosovo (XK in payment data, not in ISO 3166-1) keeps this clock"),
}


def read_tab(path: Path) -> list[list[str]]:
    """The tab-separated fields of every line that is not a comment."""
    with path.open(encoding="utf-8") as handle:
        return [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]


def rows(tzdir: Path = TZDIR) -> list[tuple[str, str, str]]:
    """``(country, zone, note)`` for every country zone1970.tab names, sorted by country."""
    countries = {fields[0] for fields in read_tab(tzdir / "iso3166.tab")}
    listed: dict[str, list[str]] = {}
    for fields in read_tab(tzdir / "zone1970.tab"):
        for code in fields[0].split(","):
            listed.setdefault(code, []).append(fields[2])
    own: dict[str, set[str]] = {}
    for fields in read_tab(tzdir / "zone.tab"):
        own.setdefault(fields[0], set()).add(fields[2])

    problems = [
        f"{code}: in zone1970.tab, not in iso3166.tab" for code in listed.keys() - countries
    ]
    for code, (zone, _) in OVERRIDES.items():
        if zone not in set(listed.get(code, ())) | own.get(code, set()):
            problems.append(f"{code}: the override {zone} is not one of the country's zones")
    for code in EXTRA.keys() & listed.keys():
        problems.append(f"{code}: now in the tz database, drop it from EXTRA")
    if problems:
        raise SystemExit("\n".join(sorted(problems)))

    out = []
    for code, zones in listed.items():
        if code in OVERRIDES:
            zone, reason = OVERRIDES[code]
            out.append((code, zone, f"override: {reason}"))
        else:
            out.append((code, zones[0], "only zone" if len(zones) == 1 else "first listed"))
    out += [(code, zone, f"override: {reason}") for code, (zone, reason) in EXTRA.items()]
    return sorted(out)


def render(table: list[tuple[str, str, str]]) -> str:
    """The CSV text, exactly as the shipped file holds it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return buffer.getvalue()


def main() -> None:
    tzdir = Path(sys.argv[1]) if len(sys.argv) > 1 else TZDIR
    default = Path(__file__).with_name("country_zones.csv")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else default
    target.write_text(render(rows(tzdir)), encoding="utf-8", newline="")


if __name__ == "__main__":
    main()
