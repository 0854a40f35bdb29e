"""Compile the model declaration into the SQL that checks and cleans staged rows.

The query is built in layers, each computing a thing once for the next:

1. ``stg_r`` (a view): the raw text of each field — trimmed, blank as missing, by
   staging — and,
   for phones, the party's country as written (the phone mapping's second key).
2. parts: the pieces of types that need several steps (a timestamp's local time and
   offset), and the mapping tables joined in.
3. clean: the clean value of every field, with the raw text kept beside it.
4. problems: for each required field, a plain-words reason, or NULL.
5. verdict: ``_bad`` (the first required field with a problem) and ``_all_problems``.

Two queries come out. ``checks_query`` cleans only the required fields and gives each row
its key, its digest and its verdict: it decides quarantine and duplicates. ``clean_query``
cleans everything and feeds the insert of the accepted rows directly, so the widest data
is computed and written once. A problem on a required field quarantines the row; on an
optional field the clean value is left empty and a cleaning note says why (the notes are
read back from the rows just written: raw present, clean empty). Raw values are always kept (see
``sentinelle.warehouse.columns``). Names, phones, countries and currencies are cleaned
in Python over the *distinct* values only, into mapping tables (``lookups.py``).
"""

from __future__ import annotations

from sentinelle.model import Field, Table
from sentinelle.warehouse.columns import AS_GIVEN, eur_columns
from sentinelle.warehouse.dialect import DUCKDB, Dialect

# ISO 8601 date-time with an offset: date, time, offset (Z or ±hh[:mm]).
TIMESTAMP_RE = (
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s*"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)$"
)
DECIMAL_RE = r"[0-9]{1,14}(\.[0-9]{1,4})?"
DATE_RE = r"\d{4}-\d{2}-\d{2}"
EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
PHONE_LAYOUT_RE = r"[\s().\-/]"
ACCOUNT_LAYOUT_RE = r"[\s.\-/]"
MAX_OFFSET_MIN = 14 * 60

# Mapping tables filled in Python from distinct values: type -> table name.
MAPPED_TYPES = {"name": "map_name", "phone": "map_phone", "country": "map_country",
                "currency": "map_currency"}

MISSING = "required value is missing"
REASONS = {
    "timestamp": "not an ISO 8601 date-time with a UTC offset "
                 "(like 2024-03-07T23:41:05+01:00 or 2024-03-07T22:41:05Z)",
    "decimal": "not a number greater than zero written with a dot and at most 4 decimals "
               "(like 25.00)",
    "date": "not a date written YYYY-MM-DD",
    "email": "not an email address",
    "account": "no letters or digits in the account",
    "name": "no letters in the name",
}


def raw_col(f: Field, d: Dialect = DUCKDB) -> str:
    return d.ident("r_" + f.name)


def phone_key(d: Dialect, raw: str) -> str:
    """A phone without its layout: "+33 6 12-34" and "+33612 34" are parsed once."""
    return d.regex_replace_all(raw, PHONE_LAYOUT_RE, "")


def region_raw_col(f: Field, d: Dialect = DUCKDB) -> str:
    return d.ident("g_" + f.name)


class CleaningCompiler:
    """Renders the cleaning query for one table, for one dialect: every name, literal,
    cast and regular expression goes through ``dialect``, so one compiler serves DuckDB
    and Spark."""

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.d = dialect
        self.q = dialect.ident

    def _raw(self, f: Field) -> str:
        return raw_col(f, self.d)

    def _region_raw(self, f: Field) -> str:
        return region_raw_col(f, self.d)

    # -- layer 1 -----------------------------------------------------------------------
    def raw_view(self, staged: dict[str, str]) -> str:
        """The ``stg_r`` view. ``staged`` maps a field to its staged column, if present."""
        cols = []
        for f in self.table.fields:
            src = staged.get(f.name)  # staging already trimmed it (see staging._tidy)
            expr = self.d.cast("NULL", "VARCHAR") if src is None else self.q(src)
            cols.append(f"{expr} AS {self._raw(f)}")
        inner = f"SELECT *, {', '.join(cols)} FROM stg"
        phones = []
        for f in self.table.fields:
            if f.type == "phone":
                region = (f"coalesce({self._raw(self.table.field(f.region_from))}, '')"
                          if f.region_from else "''")
                phones.append(f"{region} AS {self._region_raw(f)}")
        if not phones:
            return self.d.temp_view("stg_r", inner)
        return self.d.temp_view("stg_r", f"SELECT *, {', '.join(phones)} FROM ({inner})")

    # -- layer 2 -----------------------------------------------------------------------
    def _parts(self, fields: list[Field]) -> str:
        cols: list[str] = []
        joins: list[str] = []
        for f in fields:
            if f.type == "timestamp":
                g = self.d.regex_groups(self._raw(f), TIMESTAMP_RE, ["d", "t", "o"])
                cols.append(f"{g} AS {self.q('tg_' + f.name)}")
            if f.type in MAPPED_TYPES:
                m = self.q("m_" + f.name)
                if f.type == "phone":
                    cond = (f"{m}.raw = {self._raw(f)} AND "
                            f"{m}.region_raw = {self._region_raw(f)}")
                else:
                    cond = f"{m}.raw = {self._raw(f)}"
                joins.append(f"LEFT JOIN {MAPPED_TYPES[f.type]} {m} ON {cond}")
                outputs = (("folded", "surname") if f.type == "name"
                           else ("clean", "reason"))
                cols += [f"{m}.{o} AS {self.q(o + '_' + f.name)}" for o in outputs]
        extra = (", " + ", ".join(cols)) if cols else ""
        joined = f"SELECT stg_r.*{extra} FROM stg_r {' '.join(joins)}"
        # Values several clean expressions need, computed once here.
        once = []
        for f in fields:
            if f.type == "timestamp":
                g = self.q("tg_" + f.name)
                o = f"{g}.o"
                local = self.d.try_cast(f"{g}.d || ' ' || replace({g}.t, ',', '.')", "TIMESTAMP")
                offset_mm = self.d.try_cast(
                    f"nullif(substr(replace({o}, ':', ''), 4, 2), '')", "INTEGER")
                minutes = (
                    f"CASE WHEN {o} IN ('Z', 'z') THEN 0 WHEN {o} = '' THEN NULL ELSE "
                    f"(CASE WHEN substr({o}, 1, 1) = '-' THEN -1 ELSE 1 END) * "
                    f"(CAST(substr({o}, 2, 2) AS INTEGER) * 60 + coalesce({offset_mm}, 0)) END")
                once += [f"{local} AS {self.q('lt_' + f.name)}",
                         f"{minutes} AS {self.q('om_' + f.name)}"]
            elif f.type == "decimal":
                r = self._raw(f)
                once.append(f"CASE WHEN {self.d.regex_match(r, DECIMAL_RE)} THEN "
                            f"{self.d.try_cast(r, 'DECIMAL(18,4)')} END "
                            f"AS {self.q('dn_' + f.name)}")
        return f"SELECT *, {', '.join(once)} FROM ({joined}) j" if once else joined

    # -- layer 3 -----------------------------------------------------------------------
    def _clean_exprs(self, f: Field) -> dict[str, str]:
        """Warehouse column -> expression over the parts layer."""
        d, r = self.d, self._raw(f)

        def m(output: str) -> str:  # a mapping table's output, as the parts layer names it
            return self.q(output + "_" + f.name)

        if f.type in AS_GIVEN:
            return {f.name: r}
        out: dict[str, str] = {}
        if f.type == "timestamp":
            local, minutes = self.q("lt_" + f.name), self.q("om_" + f.name)
            ok = f"abs({minutes}) <= {MAX_OFFSET_MIN}"
            out[f.name] = f"CASE WHEN {ok} THEN {d.minus_minutes(local, minutes)} END"
            out[f.name + "_offset_min"] = (
                f"CASE WHEN {ok} AND {local} IS NOT NULL THEN CAST({minutes} AS SMALLINT) END")
        elif f.type == "decimal":
            num = self.q("dn_" + f.name)
            out[f.name] = f"CASE WHEN {num} > 0 THEN {num} END"
        elif f.type == "date":
            out[f.name] = f"CASE WHEN {d.regex_match(r, DATE_RE)} THEN {d.try_cast(r, 'DATE')} END"
        elif f.type == "enum":
            values = ", ".join(self.d.literal(v) for v in f.values)
            out[f.name] = f"CASE WHEN lower({r}) IN ({values}) THEN lower({r}) END"
        elif f.type == "email":
            out[f.name] = f"CASE WHEN {d.regex_match(r, EMAIL_RE)} THEN lower({r}) END"
        elif f.type == "account":
            out[f.name] = f"nullif(upper({d.regex_replace_all(r, ACCOUNT_LAYOUT_RE, '')}), '')"
        elif f.type == "name":
            out.update({f.name: m("folded"), f.name + "_surname": m("surname")})
        elif f.type in ("phone", "country", "currency"):
            out[f.name] = m("clean")
            out["_why_" + f.name] = m("reason")
        out[f.name + "_raw"] = r
        return out

    # -- layer 4 -----------------------------------------------------------------------
    def _problem(self, f: Field) -> str:
        raw = self.q(f.name if f.type in AS_GIVEN else f.name + "_raw")
        parts = []
        if f.required:
            parts.append(f"WHEN {raw} IS NULL THEN {self.d.literal(MISSING)}")
        else:
            parts.append(f"WHEN {raw} IS NULL THEN NULL")  # absent is not a problem
        if f.type not in AS_GIVEN:
            if f.type in ("phone", "country", "currency"):
                reason = f"coalesce({self.q('_why_' + f.name)}, 'cannot be cleaned')"
            elif f.type == "enum":
                reason = self.d.literal("not one of: " + ", ".join(f.values))
            else:
                reason = self.d.literal(REASONS[f.type])
            parts.append(f"WHEN {self.q(f.name)} IS NULL THEN {reason}")
        return f"CASE {' '.join(parts)} END" if parts else self.d.cast("NULL", "VARCHAR")

    def _clean_select(self, fields: list[Field], provider_default: str | None) -> list[str]:
        out = []
        for f in fields:
            for col, expr in self._clean_exprs(f).items():
                if f.name == "provider" and col == "provider" and provider_default:
                    expr = f"coalesce({expr}, {provider_default})"
                out.append(f"{expr} AS {self.q(col)}")
        return out

    def _row_hash(self, provider_default: str | None) -> str:
        """The digest of a staged row's raw text: what tells a re-sent row from a conflict."""
        raws = []
        for f in self.table.fields:
            if f.name == "provider" and provider_default:
                raws.append(f"coalesce({self._raw(f)}, {provider_default})")
            else:
                raws.append(f"coalesce({self._raw(f)}, '')")
        return self.d.row_hash("concat_ws(chr(31), " + ", ".join(raws) + ")")

    def stored_row_hash(self, alias: str) -> str:
        """The same digest computed from a warehouse row's stored raw values (the provider
        column holds the default a row was given), so it need not be stored."""
        raws = [f"coalesce({alias}.{self.q(f.name if f.type in AS_GIVEN else f.name + '_raw')}, '')"
                for f in self.table.fields]
        return self.d.row_hash("concat_ws(chr(31), " + ", ".join(raws) + ")")

    def checks_query(self, provider_default: str | None) -> str:
        """One row per staged row: its key and the verdict on its required fields
        (``_bad``: the first field with a problem; ``_all_problems``). Cheap: only the
        required fields are cleaned, and only what the verdict needs is kept."""
        required = [f for f in self.table.fields if f.required]
        keys = [self.table.field(k) for k in self.table.key]
        fields = required + [f for f in keys if f not in required]
        select = ["_line", *self._clean_select(fields, provider_default)]
        problems = [f"{self._problem(f)} AS {self.q('_p_' + f.name)}" for f in required]
        bad = "coalesce(" + ", ".join(
            f"CASE WHEN {self.q('_p_' + f.name)} IS NOT NULL THEN {self.d.literal(f.name)} END"
            for f in required) + ")"
        everything = "concat_ws('; ', " + ", ".join(
            f"CASE WHEN {self.q('_p_' + f.name)} IS NOT NULL THEN "
            f"{self.d.literal(f.name + ': ')} || {self.q('_p_' + f.name)} END"
            for f in required) + ")"
        kept = ["_line", *(self.q(k) for k in self.table.key)]
        if eur_columns(self.table):  # so that a missing rate is found without a scan
            kept += ["currency AS _currency",
                     f"CAST({self.q('timestamp')} AS DATE) AS _day"]
        keep = ", ".join(kept)
        return (f"SELECT {keep}, {bad} AS _bad, nullif({everything}, '') AS _all_problems "
                f"FROM (SELECT *, {', '.join(problems)} FROM ("
                f"SELECT {', '.join(select)} FROM ({self._parts(fields)}) parts) c) p")

    def row_hash_query(self, provider_default: str | None) -> str:
        """``_line`` and the digest of the raw text, for rows whose key is seen twice."""
        return f"SELECT _line, {self._row_hash(provider_default)} AS _row_hash FROM stg_r"

    def clean_query(self, extra_json: str, provider_default: str | None) -> str:
        """Every warehouse column of every staged row, with ``_line`` and ``_extra``;
        ``extra_json`` and the provider default are SQL over bound parameters."""
        fields = list(self.table.fields)
        select = ["_line", *self._clean_select(fields, provider_default),
                  f"{extra_json} AS _extra"]
        return f"SELECT {', '.join(select)} FROM ({self._parts(fields)}) parts"

    def note_reason(self, f: Field, alias: str) -> tuple[str, str]:
        """(reason SQL, join SQL) for a cleaning note on optional field ``f``, over the
        warehouse table aliased ``alias``: mapped types take their mapping's reason."""
        raw = f"{alias}.{self.q(f.name + '_raw')}"
        if f.type in ("country", "currency"):
            table = MAPPED_TYPES[f.type]
            return ("coalesce(n.reason, 'cannot be cleaned')",
                    f"LEFT JOIN {table} n ON n.raw = {raw}")
        if f.type == "phone":
            region = (f"coalesce({alias}.{self.q(f.region_from + '_raw')}, '')"
                      if f.region_from else "''")
            return ("coalesce(n.reason, 'cannot be cleaned')",
                    f"LEFT JOIN map_phone n ON n.raw = {raw} AND n.region_raw = {region}")
        if f.type == "enum":
            return self.d.literal("not one of: " + ", ".join(f.values)), ""
        return self.d.literal(REASONS[f.type]), ""

    def optional_checked(self) -> list[Field]:
        """Optional fields whose cleaning can fail: their problems become notes."""
        return [f for f in self.table.fields if not f.required and f.type not in AS_GIVEN]
