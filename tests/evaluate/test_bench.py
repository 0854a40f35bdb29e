"""The detection benchmark end to end on a tiny world, and its choice of seeds."""

from __future__ import annotations

import math
import re

import pytest
from typer.testing import CliRunner

from sentinelle.cli import app
from sentinelle.errors import SentinelleError
from sentinelle.evaluate.bench import FIGURES, parse_seeds, run_bench

runner = CliRunner()


@pytest.mark.parametrize(("text", "seeds"), [
    ("1-5", [1, 2, 3, 4, 5]), ("1,3,7-9", [1, 3, 7, 8, 9]), ("900", [900]), ("none", []),
    ("", []), ("2, 2-3", [2, 3])])
def test_parse_seeds(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["a-b", "5-1", "1-"])
def test_parse_seeds_refuses(text):
    with pytest.raises(SentinelleError):
        parse_seeds(text)


def test_a_seed_in_both_families_is_refused(tmp_path):
    with pytest.raises(SentinelleError, match="two families"):
        run_bench(tmp_path, 0.02, {"tuning": [1], "held-out": [1]}, user="tester")


# Seed 1 is in the tuning family; 900 stands in for the held-out family, which no test
# may look at while detection is being tuned.
def test_bench_writes_the_section_and_the_plot(tmp_path):
    page = tmp_path / "benchmarks.md"
    page.write_text("# Benchmarks\n\n<!-- bench:other -->\nkept\n<!-- /bench:other -->\n")
    args = ["bench", "--scale", "0.02", "--seeds", "1", "--held-out", "900",
            "--cache", str(tmp_path / "worlds"), "--out", str(page)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = page.read_text("utf-8")
    assert "kept" in text and text.count("## Detection quality") == 1
    assert "sentinelle bench --scale 0.02 --seeds 1 --held-out 900" in text
    assert "### Tuning seed 1" in text
    assert "### Held-out seed 900 (never looked at while tuning)" in text
    # A scale other than 1 has its own section and plot, beside the scale-1 ones.
    assert "<!-- bench:detection-s0.02 -->" in text and "## Detection quality at scale 0.02" in text
    assert "![" in text and "(benchmarks-detection-s0.02.png)" in text
    png = tmp_path / "benchmarks-detection-s0.02.png"
    assert png.read_bytes()[:4] == b"\x89PNG"

    rows = [line for line in text.splitlines()
            if " ± " in line and any(line.startswith(f"| {f.key} |") for f in FIGURES)]
    assert len(rows) == 2 * len(FIGURES)  # both families
    for row in rows:
        cells = row.strip("|").split("|")[1:]
        assert len(cells) == 3  # Sentinelle and the two baselines
        for cell in cells:
            mean, std, least, most = map(float, re.findall(r"-?\d+\.\d+", cell))
            assert all(math.isfinite(v) and 0 <= v <= 1 for v in (mean, std, least, most))
    assert re.search(r"\*\*(meets|MISSES)", text)
    brier = re.search(r"\| buyers \| (\d+\.\d+) ± .*\| (\d+\.\d+) ± .*\| (\d+\.\d+) ± ", text)
    assert brier and all(0 <= float(v) <= 1 for v in brier.groups())

    again = runner.invoke(app, args)  # the worlds are reused; the section replaced
    assert again.exit_code == 0, again.output
    text = page.read_text("utf-8")
    assert text.count("## Detection quality") == 1 and "every world reused" in text
