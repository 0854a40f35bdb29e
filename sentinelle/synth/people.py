"""People and their records at the provider, held column by column.

A *person* is someone real in the synthetic world (one ``person_id`` in the truth); a
*record* is what the provider holds: a sender registration or a beneficiary (payee)
record. One person may have several records — a buyer who registered twice, a
facilitator collecting under relatives' names — and that is exactly what entity
resolution must undo, so the two are kept apart here.

Columns are numpy arrays of small integer codes (country, name indexes, phone digits);
strings are only built when the files are written. That keeps ten million transactions
and a million people inside a few hundred megabytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zlib import crc32

import numpy as np

from sentinelle.synth import accounts, names, phones
from sentinelle.synth.calendar import MISSING_DATE
from sentinelle.synth.geography import countries

ROLES = ("buyer", "facilitator", "legit")
COHORTS = (
    "buyer_heavy", "buyer", "facilitator", "family", "family_recipient", "partner",
    "partner_recipient", "sponsor", "sponsored", "occasional", "occasional_recipient",
    "adult_customer", "performer", "studio", "absent_buyer", "absent_facilitator",
)

# How a provider wrote the name: "Given Surname", "GIVEN SURNAME", "SURNAME Given",
# or "Given Surname" without accents (a system that cannot store them).
NAME_STYLES = ("given_first", "upper", "surname_first", "no_accents")
NAME_STYLE_WEIGHTS = (0.80, 0.07, 0.08, 0.05)

RECORD_COLUMNS: dict[str, tuple[type, Any]] = {
    "person": (np.int64, -1),
    "country": (np.int16, -1),
    "pool": (np.int16, -1),
    "gender": (np.int8, names.MALE),
    "first": (np.int32, -1),
    "surname": (np.int32, -1),
    "business": (np.int32, -1),  # platform-like payees: index into World.businesses
    "name_style": (np.int8, 0),
    "birth": (np.int32, MISSING_DATE),  # days since 1970-01-01
    "phone": (np.int64, 0),  # national significant number; 0 = none
    "phone_style": (np.int8, 0),
    "email": (np.int64, -1),  # a random number the address is built from; -1 = none
    "account": (np.int64, 0),  # random digits; 0 = none
    "account_kind": (np.int8, accounts.NONE),
    "zone": (np.int16, -1),  # senders: time zone code
    "city": (np.int16, -1),  # beneficiaries: city code
    "handle": (np.int32, -1),  # beneficiaries: index into World.handles
    "twin": (np.int64, -1),  # senders: the same person's second registration
}
PERSON_COLUMNS: dict[str, tuple[type, Any]] = {"role": (np.int8, 0), "cohort": (np.int8, 0)}


class Columns:
    """An append-only table of numpy columns with fixed types and defaults."""

    def __init__(self, schema: dict[str, tuple[type, Any]]) -> None:
        self.schema = schema
        self.cols: dict[str, np.ndarray] = {
            k: np.empty(0, dtype=t) for k, (t, _) in schema.items()}

    def __len__(self) -> int:
        return len(next(iter(self.cols.values())))

    def __getitem__(self, name: str) -> np.ndarray:
        return self.cols[name]

    def append(self, n: int, **values: Any) -> np.ndarray:
        """Add ``n`` rows (scalars broadcast, missing columns take their default)."""
        unknown = set(values) - set(self.schema)
        if unknown:
            raise KeyError(f"unknown columns {sorted(unknown)}")
        start = len(self)
        for k, (t, default) in self.schema.items():
            new: np.ndarray = np.broadcast_to(np.asarray(values.get(k, default), dtype=t), (n,))
            self.cols[k] = np.concatenate([self.cols[k], new])
        return np.arange(start, start + n)

    def take(self, idx: np.ndarray) -> dict[str, np.ndarray]:
        return {k: v[idx] for k, v in self.cols.items()}


@dataclass
class World:
    """Everything generated so far; the generators add to it, the writer reads it."""

    seed: int
    scale: float
    persons: Columns = field(default_factory=lambda: Columns(PERSON_COLUMNS))
    senders: Columns = field(default_factory=lambda: Columns(RECORD_COLUMNS))
    beneficiaries: Columns = field(default_factory=lambda: Columns(RECORD_COLUMNS))
    absent: Columns = field(default_factory=lambda: Columns(RECORD_COLUMNS))  # referrals only
    handles: list[str] = field(default_factory=list)
    businesses: list[str] = field(default_factory=list)
    taken: dict[str, np.ndarray] = field(default_factory=dict)  # phones, accounts handed out

    def rng(self, stream: str) -> np.random.Generator:
        """An independent generator per named stream: adding a cohort changes no other."""
        return np.random.default_rng([self.seed, crc32(stream.encode())])

    def count(self, at_scale_one: float, minimum: int = 1) -> int:
        return max(minimum, round(at_scale_one * self.scale))

    def side(self, name: str) -> Columns:
        """``sender``, ``beneficiary``, or ``absent`` (people only referrals name)."""
        return {"sender": self.senders, "beneficiary": self.beneficiaries,
                "absent": self.absent}[name]


def birth_days(rng: np.random.Generator, first_year: int, last_year: int, n: int) -> np.ndarray:
    lo = (date(first_year, 1, 1) - date(1970, 1, 1)).days
    hi = (date(last_year, 12, 31) - date(1970, 1, 1)).days
    return rng.integers(lo, hi + 1, n).astype(np.int32)


def default_pool(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """A naming pool per person from the country's own traditions."""
    out = np.full(len(country), -1, dtype=np.int16)
    for ci in np.unique(country):
        pools = countries()[ci].pools
        if not pools:
            raise ValueError(f"country {countries()[ci].code} declares no name pool; pass one")
        mask = country == ci
        codes = np.array([names.pool_code(p) for p in pools], dtype=np.int16)
        out[mask] = codes[rng.integers(0, len(codes), int(mask.sum()))]
    return out


def add_people(
    world: World,
    rng: np.random.Generator,
    side: str,
    *,
    role: str,
    cohort: str,
    country: np.ndarray,
    gender: np.ndarray,
    birth_years: tuple[int, int],
    pool: np.ndarray | None = None,
    surname: np.ndarray | None = None,
    email_share: float = 0.85,
    account_share: float = 0.7,
    wallet_share: float = 0.0,
    birth_share: float = 0.9,
) -> np.ndarray:
    """Create one person per row and their one record on ``side``; returns record indexes."""
    n = len(country)
    pool = default_pool(rng, country) if pool is None else pool
    person = world.persons.append(n, role=ROLES.index(role), cohort=COHORTS.index(cohort))
    birth = birth_days(rng, *birth_years, n)
    birth[rng.random(n) >= birth_share] = MISSING_DATE
    kind = accounts.draw_kinds(rng, country, account_share, wallet_share)
    return world.side(side).append(
        n,
        person=person,
        country=country,
        pool=pool,
        gender=gender,
        first=names.draw_first(rng, pool, gender),
        surname=names.draw_surname(rng, pool) if surname is None else surname,
        name_style=rng.choice(len(NAME_STYLES), size=n, p=NAME_STYLE_WEIGHTS),
        birth=birth,
        phone=phones.draw_numbers(rng, country, world.taken),
        phone_style=phones.draw_styles(rng, n),
        email=np.where(rng.random(n) < email_share, rng.integers(0, 2**40, n), -1),
        account=accounts.draw_numbers(rng, n, world.taken),
        account_kind=kind,
    )


def register_twice(world: World, rng: np.random.Generator, records: np.ndarray) -> np.ndarray:
    """A second sender registration for each record's person: same person, changed details.

    Why: re-registering (a new phone, a new email, the name typed differently) is how a
    sender's history splits into two customer numbers; the truth joins them again.
    """
    s = world.senders
    n = len(records)
    row = s.take(records)
    new_phone = rng.random(n) < 0.5
    fresh_phone = phones.draw_numbers(rng, row["country"], world.taken)
    row["phone"] = np.where(new_phone, fresh_phone, row["phone"])
    row["phone_style"] = phones.draw_styles(rng, n)
    row["email"] = np.where(rng.random(n) < 0.85, rng.integers(0, 2**40, n), -1)
    row["name_style"] = rng.choice(len(NAME_STYLES), size=n, p=NAME_STYLE_WEIGHTS)
    fresh_account = accounts.draw_numbers(rng, n, world.taken)
    row["account"] = np.where(rng.random(n) < 0.6, fresh_account, row["account"])
    row["birth"] = np.where(rng.random(n) < 0.2, MISSING_DATE, row["birth"])
    row["twin"] = np.full(n, -1)
    twins = s.append(n, **row)
    s.cols["twin"][records] = twins
    return twins
