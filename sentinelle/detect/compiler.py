"""Compile the catalogue to SQL for one engine.

Three statements come out: the prepared payments (one row per transaction with the
columns indicators are written against), the measures of one role (one row per party,
one column per aggregate indicator) and the evidence of an indicator. Only the dialect
knows how an engine spells local time, word lists or formatted numbers.

Parameters reach SQL in two ways: numbers are checked and written as literals; lists
(corridors, cover phrases) are loaded into small tables by the runner with bound
parameters and referred to by name, so nothing a user types is spliced into SQL.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sentinelle.detect.catalogue import Catalogue, Indicator
from sentinelle.errors import CatalogueError
from sentinelle.warehouse.dialect import Dialect

# The party each role is scored as, and the key columns of that party in a payment.
PARTY_KEYS = {"buyer": ("provider", "sender_id"), "facilitator": ("provider", "beneficiary_id")}

# Columns of the prepared payments, each with its meaning: the vocabulary of `measure`
# and `evidence` (docs/indicators.md lists them).
PAYMENT_COLUMNS: dict[str, str] = {
    "provider": "The provider that reported the payment; `subject` once entity resolution "
                "has run (the parties are then subjects, across providers).",
    "txn_provider": "The provider that reported the payment (the key of txn_id).",
    "txn_id": "The provider's transaction id.",
    "sender_id": "The sender (possible buyer): a subject id once entity resolution has run.",
    "beneficiary_id": "The beneficiary (possible facilitator): a subject id once entity "
                      "resolution has run.",
    "sender_name": "Sender's folded name.",
    "beneficiary_name": "Beneficiary's folded name.",
    "sender_country": "Sender's country.",
    "beneficiary_country": "Beneficiary's country.",
    "amount_eur": "Amount in euros at the day's reference rate.",
    "amount": "Amount in its own currency (for trends: exchange rates move, prices do not).",
    "epoch_s": "Time of the payment, seconds since 1970-01-01 UTC.",
    "day_number": "Time of the payment in days since 1970-01-01 (fractional).",
    "local_hour": "Hour of the day where the sender was (0-23).",
    "is_night": "Paid between night_from_hour and night_to_hour, sender's local time.",
    "is_small": "Amount at most small_eur.",
    "to_corridor": "Beneficiary country is one of high_risk_corridors.",
    "cross_border": "Sender and beneficiary countries differ.",
    "family_tie": "Sender and beneficiary share a surname word.",
    "is_cover": "Description is one of cover_phrases.",
    "is_handle": "Description is a social-media handle (@name).",
    "is_round": "Amount, in its own currency, is a whole multiple of round_unit.",
    "gap_days": "Days since the sender's previous payment (NULL for the first).",
    "payments_7d": "The sender's payments in the 7 days up to this one.",
    "new_beneficiary": "The sender first paid this beneficiary new_after_days or more "
                       "after the sender's first payment.",
    "later_half": "In the later half of the sender's active period.",
}

LIST_TABLE = "det_list_{name}"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def list_params(catalogue: Catalogue) -> dict[str, list[str]]:
    """The list-valued parameters, each loaded into its own table by the runner."""
    return {name: [str(v) for v in value] for name, value in catalogue.values.items()
            if isinstance(value, list)}


def _render(template: str, catalogue: Catalogue, where: str) -> str:
    """Fill ``{param}`` placeholders: numbers as literals, lists as a sub-select."""
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in catalogue.values:
            raise CatalogueError(f"{where} names unknown parameter {{{name}}}",
                                 fix="declare it under parameters:")
        value = catalogue.values[name]
        if isinstance(value, list):
            return f"(SELECT value FROM {LIST_TABLE.format(name=name)})"
        return number(value, f"{where}: {name}")
    return _PLACEHOLDER.sub(one, template)


def number(value: Any, label: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CatalogueError(f"{label} must be a finite number, not {value!r}")
    return repr(float(value)) if isinstance(value, float) else str(int(value))


def payments_sql(catalogue: Catalogue, dialect: Dialect) -> str:
    """One row per transaction with the prepared columns; needs ``det_zones`` and the
    list tables. Windows per sender give gaps, bursts and first payments."""
    v = catalogue.values
    hour_from = number(v["night_from_hour"], "night_from_hour")
    hour_to = number(v["night_to_hour"], "night_to_hour")
    night = (f"(local_hour >= {hour_from} OR local_hour < {hour_to})"
             if v["night_from_hour"] > v["night_to_hour"]
             else f"(local_hour >= {hour_from} AND local_hour < {hour_to})")
    # "Z" says the time is in UTC, not where the payer was: the offset is unknown.
    offset = (f"CASE WHEN {dialect.ends_with('t.timestamp_raw', ('Z', 'z'))} THEN NULL "
              "ELSE t.timestamp_offset_min END")
    epoch = dialect.epoch_seconds("t.timestamp")
    tie = dialect.words_overlap("t.sender_name_surname", "t.beneficiary_name_surname")
    handle = dialect.regex_match("t.description", r"@[A-Za-z0-9_.]{2,40}")
    sender = "PARTITION BY provider, sender_id"
    corridors = _render("{high_risk_corridors}", catalogue, "high_risk_corridors")
    cover = _render("{cover_phrases}", catalogue, "cover_phrases")
    # The windows read the keys and the time only, and their results are joined back by
    # the payment's key: a window keeps every column of its input while it partitions and
    # sorts, and over all the prepared columns (names among them) that was the spill
    # that filled the disk at 100 million payments (docs/scale.md).
    return f"""
WITH base AS (
  SELECT t.provider, t.txn_provider, t.txn_id, t.sender_id, t.beneficiary_id, t.sender_name,
         t.beneficiary_name, t.sender_country, t.beneficiary_country,
         CAST(t.amount_eur AS DOUBLE) AS amount_eur, CAST(t.amount AS DOUBLE) AS amount,
         {epoch} AS epoch_s,
         {dialect.local_hour("t.timestamp", offset, "z.zone")} AS local_hour,
         CAST(t.amount_eur AS DOUBLE) <= {number(v["small_eur"], "small_eur")} AS is_small,
         coalesce(t.beneficiary_country IN {corridors}, false)
           AS to_corridor,
         coalesce(t.sender_country <> t.beneficiary_country, false) AS cross_border,
         coalesce({tie}, false) AS family_tie,
         coalesce(lower(trim(t.description)) IN {cover}, false)
           AS is_cover,
         coalesce({handle}, false) AS is_handle,
         coalesce(t.amount % {number(v["round_unit"], "round_unit")} = 0, false) AS is_round
  FROM det_txn t LEFT JOIN det_zones z ON z.country = t.sender_country
  WHERE t.amount_eur IS NOT NULL
), keys AS (
  SELECT t.provider, t.sender_id, t.beneficiary_id, t.txn_provider, t.txn_id,
         {epoch} AS epoch_s
  FROM det_txn t WHERE t.amount_eur IS NOT NULL
), windowed AS (
  SELECT txn_provider, txn_id,
         (epoch_s - lag(epoch_s) OVER ({sender} ORDER BY epoch_s, txn_id)) / 86400.0 AS gap_days,
         count(*) OVER ({sender} ORDER BY epoch_s RANGE BETWEEN 604800 PRECEDING AND CURRENT ROW)
           AS payments_7d,
         min(epoch_s) OVER ({sender}) AS sender_first_s,
         max(epoch_s) OVER ({sender}) AS sender_last_s,
         min(epoch_s) OVER ({sender}, beneficiary_id) AS pair_first_s
  FROM keys
)
SELECT b.provider, b.txn_provider, b.txn_id, b.sender_id, b.beneficiary_id, b.sender_name,
       b.beneficiary_name, b.sender_country, b.beneficiary_country,
       b.amount_eur, b.amount, b.epoch_s, b.epoch_s / 86400.0 AS day_number, b.local_hour,
       {night.replace("local_hour", "b.local_hour")} AS is_night, b.is_small,
       b.to_corridor, b.cross_border, b.family_tie, b.is_cover, b.is_handle, b.is_round,
       w.gap_days, w.payments_7d,
       w.pair_first_s >= w.sender_first_s
         + {number(v["new_after_days"], "new_after_days")} * 86400 AS new_beneficiary,
       b.epoch_s >= (w.sender_first_s + w.sender_last_s) / 2 AS later_half
FROM base b JOIN windowed w ON w.txn_provider = b.txn_provider AND w.txn_id = b.txn_id"""


def measures_sql(catalogue: Catalogue, role: str) -> str:
    """One row per party of ``role``: payments, euros and each aggregate measure."""
    keys = ", ".join(PARTY_KEYS[role])
    side = "sender" if role == "buyer" else "beneficiary"
    cols = [f"{_render(i.measure, catalogue, i.id)} AS m_{i.id}"
            for i in catalogue.for_role(role, "aggregate")]
    listed = "".join(f",\n       {c}" for c in cols)
    return (f"SELECT {keys}, max({side}_name) AS name, max({side}_country) AS country, "
            f"count(*) AS payments, sum(amount_eur) AS eur, max(epoch_s) AS last_s{listed}\n"
            f"FROM det_payments GROUP BY {keys}")


def strength_sql(indicator: Indicator, value: str, payments: str) -> str:
    """0 at or below fires_from, 1 at or above full_at, scaled down on little support."""
    lo, hi = indicator.fires_from, indicator.full_at
    ramp = f"least(1.0, greatest(0.0, (coalesce({value}, {lo!r}) - {lo!r}) / {hi - lo!r}))"
    if indicator.support > 1:
        ramp += f" * least(1.0, {payments} / {float(indicator.support)!r})"
    return ramp


def evidence_sql(catalogue: Catalogue, indicator: Indicator, dialect: Dialect) -> str:
    """The payments that make an aggregate indicator fire, for the alerted parties in
    ``det_alert_parties`` (role, provider, party_id)."""
    provider, party = PARTY_KEYS[indicator.party]
    condition = _render(indicator.evidence, catalogue, indicator.id)
    return f"""SELECT a.role, a.provider, a.party_id, {dialect.literal(indicator.id)} AS indicator,
       p.txn_provider, p.txn_id
FROM det_payments p JOIN det_alert_parties a
  ON a.role = {dialect.literal(indicator.party)} AND a.provider = p.{provider}
 AND a.party_id = p.{party}
WHERE {condition}"""


def reason_sql(indicator: Indicator, catalogue: Catalogue, dialect: Dialect,
               value: str, payments: str, detail: str) -> str:
    """The reason sentence as an SQL expression; format specs become dialect calls."""
    parts: list[str] = []
    pos = 0
    for m in re.finditer(r"\{(\w+)(?::\.(\d)([f%]))?\}", indicator.reason):
        if m.start() > pos:
            parts.append(dialect.literal(indicator.reason[pos:m.start()]))
        name, digits, kind = m.group(1), m.group(2), m.group(3)
        expr = {"value": value, "payments": payments, "detail": detail}.get(name)
        if expr is None:
            param = catalogue.values[name]
            parts.append(dialect.literal(", ".join(map(str, param)) if isinstance(param, list)
                                         else str(param)))
        elif kind == "%":
            parts.append(dialect.fixed(f"100.0 * {expr}", int(digits)) + " || '%'")
        elif kind == "f":
            parts.append(dialect.fixed(expr, int(digits)))
        else:
            parts.append(dialect.cast(expr, "VARCHAR"))
        pos = m.end()
    if pos < len(indicator.reason):
        parts.append(dialect.literal(indicator.reason[pos:]))
    return "coalesce(" + " || ".join(parts) + ", '')"
