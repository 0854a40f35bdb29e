"""Generate the whole synthetic world and write it: the one entry point, ``generate_world``.

The order matters only for counts: the legitimate senders come first, so the buyers can
be a calibrated share of all senders, and the facilitators a share of the buyers. Each
cohort draws from its own random stream (``World.rng``), so the same seed gives the same
bytes, and changing one cohort leaves the others as they were.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sentinelle.errors import SentinelleError
from sentinelle.model import load_table
from sentinelle.synth import comms, legit, offenders, referrals, writer
from sentinelle.synth.calendar import DAYS, END, START, local_days
from sentinelle.synth.calibration import CALIBRATION as CAL
from sentinelle.synth.identities import Identities
from sentinelle.synth.people import COHORTS, ROLES, World, register_twice
from sentinelle.synth.transactions import Ledger, Rows

FILES = ("transactions.csv", "referrals.csv", "truth.csv", "world.json")
TRUTH_COLUMNS = ["party_id", "side", "role", "person_id", "cohort"]


@dataclass(frozen=True)
class WorldSummary:
    """What was written: rows per file, people and transactions per cohort, the paths."""

    out_dir: Path
    seed: int
    scale: float
    rows: dict[str, int]  # file name -> data rows (world.json: 1)
    persons: dict[str, int]  # cohort -> people with at least one record or referral
    transactions: dict[str, int]  # sender's cohort -> transactions
    paths: dict[str, Path]
    seconds: float


def generate_world(out_dir: Path, scale: float = 1.0, seed: int = 0,
                   progress: Callable[[str, int, int], None] | None = None) -> WorldSummary:
    """Write a remittance export, referrals and the ground truth into ``out_dir``.

    Scale 1 is about 200,000 transactions over 2024-2025; the same seed and scale give
    byte-identical files. ``progress(step, done, total)`` is called as work advances.
    """
    if not scale > 0:
        raise SentinelleError("the scale must be greater than zero", value=str(scale),
                              fix="use --scale 1 for about 200,000 transactions")
    if seed < 0:
        raise SentinelleError("the seed must be zero or a positive integer", value=str(seed))
    started = time.monotonic()
    report = progress or (lambda *_: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = ["families", "partners", "sponsors", "occasional givers", "adult-content customers"]
    world, ledger = World(seed=seed, scale=scale), Ledger()
    cohorts = (legit.family, legit.partners, legit.sponsors, legit.occasional,
               legit.adult_customers)
    for i, (name, make) in enumerate(zip(steps, cohorts, strict=True)):
        report(f"Generating {name}", i, len(steps) + 2)
        make(world, ledger)
    n_legit = len(world.senders)
    rng = world.rng("legit twins")
    register_twice(world, rng, np.flatnonzero(rng.random(n_legit) < CAL.legit_double_registration))
    share = CAL.buyer_share_of_senders
    n_buyers = max(CAL.min_buyers, round(n_legit * share / (1 - share)))
    n_fac = max(CAL.min_facilitators, round(n_buyers / CAL.buyers_per_facilitator))
    report("Generating facilitators and buyers", len(steps), len(steps) + 2)
    fac = offenders.facilitators(world, ledger, n_fac)
    offenders.buyers(world, ledger, n_buyers, fac)
    report("Ordering transactions", len(steps) + 1, len(steps) + 2)
    rows = ledger.finish(world)

    used = {"sender": np.zeros(len(world.senders), bool),
            "beneficiary": np.zeros(len(world.beneficiaries), bool)}
    used["sender"][rows.sender] = True
    used["beneficiary"][rows.beneficiary] = True
    report("Building identities and referrals", 0, 1)
    # Referral subjects first: people only referrals name are created there.
    subjects = referrals.subjects(world, world.rng("referrals"), _activity(world, rows))
    ids = Identities(world, used)
    ref = referrals.build(world, ids, subjects)

    paths = {name: out_dir / name for name in FILES}
    counts: dict[str, int] = {}
    step = world.rng("txn ids").integers(1, 4, len(rows))
    counts["transactions.csv"] = writer.write_transactions(
        paths["transactions.csv"], rows, ids, world.handles, 10**8 + np.cumsum(step), report)
    report("Writing referrals and truth", 0, 1)
    counts["referrals.csv"] = writer.write_table(paths["referrals.csv"], ref,
                                                 load_table("referrals").column_names)
    # Calls and messages around the payments (docs/comms.md), from their own random
    # stream: the files above are the same bytes with or without them.
    paths["comms.csv"] = out_dir / "comms.csv"
    counts["comms.csv"] = comms.write_comms(paths["comms.csv"], world, rows, ids,
                                            world.rng("comms"))
    truth = _truth(world, ids, used, ref)
    counts["truth.csv"] = writer.write_table(paths["truth.csv"], truth, TRUTH_COLUMNS)
    persons = Counter(truth["cohort"][i] for i in _first_of_each(truth["person_id"]))
    cohort_of_row = world.persons["cohort"][world.senders["person"][rows.sender]]
    by_cohort = {COHORTS[c]: int(k) for c, k in
                 enumerate(np.bincount(cohort_of_row, minlength=len(COHORTS))) if k}
    counts["world.json"] = 1
    summary = WorldSummary(out_dir, seed, scale, counts, dict(sorted(persons.items())),
                           dict(sorted(by_cohort.items())), paths,
                           round(time.monotonic() - started, 1))
    writer.write_json(paths["world.json"], _world_json(summary))
    report("Done", 1, 1)
    return summary


def _activity(world: World, rows: Rows) -> dict[str, np.ndarray]:
    """First and last local day each record paid or was paid (-1 if never)."""
    day = local_days(rows.utc, rows.zone)
    out = {}
    for side, idx in (("sender", rows.sender), ("beneficiary", rows.beneficiary)):
        n = len(world.side(side))
        first, last = np.full(n, DAYS), np.full(n, -1)
        np.minimum.at(first, idx, day)
        np.maximum.at(last, idx, day)
        first[last < 0] = -1
        out[side] = np.stack([first, last])
    return out


def _truth(world: World, ids: Identities, used: dict[str, np.ndarray],
           ref: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """One row per sender id, beneficiary id and referral id, sorted by side then id."""
    out: dict[str, list[Any]] = {c: [] for c in TRUTH_COLUMNS}
    role, cohort = world.persons["role"], world.persons["cohort"]
    for side in ("sender", "beneficiary"):
        records = np.flatnonzero(used[side])
        person = world.side(side)["person"][records]
        party = ids.columns[side]["id"].take(records).to_pylist()
        order = np.argsort(np.array(party))
        out["party_id"] += [party[i] for i in order]
        out["side"] += [side] * len(records)
        out["role"] += [ROLES[r] for r in role[person[order]]]
        out["person_id"] += ids.person_ids.take(person[order]).to_pylist()
        out["cohort"] += [COHORTS[c] for c in cohort[person[order]]]
    order = np.argsort(np.array(ref["referral_id"]))
    out["party_id"] += [ref["referral_id"][i] for i in order]
    out["side"] += ["referral"] * len(order)
    out["role"] += [ref["truth_role"][i] for i in order]
    out["person_id"] += [ref["person_id"][i] for i in order]
    out["cohort"] += [ref["cohort"][i] for i in order]
    return out


def _first_of_each(values: list[str]) -> list[int]:
    seen: dict[str, int] = {}
    for i, v in enumerate(values):
        seen.setdefault(v, i)
    return list(seen.values())


def _world_json(summary: WorldSummary) -> dict[str, Any]:
    return {
        "generator": "sentinelle.synth",
        "seed": summary.seed,
        "scale": summary.scale,
        "period": {"start": START.isoformat(), "end": END.isoformat()},
        "provider": writer.PROVIDER,
        "rows": summary.rows,
        "persons_by_cohort": summary.persons,
        "transactions_by_cohort": summary.transactions,
        "calibration": CAL.as_json(),
    }
