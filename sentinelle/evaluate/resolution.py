"""How much entity resolution improves detection, measured on synthetic worlds.

The same world is detected twice: on each provider's parties, then — after ``sentinelle
resolve`` — on subjects. The two runs rank different units (a facilitator with three
payee records is three parties but one subject), so they are compared on what both can
be held to: the **people** of the world's truth. A person's score is the highest score
of any unit holding one of their records on that side; average precision and recall in
the top 1% are then computed over people, with the person's true role as the label.
Unit-level figures (each run over its own units, a unit positive when any of its records
is) and the alerts raised per true person found are reported beside them.

    python -m sentinelle.evaluate.resolution OUT SCALE SEED [SEED…]

writes the worlds under OUT and prints one line per world and role; ``--publish`` also
writes the section of docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sentinelle.detect import detect, load_catalogue
from sentinelle.detect.catalogue import ROLES
from sentinelle.evaluate.metrics import rank_quality, spread
from sentinelle.warehouse import Warehouse, open_warehouse

SIDE = {"buyer": "sender", "facilitator": "beneficiary"}


@dataclass
class Effect:
    seed: int
    role: str
    people: int
    positives: int
    ap_parties: float
    ap_subjects: float
    top1_parties: float
    top1_subjects: float
    unit_ap_parties: float
    unit_ap_subjects: float
    alerts_per_found_parties: float
    alerts_per_found_subjects: float


def read_people(truth: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """(side, party_id) → (person_id, role), from a world's truth.csv."""
    with truth.open(newline="", encoding="utf-8") as fh:
        return {(r["side"], r["party_id"]): (r["person_id"], r["role"])
                for r in csv.DictReader(fh)}


def _units(wh: Warehouse, role: str) -> dict[str, list[str]]:
    """Each scored unit's records on the role's side: a party is its own record; a
    subject holds the parties det_subject_parties lists."""
    side = SIDE[role]
    if wh.has_table("det_subject_parties") and wh.scalar(
            "SELECT count(*) FROM det_scores WHERE provider = 'subject'"):
        units: dict[str, list[str]] = {}
        for subject, party in wh.execute(
                "SELECT subject_id, party_id FROM det_subject_parties WHERE side = ?",
                [side]).fetchall():
            units.setdefault(subject, []).append(party)
        return units
    return {p: [p] for (p,) in wh.execute(
        "SELECT party_id FROM det_scores WHERE role = ?", [role]).fetchall()}


def _figures(wh: Warehouse, role: str, people: dict[tuple[str, str], tuple[str, str]],
             threshold: float) -> dict[str, float]:
    side = SIDE[role]
    scores = dict(wh.execute("SELECT party_id, score FROM det_scores WHERE role = ?",
                             [role]).fetchall())
    units = _units(wh, role)
    best: dict[str, float] = {}
    unit_scores, unit_labels = [], []
    alerts = 0
    found_people: set[str] = set()
    for unit, records in units.items():
        score = float(scores.get(unit, 0.0))
        owners = {people[(side, r)] for r in records if (side, r) in people}
        positive = any(r == role for _, r in owners)
        unit_scores.append(score)
        unit_labels.append(positive)
        if score >= threshold:
            alerts += 1
            found_people.update(p for p, r in owners if r == role)
        for person, _ in owners:
            best[person] = max(best.get(person, 0.0), score)
    roles = {p: r for (s, _), (p, r) in people.items() if s == side}
    persons = sorted(roles)
    person_scores = np.array([best.get(p, 0.0) for p in persons])
    person_labels = np.array([roles[p] == role for p in persons])
    by_person = rank_quality(person_scores, person_labels)
    by_unit = rank_quality(np.array(unit_scores), np.array(unit_labels))
    found = len(found_people)
    return {"people": len(persons), "positives": int(person_labels.sum()),
            "ap": by_person.average_precision, "top1": by_person.top1_recall,
            "unit_ap": by_unit.average_precision,
            "alerts_per_found": alerts / found if found else float("nan")}


def measure_world(out: Path, scale: float, seed: int, threads: int = 2) -> list[Effect]:
    from sentinelle.ingest import ingest_paths
    from sentinelle.resolve import resolve
    from sentinelle.synth import generate_world

    folder = out / f"world-{scale}-{seed}"
    if not (folder / "truth.csv").exists():
        generate_world(folder, scale, seed)
    db = out / f"effect-{scale}-{seed}.duckdb"
    db.unlink(missing_ok=True)
    catalogue = load_catalogue()
    threshold = float(catalogue.values["alert_threshold"])
    people = read_people(folder / "truth.csv")
    with open_warehouse(db, "3GB", threads) as wh:
        ingest_paths(wh, "transactions", [folder / "transactions.csv"], user="measure")
        ingest_paths(wh, "referrals", [folder / "referrals.csv"], user="measure")
        detect(wh, catalogue, user="measure")
        before = {role: _figures(wh, role, people, threshold) for role in ROLES}
        resolve(wh, user="measure", threads=threads)
        detect(wh, catalogue, user="measure", subjects=True)
        after = {role: _figures(wh, role, people, threshold) for role in ROLES}
    return [Effect(seed, role, int(before[role]["people"]), int(before[role]["positives"]),
                   before[role]["ap"], after[role]["ap"], before[role]["top1"],
                   after[role]["top1"], before[role]["unit_ap"], after[role]["unit_ap"],
                   before[role]["alerts_per_found"], after[role]["alerts_per_found"])
            for role in ROLES]


def report(effects: list[Effect], scale: float, command: str) -> str:
    from sentinelle.evaluate.report import machine
    lines = [
        "## Entity resolution and detection", "",
        f"Measured {time.strftime('%Y-%m-%d')} on {machine()}. "
        "Detection on each provider's parties, then on entity-resolution subjects, on the "
        "same worlds; compared over the truth's people (a person's score: the highest of "
        "any unit holding their records). Unit AP: each run over its own units.",
        "", f"Reproduce: `{command}`", "",
        "| role | seed | people | positives | AP parties | AP subjects | top-1% recall "
        "parties | top-1% recall subjects | unit AP parties | unit AP subjects | alerts per "
        "person found, parties | alerts per person found, subjects |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for e in effects:
        lines.append(f"| {e.role} | {e.seed} | {e.people:,} | {e.positives:,} | "
                     f"{e.ap_parties:.3f} | {e.ap_subjects:.3f} | {e.top1_parties:.3f} | "
                     f"{e.top1_subjects:.3f} | {e.unit_ap_parties:.3f} | "
                     f"{e.unit_ap_subjects:.3f} | {e.alerts_per_found_parties:.2f} | "
                     f"{e.alerts_per_found_subjects:.2f} |")
    lines += ["", f"Over the seeds (scale {scale}), mean ± standard deviation [min, max]:", ""]
    for role in ROLES:
        mine = [e for e in effects if e.role == role]
        for label, values in (
                ("AP gain (subjects − parties)", [e.ap_subjects - e.ap_parties for e in mine]),
                ("alerts per person found, parties", [e.alerts_per_found_parties for e in mine]),
                ("alerts per person found, subjects",
                 [e.alerts_per_found_subjects for e in mine])):
            s = spread(values)
            lines.append(f"- {role}s, {label}: {s.mean:+.3f} ± {s.std:.3f} "
                         f"[{s.min:+.3f}, {s.max:+.3f}]")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    publish = "--publish" in argv
    args = [a for a in argv if a != "--publish"]
    out, scale, seeds = Path(args[0]), float(args[1]), [int(s) for s in args[2:]]
    effects: list[Effect] = []
    clock = time.perf_counter()
    for seed in seeds:
        for e in measure_world(out, scale, seed):
            effects.append(e)
            print(f"seed {seed} {e.role}: AP {e.ap_parties:.3f} -> {e.ap_subjects:.3f}, "
                  f"unit AP {e.unit_ap_parties:.3f} -> {e.unit_ap_subjects:.3f}, alerts per "
                  f"person found {e.alerts_per_found_parties:.2f} -> "
                  f"{e.alerts_per_found_subjects:.2f}", flush=True)
    command = "python -m sentinelle.evaluate.resolution /tmp/effect " + " ".join(args[1:]) + \
        " --publish"
    text = report(effects, scale, command)
    print(text)
    print(f"{time.perf_counter() - clock:.0f} s")
    if publish:
        from sentinelle.evaluate.report import write_section
        write_section(Path("docs/benchmarks.md"), "resolution-detection", text)


if __name__ == "__main__":
    main(sys.argv[1:])
