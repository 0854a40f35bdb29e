"""The detection benchmark: Sentinelle and two baselines, on the same synthetic worlds.

For each seed of a family: build (or reuse) the world, run detection with its referrals
as seeds, then rank every sender as a buyer and every beneficiary as a facilitator by
each method, and measure the ranking against the world's truth. Figures are summarised
over the family's seeds and checked against the targets of the issue.

Two families of seeds: the tuning family, looked at while the catalogue is tuned, and a
held-out family, never looked at until the catalogue is frozen and reported on its own.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from sentinelle.detect import Catalogue, detect, load_catalogue
from sentinelle.detect.catalogue import ROLES
from sentinelle.errors import SentinelleError
from sentinelle.evaluate.baselines import BASELINES, Ranking
from sentinelle.evaluate.metrics import Spread, rank_quality, spread
from sentinelle.evaluate.worlds import World, build_world
from sentinelle.warehouse import open_warehouse

METHODS = ("sentinelle", *BASELINES)
RULE = "rule"

# Groups of parties measured: each ranks the parties of a role; a party is positive when the
# truth gives it that role on that side.
GROUPS = {"buyers": ("sender", "buyer"), "facilitators": ("beneficiary", "facilitator"),
          "unreferred buyers": ("sender", "buyer")}

METRICS = {"average_precision": "average precision", "r_precision": "R-precision",
           "top1_recall": "recall in the top 1%", "top1_precision": "precision in the top 1%"}


@dataclass(frozen=True)
class Figure:
    group: str
    metric: str

    @property
    def key(self) -> str:
        return f"{self.group}: {METRICS[self.metric]}"


FIGURES = (
    *(Figure(g, m) for g in ("buyers", "facilitators") for m in METRICS),
    Figure("unreferred buyers", "average_precision"),
)


@dataclass(frozen=True)
class Target:
    figure: Figure
    at_least: float


TARGETS = (Target(Figure("buyers", "average_precision"), 0.80),
           Target(Figure("buyers", "top1_recall"), 0.90),
           Target(Figure("facilitators", "average_precision"), 0.80))
TIMES_RULE = 2.0  # Sentinelle must reach at least twice the rule on every figure


@dataclass
class SeedResult:
    seed: int
    world_reused: bool
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # method → figure key
    parties: dict[str, int] = field(default_factory=dict)  # group → parties ranked
    positives: dict[str, int] = field(default_factory=dict)  # group → true ones among them
    seconds: dict[str, float] = field(default_factory=dict)  # stage → seconds
    # group → Brier score, and precision and recall of the alerts (Sentinelle only: the
    # baselines' scores are not probabilities and raise no alerts).
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Check:
    """One target on one family: the figure's mean over seeds against what is needed."""

    label: str
    value: float
    needed: float
    worst_seed: float

    @property
    def met(self) -> bool:
        return self.value >= self.needed


@dataclass
class Family:
    name: str  # "tuning" or "held-out"
    seeds: list[SeedResult]

    def spread(self, method: str, figure: Figure) -> Spread:
        return spread([s.values[method][figure.key] for s in self.seeds])

    def calibration(self, group: str, what: str) -> Spread:
        return spread([s.calibration[group][what] for s in self.seeds])

    def mean_count(self, what: str, group: str) -> float:
        return float(np.mean([getattr(s, what)[group] for s in self.seeds]))

    def target_checks(self) -> list[Check]:
        out = []
        for t in TARGETS:
            s = self.spread("sentinelle", t.figure)
            out.append(Check(t.figure.key, s.mean, t.at_least, s.min))
        return out

    def rule_checks(self) -> list[Check]:
        """Per figure: Sentinelle's mean against twice the rule's."""
        out = []
        for f in FIGURES:
            ours, rule = self.spread("sentinelle", f), self.spread(RULE, f)
            out.append(Check(f.key, ours.mean, TIMES_RULE * rule.mean, ours.min))
        return out


@dataclass
class BenchResult:
    scale: float
    params: list[str]
    families: list[Family]
    catalogue_digest: str
    measured_on: str  # UTC date
    seconds: float


Progress = Callable[[str, int, str], None]  # (family, seed, step)


def parse_seeds(text: str) -> list[int]:
    """``1-5``, ``1,3,7-9`` or ``900``; empty or ``none`` gives no seed."""
    seeds: list[int] = []
    if text.strip().lower() in ("", "none"):
        return seeds
    for part in text.split(","):
        first, sep, last = part.strip().partition("-")
        try:
            lo, hi = int(first), int(last) if sep else int(first)
        except ValueError:
            raise SentinelleError("seeds are whole numbers or ranges", value=text,
                                  fix="write them like 1-5 or 1,3,7-9") from None
        if hi < lo:
            raise SentinelleError("a range of seeds runs backwards", value=part.strip())
        seeds += [s for s in range(lo, hi + 1) if s not in seeds]
    return seeds


def run_bench(cache: Path, scale: float, families: dict[str, list[int]], *, user: str,
              params: list[str] | None = None, progress: Progress = lambda *_: None,
              memory_limit: str = "3GB", threads: int = 0) -> BenchResult:
    """Measure every seed of every family (``{"tuning": [...], "held-out": [...]}``)."""
    seen = [s for seeds in families.values() for s in seeds]
    if len(seen) != len(set(seen)):
        raise SentinelleError("a seed is in two families (or twice in one)",
                              fix="keep the held-out seeds apart from the tuning seeds")
    if not families.get("tuning"):
        raise SentinelleError("no tuning seed to measure", fix="pass --seeds, e.g. 1-5")
    catalogue = load_catalogue(params=params or [])
    started = time.perf_counter()
    out = []
    for name, seeds in families.items():
        results = []
        for seed in seeds:
            def step(what: str, name: str = name, seed: int = seed) -> None:
                progress(name, seed, what)

            clock = time.perf_counter()
            world = build_world(cache, scale, seed, user=user, progress=step,
                                memory_limit=memory_limit, threads=threads)
            built = time.perf_counter() - clock
            result = measure_world(world, catalogue, user=user, progress=step,
                                   memory_limit=memory_limit, threads=threads)
            result.seconds = {"world": round(built, 2), **result.seconds}
            result.seconds["total"] = round(sum(result.seconds.values()), 2)
            results.append(result)
            step("done")
        if results:
            out.append(Family(name, results))
    return BenchResult(scale, list(params or []), out, catalogue.digest(),
                       f"{datetime.now(UTC):%Y-%m-%d}", round(time.perf_counter() - started, 1))


def measure_world(world: World, catalogue: Catalogue, *, user: str,
                  progress: Callable[[str], None] = lambda _: None,
                  memory_limit: str = "3GB", threads: int = 0) -> SeedResult:
    """Detect on one world, rank its parties by each method, measure against its truth."""
    result = SeedResult(world.seed, world.reused)
    truth = read_truth(world.truth)
    with open_warehouse(world.db, memory_limit, threads) as wh:
        clock = time.perf_counter()
        progress("detecting")
        detect(wh, catalogue, user=user)
        result.seconds["detect"] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()
        rankings: dict[str, dict[str, Ranking]] = {"sentinelle": {}}
        for role in ROLES:
            rankings["sentinelle"][role] = {
                (p, pid): float(s) for p, pid, s in wh.execute(
                    "SELECT provider, party_id, score FROM det_scores WHERE role = ?",
                    [role]).fetchall()}
        referred = {(p, pid) for p, pid in wh.execute(
            "SELECT DISTINCT provider, party_id FROM det_referral_matches WHERE role = 'buyer'"
        ).fetchall()}
        for method, baseline in BASELINES.items():
            progress(f"baseline: {method}")
            rankings[method] = {role: baseline(wh, role) for role in ROLES}
        result.seconds["baselines"] = round(time.perf_counter() - clock, 2)
    # Every method ranks the same parties: those the rule sees, i.e. all in the warehouse.
    for group, (side, role) in GROUPS.items():
        universe = sorted(rankings[RULE][role])
        if group == "unreferred buyers":
            universe = [p for p in universe if p not in referred]
        labels = np.array([truth.get((side, pid)) == role for _, pid in universe], dtype=bool)
        result.parties[group], result.positives[group] = len(universe), int(labels.sum())
        if not labels.any():
            raise SentinelleError(f"the world of seed {world.seed} has no {group} to find",
                                  fix="use a larger --scale")
        for method in METHODS:
            ranking = rankings[method][role]
            scores = np.array([ranking.get(p, -np.inf) for p in universe], dtype=float)
            quality = rank_quality(scores, labels).as_dict()
            if method == "sentinelle" and group != "unreferred buyers":
                result.calibration[group] = calibration(
                    scores, labels, float(catalogue.values["alert_threshold"]))
            values = result.values.setdefault(method, {})
            for f in FIGURES:
                if f.group == group:
                    values[f.key] = quality[f.metric]
    return result


def calibration(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """How far the scores are from probabilities (Brier score: mean squared error against
    the truth, 0 is perfect), and how good the alerts raised at ``threshold`` are."""
    alerted = scores >= threshold
    hits = int((alerted & labels).sum())
    return {"brier": float(np.mean((scores - labels) ** 2)),
            "alert_precision": hits / max(1, int(alerted.sum())),
            "alert_recall": hits / max(1, int(labels.sum())),
            "alerts": float(alerted.sum())}


def read_truth(path: Path) -> dict[tuple[str, str], str]:
    """(side, party_id) → role (buyer, facilitator or legit), from a world's truth.csv."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {(r["side"], r["party_id"]): r["role"] for r in csv.DictReader(fh)}


def top1_ceiling(family: Family, group: str, figure: str = "recall") -> float:
    """The most recall (or precision) in the top 1% can reach: recall when positives
    outnumber that 1%, precision when the 1% outnumbers the positives."""
    tops = [max(1, int(np.ceil(0.01 * s.parties[group]))) for s in family.seeds]
    return float(np.mean([
        min(1.0, t / s.positives[group]) if figure == "recall"
        else min(1.0, s.positives[group] / t)
        for t, s in zip(tops, family.seeds, strict=True)]))


__all__ = ["FIGURES", "METHODS", "TARGETS", "BenchResult", "Family", "Figure", "SeedResult",
           "measure_world", "parse_seeds", "run_bench"]
