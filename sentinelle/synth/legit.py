"""The legitimate senders, who must dominate: families, partners, sponsors, one-off givers,
and adult-content customers.

Why so much care for the innocent: "the overwhelming majority of small transfers to these
countries are legitimate" (brief). Each cohort here shares some indicators with buyers on
purpose — families pay the same corridors with the same cover phrases, partners pay small
sums in the evening with a different surname, adult-content customers pay small amounts
at night to many-sender payees — so a detector is only useful if it combines indicators.
"""

from __future__ import annotations

import numpy as np

from sentinelle.synth import accounts, names, vocabulary
from sentinelle.synth.calendar import DAYS, month_starts
from sentinelle.synth.calibration import CALIBRATION as CAL
from sentinelle.synth.calibration import DIASPORA_HOSTS, EUR_PER_UNIT, HOURS, Weights
from sentinelle.synth.geography import countries, draw_cities, draw_countries, draw_zones
from sentinelle.synth.people import World, add_people
from sentinelle.synth.sampling import group_of, local_seconds, lognormal, rank_in_group, weighted
from sentinelle.synth.transactions import ROUND, Ledger, Payments, channels, rounding

FAMILY_CHANNELS = {"remittance": 85, "bank_transfer": 6, "card": 4, "e_wallet": 3, "cash": 2}


def senders_abroad(world: World, rng: np.random.Generator, origin: np.ndarray, *, cohort: str,
                   surname: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """Diaspora senders: living in a host country of their corridor, named from home."""
    host = np.empty(len(origin), dtype=np.int16)
    for oi in np.unique(origin):
        mask = origin == oi
        host[mask] = draw_countries(rng, DIASPORA_HOSTS[countries()[oi].code], int(mask.sum()))
    records = add_people(world, rng, "sender", role="legit", cohort=cohort, country=host,
                         gender=(rng.random(len(origin)) < 0.5).astype(np.int8),
                         birth_years=(1960, 2002), pool=pool, surname=surname)
    world.senders.cols["zone"][records] = draw_zones(rng, host)
    return records


def family(world: World, ledger: Ledger) -> None:
    """Diaspora households: 1-3 senders abroad paying 1-2 relatives at home, monthly."""
    rng = world.rng("family")
    n = world.count(CAL.family_senders)
    households = max(1, round(n / 1.3))
    hh = np.r_[np.arange(households), rng.integers(0, households, n - households)]
    origin = draw_countries(rng, CAL.family_corridors, households)
    pool = np.array([names.pool_code(countries()[o].pools[0]) for o in origin], dtype=np.int16)
    surname = names.draw_surname(rng, pool)
    city = draw_cities(rng, origin)
    two = rng.random(households) < 0.15
    home = np.r_[np.arange(households), np.flatnonzero(two)]  # household of each recipient
    rec_surname = np.where(rng.random(len(home)) < 0.85, surname[home],
                           names.other_surname(rng, pool[home], surname[home]))
    recipients = add_people(
        world, rng, "beneficiary", role="legit", cohort="family_recipient", country=origin[home],
        gender=(rng.random(len(home)) < 0.65).astype(np.int8), birth_years=(1945, 1990),
        pool=pool[home], surname=rec_surname, email_share=0.0, account_share=0.35,
        wallet_share=0.35)
    world.beneficiaries.cols["city"][recipients] = city[home]
    first = recipients[:households]
    second = np.full(households, -1)
    second[two] = recipients[households:]
    distinct_given_names(world, first[two], recipients[households:])
    # One phone for the household: two payees, two people, one number (an honest
    # look-alike of a facilitator collecting under relatives' names).
    share_phone = recipients[households:][rng.random(int(two.sum())) < 0.25]
    phone = world.beneficiaries.cols["phone"]
    phone[share_phone] = phone[first[home[share_phone - recipients[0]]]]
    snd_surname = np.where(rng.random(n) < 0.9, surname[hh],
                           names.other_surname(rng, pool[hh], surname[hh]))
    senders = senders_abroad(world, rng, origin[hh], cohort="family", surname=snd_surname,
                             pool=pool[hh])
    family_payments(world, ledger, rng, senders, first[hh], second[hh])


def distinct_given_names(world: World, first: np.ndarray, second: np.ndarray) -> None:
    """A household's second recipient is another person: where her name came out the
    first recipient's (same given name and surname, from a small pool), she takes the
    pool's next given name. Deterministic, so no random number is drawn and every other
    value of the world stays as it was."""
    cols = world.beneficiaries.cols
    given, surname = cols["first"], cols["surname"]
    same = (given[second] == given[first]) & (surname[second] == surname[first])
    ranges = np.array(names.pools().first_ranges)
    for record in second[same]:
        male, female, end = ranges[cols["pool"][record]]
        lo, hi = (male, female) if given[record] < female else (female, end)
        given[record] = lo + (given[record] - lo + 1) % (hi - lo)


def family_payments(world: World, ledger: Ledger, rng: np.random.Generator,
                    senders: np.ndarray, first: np.ndarray, second: np.ndarray) -> None:
    """Monthly payments around pay day (25th to 5th), larger in December (BSP 2024)."""
    n = len(senders)
    m0 = np.where(rng.random(n) < 0.7, 0, rng.integers(0, 21, n))
    m1 = np.where(rng.random(n) < 0.75, 23, m0 + rng.integers(2, 24, n))
    counts = np.minimum(m1, 23) - m0 + 1
    g = group_of(counts)
    month = m0[g] + rank_in_group(counts)
    keep = rng.random(len(g)) < CAL.family_monthly_rate
    g, month = g[keep], month[keep]
    k = len(g)
    starts = month_starts()
    december = month % 12 == 11
    payday = rng.random(k) < CAL.family_payday_share
    day = np.where(december, starts[month] + rng.integers(9, 23, k),
                   np.where(payday, starts[month] + 23 + rng.integers(0, 11, k),
                            starts[month] + rng.integers(0, 28, k)))
    base = lognormal(rng, CAL.family_monthly_usd, 0.45, n)[g]
    usd = base * lognormal(rng, 1.0, 0.12, k) * np.where(december, CAL.family_december_factor, 1)
    to_second = (second[g] >= 0) & (rng.random(k) < 0.25)
    description = np.where(december, vocabulary.draw(rng, "december", k),
                           vocabulary.draw(rng, "family", k))
    ledger.add(Payments(
        sender=senders[g], beneficiary=np.where(to_second, second[g], first[g]),
        day=np.minimum(day, DAYS - 1), second=local_seconds(rng, HOURS["family"], k),
        eur=usd * EUR_PER_UNIT["USD"], rounding=rounding(rng, k, 0.55, 0.15),
        channel=channels(rng, FAMILY_CHANNELS, g), description=description))


def natives(world: World, rng: np.random.Generator, n: int, cohort: str, male: float
            ) -> np.ndarray:
    """Senders living in their own country (partners, sponsors, givers, customers)."""
    country = draw_countries(rng, CAL.native_countries, n)
    records = add_people(world, rng, "sender", role="legit", cohort=cohort, country=country,
                         gender=(rng.random(n) >= male).astype(np.int8),
                         birth_years=(1950, 2000))
    world.senders.cols["zone"][records] = draw_zones(rng, country)
    return records


def receivers(world: World, rng: np.random.Generator, corridors: Weights, n: int, cohort: str,
              *, female: float, birth_years: tuple[int, int]) -> np.ndarray:
    """Payees abroad with no family tie to their sender (partners, pupils, gifts, performers)."""
    country = draw_countries(rng, corridors, n)
    records = add_people(world, rng, "beneficiary", role="legit", cohort=cohort,
                         country=country, gender=(rng.random(n) < female).astype(np.int8),
                         birth_years=birth_years, email_share=0.0, account_share=0.4,
                         wallet_share=0.35)
    world.beneficiaries.cols["city"][records] = draw_cities(rng, country)
    return records


def spread(rng: np.random.Generator, n: int, min_days: int, max_days: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """An active period per sender: start day and length in days, inside the two years."""
    length = rng.integers(min_days, max_days + 1, n)
    start = (rng.random(n) * np.maximum(DAYS - length, 1)).astype(np.int64)
    return start, np.minimum(length, DAYS - start)


def partners(world: World, ledger: Ledger) -> None:
    """Small regular sums to a partner abroad, in the evening; a different surname."""
    rng = world.rng("partner")
    n = world.count(CAL.partner_senders)
    senders = natives(world, rng, n, "partner", male=0.85)
    recips = receivers(world, rng, CAL.partner_corridors, n, "partner_recipient",
                       female=0.85, birth_years=(1975, 2002))
    # A few pay every few days: high volume at small amounts is not a buyer's privilege.
    period = np.array([3, 7, 14, 30])[weighted(rng, (0.05, 0.3, 0.35, 0.3), n)]
    start, length = spread(rng, n, 120, DAYS)
    counts = np.maximum(1, length // period)
    g = group_of(counts)
    k = len(g)
    day = start[g] + rank_in_group(counts) * period[g] + rng.integers(-2, 3, k)
    eur = lognormal(rng, CAL.partner_median_eur, 0.5, n)[g] * lognormal(rng, 1.0, 0.1, k)
    ledger.add(Payments(
        sender=senders[g], beneficiary=recips[g], day=np.clip(day, 0, DAYS - 1),
        second=local_seconds(rng, HOURS["partner"], k), eur=eur,
        rounding=rounding(rng, k, 0.6, 0.1),
        channel=channels(rng, {"remittance": 60, "e_wallet": 20, "p2p_app": 14, "card": 5,
                               "crypto": 1}, g),
        description=vocabulary.draw(rng, "partner", k)))


def sponsors(world: World, ledger: Ledger) -> None:
    """School fees, three terms a year (January, June, September), round amounts."""
    rng = world.rng("sponsor")
    n = world.count(CAL.sponsor_senders)
    senders = natives(world, rng, n, "sponsor", male=0.5)
    kids = 1 + (rng.random(n) < 0.2)
    g = group_of(kids)
    guardians = receivers(world, rng, CAL.sponsor_corridors, len(g), "sponsored",
                          female=0.7, birth_years=(1960, 1995))
    terms = np.array([0, 5, 8, 12, 17, 20])
    both_years = rng.random(len(g)) < 0.8
    first_year = rng.random(len(g)) < 0.5
    pay = np.where(both_years[:, None], True, (terms[None, :] < 12) == first_year[:, None])
    link, term = np.nonzero(pay)
    k = len(link)
    choices = np.array(CAL.sponsor_amounts_eur)
    amount = choices[rng.integers(0, len(choices), len(g))]
    ledger.add(Payments(
        sender=senders[g][link], beneficiary=guardians[link],
        day=month_starts()[terms[term]] + rng.integers(0, 15, k),
        second=local_seconds(rng, HOURS["sponsor"], k), eur=amount[link].astype(float),
        rounding=np.full(k, ROUND, np.int8),
        channel=channels(rng, {"bank_transfer": 40, "remittance": 50, "card": 10}, g[link]),
        description=vocabulary.draw(rng, "sponsor", k)))


def occasional(world: World, ledger: Ledger) -> None:
    """One to three gifts to someone abroad, in the daytime."""
    rng = world.rng("occasional")
    n = world.count(CAL.occasional_senders)
    senders = natives(world, rng, n, "occasional", male=0.5)
    recips = receivers(world, rng, CAL.family_corridors, n, "occasional_recipient",
                       female=0.6, birth_years=(1950, 2004))
    counts = 1 + weighted(rng, (0.6, 0.25, 0.15), n)
    g = group_of(counts)
    k = len(g)
    eur = np.clip(lognormal(rng, CAL.occasional_median_eur, 0.6, k), 15, 1000)
    ledger.add(Payments(
        sender=senders[g], beneficiary=recips[g], day=rng.integers(0, DAYS, k),
        second=local_seconds(rng, HOURS["occasional"], k), eur=eur,
        rounding=rounding(rng, k, 0.7, 0.05),
        channel=channels(rng, {"remittance": 80, "card": 10, "e_wallet": 10}, g),
        description=vocabulary.draw(rng, "occasional", k)))


def adult_customers(world: World, ledger: Ledger) -> None:
    """Small flat payments at night to performers and studios that many customers pay.

    The hard confounder for night-time and small-amount indicators: but the payees are
    platform-like, the amounts do not rise and the rhythm stays flat.
    """
    rng = world.rng("adult")
    n = world.count(CAL.adult_customers)
    senders = natives(world, rng, n, "adult_customer", male=0.95)
    n_perf = max(4, n // 2)
    studio = rng.random(n_perf) < 0.25
    studio[0] = True
    perf = np.empty(n_perf, dtype=np.int64)
    for is_studio, cohort in ((False, "performer"), (True, "studio")):
        rows = np.flatnonzero(studio == is_studio)
        perf[rows] = receivers(world, rng, CAL.adult_corridors, len(rows), cohort,
                               female=1.0, birth_years=(1990, 2004))
    b = world.beneficiaries
    studios = perf[studio]
    b.cols["business"][studios] = len(world.businesses) + np.arange(len(studios))
    world.businesses.extend(names.business_names(rng, len(studios)))
    # A company account, never a personal wallet.
    b.cols["account_kind"][studios] = accounts.draw_kinds(rng, b["country"][studios], 1.0, 0.0)
    people = perf[~studio]
    b.cols["handle"][people] = len(world.handles) + np.arange(len(people))
    world.handles.extend(names.handles(rng, b["first"][people]))
    popularity = np.where(studio, 3.0, 1.0) / np.arange(1, n_perf + 1) ** 0.7
    links = 1 + weighted(rng, (0.5, 0.3, 0.12, 0.08), n)
    start, length = spread(rng, n, 60, 540)
    period = np.where(rng.random(n) < 0.1, rng.integers(2, 5, n), rng.integers(5, 31, n))
    counts = np.maximum(1, length // period)
    g = group_of(counts)
    k = len(g)
    choice = weighted(rng, popularity, int(links.sum()))
    first_link = np.cumsum(links) - links
    payee = perf[choice[first_link[g] + (rng.random(k) * links[g]).astype(np.int64)]]
    handle = b["handle"][payee]
    use_handle = (handle >= 0) & (rng.random(k) < 0.4)
    description = np.where(use_handle, vocabulary.handle_codes(handle),
                           vocabulary.draw(rng, "adult", k))
    eur = np.array(CAL.adult_amounts_eur)[rng.integers(0, len(CAL.adult_amounts_eur), n)][g]
    ledger.add(Payments(
        sender=senders[g], beneficiary=payee,
        day=start[g] + (rng.random(k) * length[g]).astype(np.int64),
        second=local_seconds(rng, HOURS["adult"], k), eur=eur.astype(float),
        rounding=rounding(rng, k, 0.8, 0.0),
        channel=channels(rng, {"card": 30, "e_wallet": 25, "p2p_app": 14, "remittance": 27,
                               "crypto": 4}, g),
        description=description))

