"""Buyers and facilitators: the few the system exists to find.

Buyers (AIC T&I 589, 634, 639; FATF 2025; AUSTRAC): men in Europe, North America and
Australia; small, often round amounts (median about A$51, always under EUR 1,500) at
night in their own time; heavy-tailed volume (3% of buyers make half the payments);
amounts and frequency rising over their active period; several unrelated payees over
time, some payees shared with other buyers.

Facilitators (AIC T&I 642; AMLC): mostly women in the Philippines, also Thailand,
Colombia, Romania, the Dominican Republic and Mexico; paid by many unrelated foreign
buyers, and also by a relative abroad; some collect under relatives' names with their
own phone, so one person holds several payee records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentinelle.synth import accounts, names, vocabulary
from sentinelle.synth.calendar import DAYS
from sentinelle.synth.calibration import CALIBRATION as CAL
from sentinelle.synth.calibration import HOURS
from sentinelle.synth.geography import draw_cities, draw_countries, draw_zones
from sentinelle.synth.legit import family_payments, senders_abroad
from sentinelle.synth.people import COHORTS, World, add_people, birth_days, register_twice
from sentinelle.synth.phones import draw_styles
from sentinelle.synth.sampling import group_of, local_seconds, lognormal, stratified, weighted
from sentinelle.synth.transactions import Ledger, Payments, channels, rounding

BUYER_CHANNELS = {"remittance": 65, "e_wallet": 12, "p2p_app": 8, "card": 6,
                  "bank_transfer": 4, "crypto": 3, "cash": 2}


@dataclass(frozen=True)
class Facilitators:
    primary: np.ndarray  # the facilitator's own payee record, one per facilitator
    records: np.ndarray  # every payee record she collects under (own and relatives')
    owner: np.ndarray  # the facilitator (index into primary) of each of ``records``


def facilitators(world: World, ledger: Ledger, n: int) -> Facilitators:
    rng = world.rng("facilitator")
    country = draw_countries(rng, CAL.buyer_corridors, n)
    gender = (rng.random(n) < CAL.facilitator_female_share).astype(np.int8)
    primary = add_people(world, rng, "beneficiary", role="facilitator", cohort="facilitator",
                         country=country, gender=gender, birth_years=(1965, 1998),
                         email_share=0.0, account_share=0.3, wallet_share=0.5)
    b = world.beneficiaries
    b.cols["city"][primary] = draw_cities(rng, country)
    b.cols["handle"][primary] = len(world.handles) + np.arange(n)
    world.handles.extend(names.handles(rng, b["first"][primary]))

    # Relatives' names: same surname (mostly), same phone, same city; cash pickup or a bank
    # account of their own, never her wallet (AIC T&I 642: often female family members).
    aliased = rng.random(n) < CAL.facilitator_alias_share
    aliased[0] = True
    per = np.where(aliased, 1 + (rng.random(n) < 0.4), 0)
    owner = group_of(per)
    m = len(owner)
    src = b.take(primary[owner])
    pool = src["pool"]
    relative_gender = (rng.random(m) < 0.8).astype(np.int8)
    surname = np.where(rng.random(m) < 0.9, src["surname"],
                       names.other_surname(rng, pool, src["surname"]))
    aliases = b.append(
        m, person=src["person"], country=src["country"], pool=pool, gender=relative_gender,
        first=names.draw_first(rng, pool, relative_gender), surname=surname,
        name_style=src["name_style"], birth=birth_days(rng, 1950, 2000, m),
        phone=src["phone"], phone_style=draw_styles(rng, m),
        account=accounts.draw_numbers(rng, m, world.taken),
        account_kind=accounts.draw_kinds(rng, src["country"], 0.3, 0.0), city=src["city"])

    # Ordinary family money from a relative abroad, like any household's.
    paid = np.flatnonzero(rng.random(n) < 0.75)
    relatives = senders_abroad(world, rng, country[paid], cohort="family",
                               surname=b["surname"][primary[paid]],
                               pool=b["pool"][primary[paid]])
    family_payments(world, ledger, rng, relatives, primary[paid], np.full(len(paid), -1))
    return Facilitators(primary, np.r_[primary, aliases], np.r_[np.arange(n), owner])


def buyer_counts(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Payments per buyer and who is heavy: 3% make about half (AIC T&I 589).

    The light majority follow a log-logistic law (median 3, heavy tail, capped at 40);
    the top 3% make 120-220 payments (about 170 each in AIC's sample). Stratified draws
    keep the share stable even for a small world.
    """
    heavy = np.zeros(n, dtype=bool)
    n_heavy = max(1, round(CAL.heavy_buyer_share * n))
    heavy[rng.permutation(n)[:n_heavy]] = True
    counts = np.empty(n, dtype=np.int64)
    lo, hi = CAL.heavy_buyer_payments
    counts[heavy] = lo + np.round(stratified(rng, n_heavy) * (hi - lo)).astype(np.int64)
    u = stratified(rng, n - n_heavy)
    light = CAL.light_buyer_median_payments * (u / (1 - u)) ** (1 / 1.8)
    counts[~heavy] = np.clip(np.round(light), 1, 40).astype(np.int64)
    return counts, heavy


def buyers(world: World, ledger: Ledger, n: int, fac: Facilitators) -> None:
    rng = world.rng("buyer")
    country = draw_countries(rng, CAL.buyer_countries, n)
    records = add_people(world, rng, "sender", role="buyer", cohort="buyer", country=country,
                         gender=np.zeros(n, dtype=np.int8), birth_years=(1950, 1994))
    world.senders.cols["zone"][records] = draw_zones(rng, country)
    counts, heavy = buyer_counts(rng, n)
    world.persons.cols["cohort"][world.senders["person"][records[heavy]]] = \
        COHORTS.index("buyer_heavy")

    # Active period; heavy buyers pay every few days (AIC: intervals under 20 days).
    gap = lognormal(rng, 20.0, 0.5, n)
    length = np.where(heavy, rng.integers(240, DAYS, n),
                      np.minimum(DAYS - 1, np.maximum(1, counts * gap))).astype(np.int64)
    start = (rng.random(n) * (DAYS - length)).astype(np.int64)
    g = group_of(counts)
    k = len(g)
    # Frequency rises: payment times have density growing over the period (AIC T&I 589).
    x = rng.random(k) ** (1 / (1 + CAL.buyer_escalation))
    x = x[np.lexsort((x, g))]
    day = start[g] + (x * length[g]).astype(np.int64)

    # Amounts rise too, from a base so the overall median lands near A$51 (about EUR 30).
    base_median = np.where(heavy, CAL.heavy_buyer_median_eur, CAL.buyer_median_eur) / 1.3
    sigma = np.where(heavy, 0.12, CAL.buyer_amount_sigma)
    base = base_median * np.exp(sigma * rng.standard_normal(n))
    eur = base[g] * (1 + 0.5 * x) * lognormal(rng, 1.0, 0.2, k)
    large = ~heavy[g] & (rng.random(k) < CAL.buyer_large_share)
    eur = np.where(large, eur * lognormal(rng, 6.0, 0.4, k), eur)
    eur = np.clip(eur, 8.0, CAL.buyer_max_eur)

    beneficiary, handle = _payees(rng, fac, counts, heavy, g, x)
    world_handles = world.beneficiaries["handle"][handle]
    use_handle = rng.random(k) < 0.25
    description = np.where(use_handle, vocabulary.handle_codes(world_handles),
                           vocabulary.draw(rng, "buyer", k))
    ledger.add(Payments(
        sender=records[g], beneficiary=beneficiary, day=day,
        second=local_seconds(rng, HOURS["buyer"], k), eur=eur,
        rounding=rounding(rng, k, CAL.buyer_round_share, 0.1),
        channel=channels(rng, BUYER_CHANNELS, g, stickiness=0.85),
        description=description, max_eur=CAL.buyer_max_eur))
    twice = rng.random(n) < CAL.buyer_double_registration
    register_twice(world, rng, records[twice])


def _payees(rng: np.random.Generator, fac: Facilitators, counts: np.ndarray,
            heavy: np.ndarray, g: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which payee record each payment goes to, and that facilitator's own record.

    Buyers move from facilitator to facilitator over time (AUSTRAC v Westpac: "multiple
    beneficiaries ... within short timeframes"); popular facilitators are shared by many
    buyers (AUSTRAC: "a common beneficiary ... sent by multiple customers").
    """
    n, n_fac = len(counts), len(fac.primary)
    popularity = 1.0 / (rng.permutation(n_fac) + 1.0) ** 0.8
    popularity /= popularity.sum()
    want = np.where(heavy, rng.integers(4, 11, n), 1 + weighted(rng, (0.5, 0.3, 0.15, 0.05), n))
    want = np.minimum(np.minimum(want, counts), n_fac)
    links = [list(rng.choice(n_fac, size=int(w), replace=False, p=popularity)) for w in want]
    paid = {f for fs in links for f in fs}
    multi = np.flatnonzero(counts >= 2)
    for f in range(n_fac):  # every facilitator has at least one buyer
        if f not in paid:
            links[int(multi[rng.integers(0, len(multi))])].append(f)
    sizes = np.array([len(fs) for fs in links])
    flat = np.concatenate([np.array(fs, dtype=np.int64) for fs in links])
    offset = np.cumsum(sizes) - sizes
    seg = np.minimum((x * sizes[g]).astype(np.int64), sizes[g] - 1)
    mixed = rng.random(len(g)) < 0.2
    seg = np.where(mixed, (rng.random(len(g)) * sizes[g]).astype(np.int64), seg)
    facilitator = flat[offset[g] + seg]
    # Under which of her names: a usual one per buyer and facilitator, sometimes another.
    order = np.argsort(fac.owner, kind="stable")
    owned = np.bincount(fac.owner, minlength=n_fac)
    first = np.cumsum(owned) - owned
    usual = (rng.random(len(flat)) * owned[flat]).astype(np.int64)[offset[g] + seg]
    other = (rng.random(len(g)) * owned[facilitator]).astype(np.int64)
    pick = np.where(rng.random(len(g)) < 0.7, usual, other)
    record = fac.records[order[first[facilitator] + pick]]
    return record, fac.primary[facilitator]
