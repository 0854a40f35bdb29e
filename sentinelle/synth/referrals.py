"""Tips from NCMEC, the FBI, Interpol, Europol, FIUs and partner police, as they arrive.

Referrals are partial by nature (brief): ``SURNAME Given`` order, accents dropped, a typo,
only an email, only a phone written another way. Some name people the provider never
served, and a few name people who did nothing wrong; the truth says which. About 30% of
the real buyers and facilitators are referred (brief: 20-40%), some several times by
different agencies — which is what the investigator must merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sentinelle.synth.calibration import CALIBRATION as CAL
from sentinelle.synth.geography import countries, draw_countries
from sentinelle.synth.identities import Identities
from sentinelle.synth.people import COHORTS, ROLES, World, add_people
from sentinelle.synth.sampling import unique_ints, weighted

FIU = {"FR": "Tracfin", "GB": "UKFIU", "US": "FinCEN", "AU": "AUSTRAC", "CA": "FINTRAC",
       "DE": "FIU Germany", "NL": "FIU-NL", "BE": "CTIF", "CH": "MROS", "SE": "Finanspolisen",
       "NO": "Okokrim", "DK": "Hvidvasksekretariatet", "PH": "AMLC"}
POLICE = {"FR": "OFMIN", "GB": "NCA", "US": "HSI", "AU": "AFP", "CA": "RCMP", "DE": "BKA",
          "NL": "Politie", "BE": "Federal Police BE", "CH": "fedpol", "SE": "NOA", "NO": "Kripos",
          "DK": "NC3", "PH": "PNP-WCPC", "TH": "Royal Thai Police", "CO": "Policia Nacional CO",
          "RO": "DIICOT", "DO": "Policia Nacional DO", "MX": "Policia Cibernetica MX"}
REFERENCE_PREFIX = {"NCMEC": "CT", "FBI": "FBI", "Interpol": "IP", "Europol": "EP",
                    "Tracfin": "TRF", "FinCEN": "FIN", "AUSTRAC": "AUS", "FINTRAC": "FTC",
                    "UKFIU": "UKFIU", "PNP-WCPC": "WCPC", "DIICOT": "DIICOT", "OFMIN": "OFMIN"}
# Neutral summaries: what kind of tip it is, never what was seen.
SUMMARIES = {
    "NCMEC": ("CyberTipline report from an online platform about an account.",
              "Platform report with subscriber details."),
    "FBI": ("Subscriber details from a platform disclosure.",
            "Request to identify a user of an online service."),
    "Interpol": ("Notice from a partner country about a subject under investigation.",
                 "Payments to a flagged account; platform report."),
    "Europol": ("Operational analysis report linking payments across member states.",),
    "fiu": ("Suspicious transaction report: repeated small transfers abroad.",
            "Disclosure: payments to a beneficiary flagged in another case."),
    "police": ("Request for identification from partner police.",
               "Linked to an earlier investigation."),
}
# How the identifiers arrive (weights): the normal case is partial.
VIEWS = {"full": 18, "surname_first": 20, "no_accents": 10, "typo": 15, "initial": 7,
         "email_only": 10, "phone_only": 12, "account": 8}


@dataclass(frozen=True)
class Subject:
    person: int
    record: int  # the record the tip's identifiers come from
    side: str
    role: str  # what the referral says: buyer | facilitator | unknown
    first_day: int  # local day the person first paid or was paid (0 for absent people)
    last_day: int


def _sources(rng: np.random.Generator, role: str, country: str, k: int) -> list[str]:
    if role == "facilitator":
        pool = {"NCMEC": 10, "Interpol": 25, POLICE.get(country, "Interpol"): 35,
                FIU.get(country, "Europol"): 15, "Europol": 15 if country == "RO" else 2}
    else:
        pool = {"NCMEC": 30, "FBI": 15, "Interpol": 12, "Europol": 12,
                FIU.get(country, "Interpol"): 20, POLICE.get(country, "Europol"): 11}
    names, weights = list(pool), np.array(list(pool.values()), dtype=float)
    k = min(k, len(names))
    return [names[i] for i in rng.choice(len(names), size=k, replace=False,
                                         p=weights / weights.sum())]


def _kind(source: str) -> str:
    if source in SUMMARIES:
        return source
    return "fiu" if source in FIU.values() else "police"


def subjects(world: World, rng: np.random.Generator, activity: dict[str, np.ndarray]
             ) -> list[Subject]:
    """Who gets a referral: referred offenders, absent people and a few mistaken tips."""
    out: list[Subject] = []
    role = world.persons["role"]
    for side, records in (("sender", world.senders), ("beneficiary", world.beneficiaries)):
        first, last = activity[side]
        used = np.flatnonzero(first >= 0)
        person = records["person"][used]
        for r in ("buyer", "facilitator"):
            mine = np.unique(person[role[person] == ROLES.index(r)])
            chosen = rng.permutation(mine)[:round(CAL.referral_coverage * len(mine))]
            for p in chosen:
                own = used[person == p]
                rec = int(own[rng.integers(0, len(own))])
                for _ in range(1 + weighted(rng, (0.6, 0.28, 0.12), 1)[0]):
                    said = r if rng.random() < 0.9 else "unknown"
                    out.append(Subject(int(p), rec, side, said, int(first[own].min()),
                                       int(last[own].max())))
        if side == "sender":
            legit = used[role[person] == ROLES.index("legit")]
            n_mistaken = max(1, round(CAL.referral_mistaken_share * len(out)))
            for rec in rng.choice(legit, size=min(n_mistaken, len(legit)), replace=False):
                out.append(Subject(int(records["person"][rec]), int(rec), side, "buyer",
                                   int(first[rec]), int(last[rec])))
    return out + _absent(world, rng, round(CAL.referral_absent_share * len(out)))


def _absent(world: World, rng: np.random.Generator, n: int) -> list[Subject]:
    """People named in tips who never used this provider (their own person ids)."""
    n = max(2, n)
    is_buyer = rng.random(n) < 0.65
    is_buyer[0], is_buyer[1] = True, False
    out = []
    for buyer in (True, False):
        k = int((is_buyer == buyer).sum())
        weights = CAL.buyer_countries if buyer else CAL.buyer_corridors
        country = draw_countries(rng, weights, k)
        records = add_people(
            world, rng, "absent", role="buyer" if buyer else "facilitator",
            cohort="absent_buyer" if buyer else "absent_facilitator", country=country,
            gender=np.full(k, 0 if buyer else 1, dtype=np.int8),
            birth_years=(1950, 1994) if buyer else (1965, 1998),
            email_share=0.8 if buyer else 0.3, account_share=0.5, wallet_share=0.0)
        for rec in records:
            day = int(rng.integers(0, 730))
            out.append(Subject(int(world.absent["person"][rec]), int(rec), "absent",
                               "buyer" if buyer else "facilitator", day, day))
    return out


def build(world: World, ids: Identities, subs: list[Subject]) -> dict[str, list]:
    """The referral rows (canonical columns) with the truth of each (role, person, cohort)."""
    rng = world.rng("referral rows")
    subs = [subs[i] for i in rng.permutation(len(subs))]
    rows: dict[str, list] = {k: [] for k in (
        "referral_id", "source", "received_at", "subject_role", "subject_name",
        "subject_birth_date", "subject_email", "subject_phone", "subject_account",
        "subject_country", "summary", "truth_role", "person_id", "cohort")}
    numbers = unique_ints(rng, len(subs), 10_000, 1_000_000)
    view_names, view_weights = list(VIEWS), list(VIEWS.values())
    person_role = world.persons["role"]
    used_sources: dict[int, set[str]] = {}
    for i, s in enumerate(subs):
        country = countries()[world.side(s.side)["country"][s.record]].code
        taken = used_sources.setdefault(s.person, set())
        options = [x for x in _sources(rng, s.role if s.role != "unknown" else "buyer",
                                       country, 6) if x not in taken] or ["Interpol"]
        source = options[0]
        taken.add(source)
        # Tips arrive while the person is active or within months of it (to 2026-03-31).
        received = int(rng.integers(s.first_day + 15, s.last_day + 121))
        received = min(received, 820)
        view = view_names[weighted(rng, view_weights, 1)[0]]
        ident = ids.describe(s.side, s.record, view, rng)
        summaries = SUMMARIES[_kind(source)]
        rows["referral_id"].append(_reference(source, received, int(numbers[i])))
        rows["source"].append(source)
        rows["received_at"].append(str(np.datetime64("2024-01-01") + received))
        rows["subject_role"].append(s.role)
        for key in ("name", "birth_date", "email", "phone", "account", "country"):
            rows["subject_" + key].append(ident.get(key))
        rows["summary"].append(summaries[int(rng.integers(0, len(summaries)))])
        rows["truth_role"].append(ROLES[person_role[s.person]])
        rows["person_id"].append(ids.person_id(s.person))
        rows["cohort"].append(COHORTS[world.persons["cohort"][s.person]])
    return rows


def _reference(source: str, day: int, number: int) -> str:
    """The agency's own reference style: ``CT-2024-012345`` for a CyberTipline report."""
    year = 2024 + (day >= 366) + (day >= 731)
    prefix = REFERENCE_PREFIX.get(source) or "".join(w[0] for w in source.split()).upper()
    return f"{prefix}-{year}-{number:06d}"
