"""Time and memory of generating the synthetic world.

    python bench/synth.py --scale 50        # about 10 million transactions

Target (issue 2): scale 50 in under 5 minutes. Writes the figures to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, measure, write_section  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="sentinelle-synth-"))
    try:
        run = measure([sys.executable, "-m", "sentinelle", "synth", str(out / "world"),
                       "--scale", str(args.scale), "--seed", str(args.seed)])
        csv = out / "world" / "transactions.csv"
        with csv.open("rb") as fh:
            rows = sum(1 for _ in fh) - 1
        size = csv.stat().st_size
    finally:
        shutil.rmtree(out, ignore_errors=True)
    verdict = "meets" if run.seconds < 300 else "MISSES"
    text = "\n".join([
        "## Synthetic world generation",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}, by "
        f"`python bench/synth.py --scale {args.scale:g} --seed {args.seed}`.",
        "",
        "| scale | transactions | CSV | seconds | peak memory |",
        "|---:|---:|---:|---:|---:|",
        f"| {args.scale:g} | {rows:,} | {size / 2**30:.2f} GiB | {run.seconds:.0f} | "
        f"{run.peak_gib:.2f} GiB |",
        "",
        f"Target: scale 50 in under 5 minutes: **{verdict}**.",
    ])
    print(text)
    if not args.no_write:
        write_section(f"synth-s{args.scale:g}", text)


if __name__ == "__main__":
    main()
