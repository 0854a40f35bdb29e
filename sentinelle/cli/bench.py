"""``sentinelle bench``: detection quality against two baselines, on synthetic worlds."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.markdown import Markdown

from sentinelle.cli.common import console, progress_bar
from sentinelle.settings import resolve

DEFAULT_SEEDS = "1-5"
DEFAULT_HELD_OUT = "201-205"
DEFAULT_CACHE = Path("bench-worlds")
DEFAULT_OUT = Path("docs/benchmarks.md")


def bench(
    scale: Annotated[float, typer.Option(help="World size; 1 is about 200,000 transactions.")]
    = 1.0,
    seeds: Annotated[str, typer.Option(
        help="Tuning seeds, looked at while tuning: a range or list such as 1-5 or 1,3,7.")]
    = DEFAULT_SEEDS,
    held_out: Annotated[str, typer.Option(
        "--held-out", help="Held-out seeds, never looked at while tuning, reported apart "
        "(none to skip).")] = DEFAULT_HELD_OUT,
    cache: Annotated[Path, typer.Option(
        help="Folder keeping each world and its warehouse, reused by later runs.")]
    = DEFAULT_CACHE,
    out: Annotated[Path, typer.Option(
        help="Markdown page whose 'Detection quality' section is replaced; the plot is "
        "written beside it.")] = DEFAULT_OUT,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Override a detection parameter (NAME=VALUE) or an indicator's "
        "ID.FIELD=VALUE; repeatable.")] = None,
) -> None:
    """Measure detection against the rule and an anomaly detector; write the figures."""
    from sentinelle.evaluate.bench import parse_seeds, run_bench
    from sentinelle.evaluate.report import PLOT, SECTION, plot, render, write_section

    settings = resolve()
    families = {"tuning": parse_seeds(seeds), "held-out": parse_seeds(held_out)}
    total = sum(len(s) for s in families.values())
    with progress_bar() as bar:
        task = bar.add_task("worlds", total=total)
        done: set[tuple[str, int]] = set()

        def progress(family: str, seed: int, step: str) -> None:
            if step == "done":
                done.add((family, seed))
            bar.update(task, completed=len(done),
                       description=f"{family} seed {seed}: {step}")

        result = run_bench(cache, scale, families, user=settings["user"],
                           params=param or [], progress=progress,
                           memory_limit=settings["memory_limit"], threads=settings["threads"])
    # Each scale has its own section and plot, so a larger check sits beside scale 1.
    section = SECTION if scale == 1 else f"{SECTION}-s{scale:g}"
    picture = PLOT if scale == 1 else PLOT.replace(".png", f"-s{scale:g}.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    plot(result, out.parent / picture)
    text = render(result, _command(scale, seeds, held_out, out, param or []), picture)
    write_section(out, section, text)
    console.print(Markdown(text))
    console.print(f"Written to {out} (section '{section}') and {out.parent / picture}.")


def _command(scale: float, seeds: str, held_out: str, out: Path, params: list[str]) -> str:
    """The command that reproduces the figures (options at their default left out)."""
    words = ["sentinelle", "bench", "--scale", f"{scale:g}", "--seeds", seeds,
             "--held-out", held_out]
    if out != DEFAULT_OUT:
        words += ["--out", str(out)]
    for p in params:
        words += ["--param", p]
    return shlex.join(words)
