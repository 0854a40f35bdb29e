"""Clean phone numbers in SQL where libphonenumber's plans decide simply (see
``sentinelle.normalise.phone_rules``); hand the rest to ``to_e164``.

Input: a table ``phone_keys(raw, region_raw, region)`` of distinct numbers without their
layout and the party's clean country. Output: the same rows with ``fast`` — the E.164
number, or NULL where SQL does not decide. SQL never says a number is invalid: only
``to_e164`` does, with its reason.
"""

from __future__ import annotations

import duckdb

from sentinelle.normalise.phone_rules import calling_codes, main_region, region_rules
from sentinelle.warehouse.dialect import string_literal


def _full(pattern: str) -> str:
    return string_literal(f"^(?:{pattern})$")


def _valid_for_code(nsn: str, code: str) -> str:
    """SQL: the national number is valid in some region that shares the calling code."""
    rules = region_rules()
    tests = [f"regexp_matches({nsn}, {_full(rules[r].valid)})" for r in calling_codes()[code]]
    return "(" + " OR ".join(tests) + ")"


def _prefix_match(key: str, region: str) -> str:
    """SQL: what the region's national-prefix rule matches at the start ('' if nothing)."""
    prefix = region_rules()[region].prefix_parse
    if not prefix:
        return "''"
    return f"regexp_extract({key}, {string_literal('^(?:' + prefix + ')')}, 0)"


def _case(selector: str, branches: dict[str, str]) -> str:
    if not branches:
        return "NULL"
    whens = " ".join(f"WHEN {string_literal(k)} THEN {v}" for k, v in branches.items())
    return f"CASE {selector} {whens} END"


def fast_clean(con: duckdb.DuckDBPyConnection) -> None:
    """Add ``fast`` to ``phone_keys``; only codes and regions present are compiled."""
    rules = region_rules()
    codes = calling_codes()
    con.execute("""CREATE OR REPLACE TEMP TABLE phone_intl AS
        SELECT raw, region_raw, region, CASE WHEN raw LIKE '+%' THEN substr(raw, 2)
                                   ELSE substr(raw, 3) END AS digits
        FROM phone_keys
        WHERE regexp_full_match(raw, '(\\+|00)[1-9][0-9]{6,14}')""")
    con.execute("CREATE OR REPLACE TEMP TABLE calling_code_list (code VARCHAR)")
    con.executemany("INSERT INTO calling_code_list VALUES (?)", [[c] for c in codes])
    # Calling codes are prefix-free: at most one of the 1-, 2- and 3-digit prefixes is one.
    con.execute("""CREATE OR REPLACE TEMP TABLE phone_intl_cc AS
        SELECT i.*, c.code, substr(i.digits, length(c.code) + 1) AS nsn
        FROM (SELECT *, unnest([left(digits, 1), left(digits, 2), left(digits, 3)]) AS head
              FROM phone_intl) i
        JOIN calling_code_list c ON c.code = i.head""")
    present = [r[0] for r in con.execute("SELECT DISTINCT code FROM phone_intl_cc").fetchall()]
    valid, conflict = {}, {}
    for code in present:
        valid[code] = _valid_for_code("nsn", code)
        main = main_region(code)
        if main is None or rules[main].transforms:
            conflict[code] = "true"
        else:  # libphonenumber would try to strip a national prefix here: let it
            conflict[code] = f"({_prefix_match('nsn', main)} <> '')"
    intl = (f"SELECT raw, region_raw, '+' || code || nsn AS fast FROM phone_intl_cc "
            f"WHERE {_case('code', valid)} AND NOT {_case('code', conflict)}")

    regions = [r[0] for r in con.execute(
        "SELECT DISTINCT region FROM phone_keys WHERE region IS NOT NULL").fetchall()]
    national = {}
    for region in regions:
        rule = rules.get(region)
        if rule is None or rule.transforms:
            continue
        code = rule.calling_code
        as_is = _valid_for_code("raw", code)
        match = _prefix_match("raw", region)
        stripped = f"substr(raw, length({match}) + 1)"
        strip_ok = (f"({match} <> '' AND {match} = {string_literal(rule.national_prefix or '')} "
                    f"AND {_valid_for_code(stripped, code)} AND NOT {as_is})")
        keep_ok = f"({match} = '' AND {as_is})"
        # A national number that starts with its own calling code may be read as an
        # international one by libphonenumber: let it decide.
        national[region] = (
            f"CASE WHEN starts_with(raw, {string_literal(code)}) THEN NULL "
            f"WHEN {strip_ok} THEN '+{code}' || {stripped} "
            f"WHEN {keep_ok} THEN '+{code}' || raw END")
    nat = (f"SELECT raw, region_raw, {_case('region', national)} AS fast FROM phone_keys "
           f"WHERE regexp_full_match(raw, '[0-9]{{4,17}}') AND region IS NOT NULL")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE phone_fast AS
        SELECT raw, region_raw, any_value(fast) AS fast
        FROM ({intl} UNION ALL {nat}) WHERE fast IS NOT NULL GROUP BY ALL""")
