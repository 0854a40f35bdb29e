"""The benchmark's page: a section of docs/benchmarks.md and its plot.

A section sits between ``<!-- bench:NAME -->`` markers, so each benchmark replaces its
own figures and leaves the others' alone (the scripts under ``bench/`` write the same way).
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from sentinelle.evaluate.baselines import FEATURES, RULE_COUNTRIES, RULE_MAX_EUR
from sentinelle.evaluate.bench import (
    FIGURES,
    METHODS,
    TIMES_RULE,
    BenchResult,
    Family,
    SeedResult,
    top1_ceiling,
)
from sentinelle.evaluate.metrics import Spread

SECTION = "detection"
PLOT = "benchmarks-detection.png"
METHOD_TITLES = {"sentinelle": "Sentinelle", "rule": "rule (a)",
                 "isolation forest": "isolation forest (b)"}
_SHORT = {"average_precision": "AP", "r_precision": "R-prec.", "top1_recall": "recall\ntop 1%",
          "top1_precision": "prec.\ntop 1%"}


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.machine()}"


def write_section(page: Path, name: str, text: str) -> None:
    """Replace (or append) the section between the markers of ``name`` in ``page``."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = page.read_text("utf-8") if page.exists() else "# Benchmarks\n"
    block = f"{start}\n{text.strip()}\n{end}"
    if start in body:
        body = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, body,
                      flags=re.S)
    else:
        body = body.rstrip() + "\n\n" + block + "\n"
    page.write_text(body, "utf-8")


def seeds_text(seeds: list[int]) -> str:
    """1, 2, 3, 5 → "1–3, 5"."""
    runs: list[list[int]] = []
    for s in sorted(seeds):
        if runs and s == runs[-1][-1] + 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _seeds(n: int) -> str:
    return f"{n} seed" + ("s" if n != 1 else "")


def _family_title(family: Family) -> str:
    seeds = [s.seed for s in family.seeds]
    which = f"{'seeds' if len(seeds) > 1 else 'seed'} {seeds_text(seeds)}"
    if family.name == "tuning":
        return f"Tuning {which}"
    return f"Held-out {which} (never looked at while tuning)"


def _cell(s: Spread, digits: int = 3) -> str:
    low = max(2, digits - 1)
    return f"{s.mean:.{digits}f} ± {s.std:.{digits}f} ({s.min:.{low}f}–{s.max:.{low}f})"


def _mean(seeds: list[SeedResult], stage: str) -> float:
    return sum(s.seconds[stage] for s in seeds) / len(seeds)


def _family_text(family: Family) -> list[str]:
    seeds = [s.seed for s in family.seeds]
    lines = [f"### {_family_title(family)}", "",
             f"Mean ± standard deviation over {_seeds(len(seeds))} (least–most seed in "
             "brackets).", "",
             "| figure | " + " | ".join(METHOD_TITLES[m] for m in METHODS) + " |",
             "|---|" + "---:|" * len(METHODS)]
    for f in FIGURES:
        lines.append(f"| {f.key} | "
                     + " | ".join(_cell(family.spread(m, f)) for m in METHODS) + " |")
    n = {g: (family.mean_count("positives", g), family.mean_count("parties", g))
         for g in ("buyers", "facilitators", "unreferred buyers")}
    lines += ["", f"Per world, on average: {n['buyers'][0]:,.0f} buyers among "
              f"{n['buyers'][1]:,.0f} senders, {n['facilitators'][0]:,.0f} facilitators among "
              f"{n['facilitators'][1]:,.0f} beneficiaries, {n['unreferred buyers'][0]:,.0f} "
              "buyers no referral names."]
    ceilings = {g: top1_ceiling(family, g) for g in ("buyers", "facilitators")}
    for group, ceiling in ceilings.items():
        if ceiling < 1:
            lines[-1] += (f" The top 1% can hold at most {ceiling:.0%} of the {group}, "
                          "which caps its recall.")
        precision = top1_ceiling(family, group, "precision")
        if precision < 1:
            lines[-1] += (f" There are fewer {group} than places in the top 1%: precision "
                          f"there cannot exceed {precision:.2f} on average.")
    lines += ["",
              "| target (Sentinelle, mean over seeds) | value | worst seed | needed | verdict |",
              "|---|---:|---:|---:|---|"]
    for c in family.target_checks():
        lines.append(f"| {c.label} | {c.value:.3f} | {c.worst_seed:.3f} | ≥ {c.needed:.2f} | "
                     f"**{'meets' if c.met else 'MISSES'}** |")
    twice = family.rule_checks()
    ratio, least = min((c.value / c.needed * TIMES_RULE if c.needed else float("inf"), c.label)
                       for c in twice)
    missed = "; ".join(c.label for c in twice if not c.met)
    lines.append(f"| at least {TIMES_RULE:g}x the rule (a), on every figure | {ratio:.1f}x "
                 f"(least: {least}) | | {TIMES_RULE:g}x | "
                 f"**{'MISSES: ' + missed if missed else 'meets'}** |")
    built = [s for s in family.seeds if not s.world_reused]
    world = (f"building a world (generate and ingest) {_mean(built, 'world'):.1f} s"
             + (f" ({len(built)} of {len(seeds)} built in this run, the others reused)"
                if len(built) < len(seeds) else "")
             if built else "every world reused from the cache")
    lines += ["", "Sentinelle's scores read as probabilities, and its alerts (score ≥ the "
              "alert threshold):", "",
              "| role | Brier score (0 is perfect) | alerts per world | precision of the "
              "alerts | recall of the alerts |", "|---|---:|---:|---:|---:|"]
    for group in ("buyers", "facilitators"):
        lines.append(
            f"| {group} | {_cell(family.calibration(group, 'brier'), 4)} | "
            f"{family.calibration(group, 'alerts').mean:,.0f} | "
            f"{_cell(family.calibration(group, 'alert_precision'))} | "
            f"{_cell(family.calibration(group, 'alert_recall'))} |")
    lines += ["", f"Time per seed, on average: {world}; detection "
              f"{_mean(family.seeds, 'detect'):.1f} s; both baselines "
              f"{_mean(family.seeds, 'baselines'):.1f} s."]
    return lines


def render(result: BenchResult, command: str, plot: str | None = PLOT) -> str:
    """The section's markdown."""
    params = ", ".join(f"`{p}`" for p in result.params) or "the defaults"
    lines = [
        "## Detection quality" + ("" if result.scale == 1 else f" at scale {result.scale:g}"),
        "",
        f"Measured {result.measured_on} on {machine()}, by `{command}` "
        f"({result.seconds:.0f} s in all). Catalogue digest `{result.catalogue_digest}`, "
        f"parameters: {params}. Synthetic worlds at scale {result.scale:g}, one per seed.", "",
        "Every sender is ranked as a possible buyer and every beneficiary as a possible "
        "facilitator, by each method; the figures say how high the world's true buyers and "
        "facilitators sit (among equal scores a true party counts as ranked last). "
        "The methods:", "",
        "- **Sentinelle**: the indicator catalogue, with the world's referrals as seeds.",
        f"- **Rule (a)**: the count of payments of at most EUR {RULE_MAX_EUR} to "
        f"{', '.join(RULE_COUNTRIES)}, per sender (per beneficiary for facilitators) — "
        "the rule most monitoring teams start with.",
        "- **Isolation forest (b)**: scikit-learn's IsolationForest over "
        f"{len(FEATURES)} generic per-party features ({', '.join(FEATURES)}), not the "
        "catalogue's indicators.", "",
        "*Unreferred buyers*: average precision over the senders that no referral matches "
        "— buyers found through behaviour and the network alone.", "",
    ]
    for family in result.families:
        lines += _family_text(family) + [""]
    if plot:
        lines += [f"![Detection quality by figure, method and family of seeds]({plot})", ""]
    return "\n".join(lines).strip() + "\n"


def plot(result: BenchResult, path: Path) -> None:
    """Grouped bars: per figure, one bar per method with the spread over seeds, one panel
    per family of seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    families = result.families
    fig, axes = plt.subplots(len(families), 1, figsize=(12, 3.6 * len(families)),
                             squeeze=False, sharey=True)
    x = np.arange(len(FIGURES))
    width = 0.8 / len(METHODS)
    labels = [f"{f.group}\n{_SHORT[f.metric]}" for f in FIGURES]
    for ax, family in zip(axes[:, 0], families, strict=True):
        for i, method in enumerate(METHODS):
            spreads = [family.spread(method, f) for f in FIGURES]
            ax.bar(x + (i - (len(METHODS) - 1) / 2) * width, [s.mean for s in spreads], width,
                   yerr=[s.std for s in spreads], capsize=2, label=METHOD_TITLES[method])
        ax.set_title(_family_title(family), fontsize=10)
        ax.set_xticks(x, labels, fontsize=7)
        ax.set_ylim(0, 1.18)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(loc="upper center", ncol=len(METHODS), fontsize=8, frameon=False)
    fig.suptitle(f"Detection quality, synthetic worlds at scale {result.scale:g} "
                 "(mean and standard deviation over seeds)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
