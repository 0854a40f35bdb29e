"""The strings a provider or an agency holds about a record: ids, names, phones, emails.

Built once, vectorised with pyarrow, for every record; the writer takes rows from them
for each chunk of transactions, and referrals quote them — partially, re-ordered,
misspelt — the way agencies do.

Ids are opaque (``S0412345``, ``B0098123``, ``P…``): random distinct numbers, so neither
the order nor the value says anything about the truth.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinelle.synth import accounts, phones
from sentinelle.synth.calendar import date_strings
from sentinelle.synth.geography import city_names, countries
from sentinelle.synth.names import first_ascii, pools, strip_accents, surname_ascii
from sentinelle.synth.people import NAME_STYLES, Columns, World
from sentinelle.synth.sampling import unique_ints

DOMAINS = ("example.org", "example.com", "example.net")
ID_PREFIX = {"sender": "S", "beneficiary": "B", "absent": "X"}


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(
        prefix, pc.utf8_lpad(pa.array(numbers).cast(pa.string()), 7, "0"), "")


def _nullable_take(values: pa.Array, idx: np.ndarray) -> pa.Array:
    return values.take(pa.array(np.where(idx >= 0, idx, 0), mask=idx < 0))


def names_of(records: Columns, businesses: list[str]) -> pa.Array:
    """Each record's name, written in its record's style."""
    p = pools()
    first = pa.array(p.first).take(pa.array(records["first"]))
    surname = _nullable_take(pa.array(p.surnames), records["surname"])
    plain_first = pa.array([strip_accents(x) for x in p.first]).take(pa.array(records["first"]))
    plain_surname = _nullable_take(pa.array([strip_accents(x) for x in p.surnames]),
                                   records["surname"])
    given_first = pc.binary_join_element_wise(first, surname, " ")
    styles = {
        "given_first": given_first,
        "upper": pc.utf8_upper(given_first),
        "surname_first": pc.binary_join_element_wise(pc.utf8_upper(surname), first, " "),
        "no_accents": pc.binary_join_element_wise(plain_first, plain_surname, " "),
    }
    name = pc.choose(pa.array(records["name_style"]), *(styles[s] for s in NAME_STYLES))
    business = records["business"]
    if (business >= 0).any():
        name = pc.if_else(pa.array(business >= 0),
                          _nullable_take(pa.array(businesses, pa.string()), business), name)
    return name


def emails_of(records: Columns) -> pa.Array:
    """first.last42@example.org and its variants; unique across records."""
    e = records["email"]
    has = e >= 0
    e = np.where(has, e, 0)
    fa = pa.array(first_ascii()).take(pa.array(records["first"]))
    sa = _nullable_take(pa.array(surname_ascii()), records["surname"])
    sa = pc.fill_null(sa, "info")
    initial = pc.utf8_slice_codeunits(fa, 0, 1)
    join = pc.binary_join_element_wise
    variants = [join(fa, sa, "."), join(fa, sa, ""), join(initial, sa, "."), join(sa, fa, "."),
                join(fa, sa, "_")]
    local = pc.choose(pa.array(e % 5), *variants)
    digits = pc.if_else(pa.array((e // 1500) % 3 != 0),
                        pa.array((e // 5) % 100).cast(pa.string()), "")
    local = join(local, digits, "")
    domain = pa.array(DOMAINS).take(pa.array((e // 500) % 3))
    rows = np.flatnonzero(has)
    extra = pa.array(np.arange(len(e)) % 10).cast(pa.string())
    # Two people with the same name and digits: the later one adds a digit, as mail
    # providers make people do.
    for _ in range(8):
        full = join(local, domain, "@").dictionary_encode()
        code = full.indices.to_numpy()[rows]
        first = np.full(len(full.dictionary), len(e))
        np.minimum.at(first, code, rows)
        dup = rows[first[code] != rows]
        if not len(dup):
            break
        mask = np.zeros(len(e), dtype=bool)
        mask[dup] = True
        local = pc.if_else(pa.array(mask), join(local, extra, ""), local)
    return pc.if_else(pa.array(has), join(local, domain, "@"), pa.scalar(None, pa.string()))


class Identities:
    """Strings for every record of every side, and the opaque ids."""

    def __init__(self, world: World, used: dict[str, np.ndarray]) -> None:
        rng = world.rng("ids")
        self.world = world
        self.person_ids = _ids("P", unique_ints(rng, len(world.persons), 1, 10**7))
        self.columns: dict[str, dict[str, pa.Array]] = {}
        for side in ("sender", "beneficiary", "absent"):
            records = world.side(side)
            mask = used.get(side, np.ones(len(records), dtype=bool))
            numbers = np.zeros(len(records), dtype=np.int64)
            numbers[mask] = unique_ints(rng, int(mask.sum()), 1, 10**7)
            country = records["country"]
            phone = phones.format_numbers(country, records["phone"], records["phone_style"])
            wallet = pc.binary_join_element_wise(
                pa.array([c.code for c in countries()]).take(pa.array(country)),
                phones.format_as(country, records["phone"], "national_compact"), "-EW-")
            self.columns[side] = {
                "id": pc.if_else(pa.array(mask), _ids(ID_PREFIX[side], numbers),
                                 pa.scalar(None, pa.string())),
                "name": names_of(records, world.businesses),
                "birth_date": date_strings(records["birth"]),
                "country": pa.array([c.code for c in countries()]).take(pa.array(country)),
                "phone": phone,
                "email": emails_of(records),
                "account": accounts.format_accounts(country, records["account_kind"],
                                                    records["account"], wallet),
                "city": _nullable_take(pa.array(city_names()), records["city"]),
            }

    def person_id(self, person: int) -> str:
        return str(self.person_ids[person])

    def value(self, side: str, column: str, record: int) -> str | None:
        return self.columns[side][column][record].as_py()

    def describe(self, side: str, record: int, view: str, rng: np.random.Generator
                 ) -> dict[str, str | None]:
        """The identifiers a referral quotes for a record, in one of the usual partial forms."""
        records = self.world.side(side)
        first = pools().first[records["first"][record]]
        surname = pools().surnames[records["surname"][record]]
        country = self.value(side, "country", record)
        email = self.value(side, "email", record)
        birth = self.value(side, "birth_date", record)
        account = self.value(side, "account", record)
        if view == "email_only" and email is None:
            view = "phone_only"
        if view == "account" and account is None:
            view = "phone_only"
        out: dict[str, str | None] = {"country": country}
        if view == "full":
            out |= {"name": f"{first} {surname}", "birth_date": birth}
            if rng.random() < 0.5:
                out["email"] = email
        elif view == "surname_first":
            out["name"] = f"{surname.upper()} {first}"
            if rng.random() < 0.5:
                out["birth_date"] = birth
        elif view == "no_accents":
            out |= {"name": strip_accents(f"{first} {surname}"),
                    "phone": self.other_phone(side, record, rng)}
        elif view == "typo":
            out |= {"name": typo(f"{first} {surname}", rng), "birth_date": birth}
        elif view == "initial":
            out |= {"name": f"{first[0]}. {surname.upper()}", "birth_date": birth}
        elif view == "email_only":
            out = {"email": email, "country": country if rng.random() < 0.5 else None}
        elif view == "account":
            out |= {"account": account, "name": f"{surname.upper()} {first}"}
        else:
            out["phone"] = self.other_phone(side, record, rng)
        return out

    def other_phone(self, side: str, record: int, rng: np.random.Generator) -> str | None:
        """The record's phone written in a different style than the provider's."""
        records = self.world.side(side)
        if records["phone"][record] == 0:
            return None
        styles = [s for i, s in enumerate(phones.STYLES) if i != records["phone_style"][record]]
        style = styles[int(rng.integers(0, len(styles)))]
        one = np.array([record])
        return phones.format_as(records["country"][one], records["phone"][one], style)[0].as_py()


def typo(name: str, rng: np.random.Generator) -> str:
    """One slip of the keyboard in one word: swap, drop, double or change a letter."""
    words = name.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 4]
    if not candidates:
        return name
    i = candidates[int(rng.integers(0, len(candidates)))]
    w = words[i]
    j = int(rng.integers(1, len(w) - 2))
    op = int(rng.integers(0, 4))
    if op == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    elif op == 1:
        w = w[:j] + w[j + 1:]
    elif op == 2:
        w = w[:j] + w[j] + w[j:]
    else:
        vowels = "aeiou"
        w = w[:j] + (vowels[(vowels.find(w[j]) + 1) % 5] if w[j] in vowels else "e") + w[j + 1:]
    if w == words[i]:  # swapping two equal letters changes nothing: drop one instead
        w = w[:j] + w[j + 1:]
    words[i] = w
    return " ".join(words)

