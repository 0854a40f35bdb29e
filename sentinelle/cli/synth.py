"""``sentinelle synth``: write a synthetic world with ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sentinelle.cli.common import print_counts, progress_bar


def synth(
    out: Annotated[Path, typer.Argument(help="Folder to write the world into.")],
    scale: Annotated[float, typer.Option(help="1 is about 200,000 transactions.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same world, byte for byte.")] = 0,
) -> None:
    """A remittance provider's two-year export, referrals and the truth, all fictitious."""
    from sentinelle.synth import generate_world

    with progress_bar() as bar:
        task = bar.add_task("generating", total=None)

        def progress(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        summary = generate_world(out, scale=scale, seed=seed, progress=progress)
    print_counts(f"Synthetic world in {out}", summary.rows, what="file")
