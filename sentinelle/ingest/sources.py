"""Find input files, fingerprint them, and refuse the ones that are not what they claim.

A file is refused whole — before anything is written — when it is binary, empty, uses
another delimiter, or lacks a required column. Every other problem is per row.
"""

from __future__ import annotations

import csv
import hashlib
import io
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from pathlib import Path

from sentinelle.errors import InputRefused
from sentinelle.model import Table

CSV_SUFFIXES = {".csv"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SNIFF_BYTES = 1 << 16
OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}


@dataclass(frozen=True)
class SourceFile:
    path: Path
    format: str  # csv | parquet
    sha256: str
    size: int
    newlines: int  # b"\n" count; with the last byte, tells whether a record spans lines
    ends_with_newline: bool


def discover(paths: list[Path], more_suffixes: frozenset[str] = frozenset()) -> list[Path]:
    """Files named, and the CSV and Parquet files (and ``more_suffixes``, for a reader of
    other layouts) under folders named, in a stable order."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(
                q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in
                CSV_SUFFIXES | PARQUET_SUFFIXES | more_suffixes
            )
        elif p.is_file():
            found.append(p)
        else:
            raise InputRefused(f"{p} does not exist", fix="check the path")
    return found


@dataclass(frozen=True)
class PendingSource:
    """A file whose fingerprint is being computed while DuckDB reads it: hashing and
    parsing then share the read of the disk and both cores."""

    path: Path
    format: str
    size: int
    future: Future[SourceFile]

    def result(self) -> SourceFile:
        return self.future.result()


def start_fingerprint(pool: Executor, path: Path) -> PendingSource:
    return PendingSource(path, file_format(path), path.stat().st_size,
                         pool.submit(fingerprint, path))


def file_format(path: Path) -> str:
    return "parquet" if path.suffix.lower() in PARQUET_SUFFIXES else "csv"


def fingerprint(path: Path) -> SourceFile:
    """SHA-256, size and newline count in one pass over the file."""
    digest = hashlib.sha256()
    newlines = 0
    size = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    return SourceFile(path, file_format(path), digest.hexdigest(), size, newlines,
                      last == b"\n")


def read_header(source: SourceFile | PendingSource, table: Table) -> list[str]:
    """The CSV header, after checking the file is a comma-separated text file."""
    path = source.path
    if source.size == 0:
        raise InputRefused("the file is empty", file=str(path), fix="export the data again")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if b"\x00" in head:
        raise InputRefused(
            "the file is binary, not CSV text",
            file=str(path),
            fix="export it as CSV (UTF-8), or as Parquet with a .parquet name",
        )
    if head.startswith(b"PAR1"):
        raise InputRefused(
            "the file is Parquet but is named like CSV", file=str(path),
            fix="rename it with a .parquet suffix",
        )
    text = _decode_prefix(head, path)
    first_line = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise InputRefused("the first line is empty; a header row is expected", file=str(path),
                           line=1, fix="put the column names on the first line")
    header = [h.strip() for h in next(csv.reader(io.StringIO(first_line)))]
    if len(header) == 1:
        for delim, label in OTHER_DELIMITERS.items():
            if first_line.count(delim) >= 2:
                raise InputRefused(
                    f"the file uses the {label} as delimiter, not the comma",
                    file=str(path), line=1,
                    fix="save it as comma-separated CSV, or ingest it with a mapping "
                    "that names the delimiter",
                )
    check_columns(header, table, str(path))
    return header


def check_columns(header: list[str], table: Table, where: str) -> None:
    lowered = [h.lower() for h in header]
    problems = []
    missing = [c for c in table.required if c not in lowered]
    if missing:
        problems.append("missing required column(s): " + ", ".join(missing))
    dupes = sorted({h for h in lowered if lowered.count(h) > 1})
    if dupes:
        problems.append("column(s) named twice: " + ", ".join(dupes))
    if "" in lowered:
        problems.append(f"column {lowered.index('') + 1} has no name")
    if problems:
        raise InputRefused(
            f"the header does not fit the {table.name} layout",
            file=where, line=1, details=problems,
            fix=f"see docs/model.md for the {table.name} columns; required: "
            + ", ".join(table.required),
        )


def _decode_prefix(head: bytes, path: Path) -> str:
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A full sniff buffer may end inside a multi-byte character: that is not an error.
        if len(head) == SNIFF_BYTES and exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8")
        raise InputRefused(
            "the file is not UTF-8 text",
            file=str(path), value=repr(head[max(exc.start - 8, 0):exc.start + 8]),
            fix="export it again as UTF-8 (or convert it, e.g. iconv -f latin1 -t utf-8)",
        ) from exc
