"""Shared by the benchmark scripts: run a child process and measure it, write results
(the page itself is written by ``sentinelle.evaluate.report``, as ``sentinelle bench`` does)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sentinelle.evaluate import report

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
machine = report.machine


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_bytes: int  # the process itself (the kernel's high-water mark)
    peak_tree_bytes: int  # the process and its children together, sampled every 0.1 s

    @property
    def peak_gib(self) -> float:
        return max(self.peak_rss_bytes, self.peak_tree_bytes) / 2**30


def measure(cmd: list[str], env: dict[str, str] | None = None,
            stdout: Path | None = None) -> Measured:
    """Wall time and peak resident memory of one command, its worker processes included;
    its standard output goes to ``stdout`` when given."""
    import psutil

    start = time.perf_counter()
    out = stdout.open("w") if stdout else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.PIPE)
    tree_peak = 0
    parent = psutil.Process(proc.pid)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            members = [parent, *parent.children(recursive=True)]
            tree_peak = max(tree_peak, sum(m.memory_info().rss for m in members))
        except psutil.Error:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - start
    if stdout:
        out.close()  # type: ignore[union-attr]
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(cmd)} failed:\n{err}")
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(seconds, usage.ru_maxrss * 1024, tree_peak)


def write_section(name: str, text: str) -> None:
    """Replace (or append) the section between the markers of ``name`` in benchmarks.md."""
    report.write_section(BENCHMARKS, name, text)


def timings_table(steps: list[tuple[str, str]]) -> list[str]:
    """The per-step times a command printed with ``--timings``, as markdown lines."""
    if not steps:
        return []
    return (["", "Where the time goes (`--timings`):", "", "| step | seconds |", "|---|---:|"]
            + [f"| {what} | {secs} |" for what, secs in steps])


def publish(name: str, lines: list[str], write: bool) -> None:
    """Print a benchmark's section, and write it into docs/benchmarks.md unless asked not to."""
    text = "\n".join(lines)
    print(text)
    if write:
        write_section(name, text)
