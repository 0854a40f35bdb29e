"""What every importer shares: the registry, options, streamed text lines, streamed JSON.

An importer is a function from a file (and the user's options) to an iterator of records:
``Communication`` (accepted), ``Problem`` (quarantined) or ``Identifier`` (a phone or e-mail
the export ties to a handle). It registers itself with ``register``, the same way an
organisation's own importer would. Files are never loaded whole: text is read line by
line, JSON with ijson's streaming parser, one record at a time.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson

from sentinelle.comms.clock import LocalClock, zone
from sentinelle.comms.table import Communication, Identifier, Problem
from sentinelle.errors import InputRefused

Record = Communication | Problem | Identifier


@dataclass(frozen=True)
class Options:
    """What the user states about a file; an importer refuses rather than guess."""

    tz: str | None = None
    day_first: bool | None = None  # None: not stated
    owner: str | None = None  # the handle of the device's owner (call logs, message stores)
    platform: str | None = None  # a generic CSV's platform, when it has no column for it


@dataclass(frozen=True)
class Importer:
    name: str
    title: str
    suffixes: tuple[str, ...]
    local_times: str  # "always" | "never" | "when the file has no offset"
    read: Callable[[Path, Options], Iterator[Record]]

    def clock(self, options: Options) -> LocalClock | None:
        if self.local_times == "always":
            return LocalClock(zone(options.tz, self.name))
        return LocalClock(zone(options.tz, self.name)) if options.tz else None


FORMATS: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    FORMATS[importer.name] = importer
    return importer


def get(name: str) -> Importer:
    from sentinelle.comms import formats  # noqa: F401  (registers the built-in importers)

    if name not in FORMATS:
        raise InputRefused(f"unknown communications format {name!r}",
                           fix="use one of: " + ", ".join(sorted(FORMATS)))
    return FORMATS[name]


# --- text --------------------------------------------------------------------------
def text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """``(line number, line without its end)``, decoded as UTF-8 one line at a time, so a
    decoding fault is refused with its line and a huge file is never held in memory."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputRefused(
                    "the file is not UTF-8 text (or was cut in the middle of a character)",
                    file=str(path), line=number,
                    value=repr(raw[max(exc.start - 8, 0):exc.start + 8]),
                    fix="export it again; chat exports are UTF-8") from exc
            if number == 1:
                line = line.lstrip("\ufeff")
            yield number, line.rstrip("\r\n")


# --- JSON --------------------------------------------------------------------------
class _Counting:
    """Counts the bytes handed to the parser and keeps the last ones, so a parse error
    can be placed at its exact byte and line."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.offset = 0
        self.newlines = 0
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        chunk = self.fh.read(size)
        self.tail = (self.tail + chunk)[-(1 << 17):]
        self.offset += len(chunk)
        self.newlines += chunk.count(b"\n")
        return chunk


_CLOSING = ("end_map", "end_array", "map_key")  # events that do not start an array element


def _pointer(prefix: str, counts: dict[str, int]) -> str:
    parts, at = [], []
    for segment in prefix.split("."):
        at.append(segment)
        key = ".".join(at)
        parts.append(str(counts.get(key, 0)) if segment == "item" else
                     segment.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def json_items(path: Path, items: set[str], scalars: set[str] = frozenset()  # type: ignore[assignment]
               ) -> Iterator[tuple[str, str, Any]]:
    """Stream a JSON file: ``(prefix, JSON Pointer, object)`` for each element of the arrays
    ``items`` names (ijson prefixes such as ``messages.item``), and ``(prefix, pointer,
    value)`` for each scalar at a prefix in ``scalars``, in the order of the file. A file
    that is not JSON, or is cut short, is refused with the byte and line of the fault."""
    counts: dict[str, int] = {}
    with path.open("rb") as raw:
        fh = _Counting(raw)
        builder: ijson.ObjectBuilder | None = None
        building = ""
        last = "the start of the file"
        try:
            for prefix, event, value in ijson.parse(fh, use_float=True):
                if builder is not None:
                    builder.event(event, value)
                    if prefix == building and event in ("end_map", "end_array"):
                        pointer = _pointer(prefix, counts)
                        yield prefix, pointer, builder.value
                        last = pointer
                        builder = None
                    continue
                if event == "start_array":
                    counts[prefix + ".item"] = -1
                if prefix.rpartition(".")[2] == "item" and event not in _CLOSING:
                    counts[prefix] = counts.get(prefix, -1) + 1
                if prefix in items:
                    if event in ("start_map", "start_array"):
                        builder, building = ijson.ObjectBuilder(), prefix
                        builder.event(event, value)
                    else:
                        yield prefix, _pointer(prefix, counts), value
                elif prefix in scalars and event in ("string", "number", "boolean", "null"):
                    yield prefix, _pointer(prefix, counts), value
        except ijson.JSONError as exc:
            raise _refusal(path, fh, exc, last) from exc


def _refusal(path: Path, fh: _Counting, exc: Exception, last: str) -> InputRefused:
    message = str(exc).splitlines()
    reason = message[0] if message else "not JSON"
    offset, line = fh.offset, fh.newlines + 1
    # yajl shows the text before the fault, line breaks printed as spaces, and a caret
    # just after it: find that text in what was read to place the fault exactly.
    if len(message) >= 3 and "^" in message[2]:
        core = message[1].lstrip(" ")
        caret = message[2].index("^") - (len(message[1]) - len(core))
        pattern = b"".join(rb"\s" if ch.isspace() else re.escape(ch.encode("utf-8"))
                           for ch in core)
        found = [m.start() for m in re.finditer(pattern, fh.tail)] if core else []
        if found:
            at = found[-1] + max(min(caret, len(core)) - 1, 0)
            offset = fh.offset - len(fh.tail) + at
            line = fh.newlines + 1 - fh.tail[at:].count(b"\n")
    cut = "premature EOF" in reason
    return InputRefused(
        ("the JSON ends before it is complete (the file was cut short)" if cut else
         f"the file is not well-formed JSON ({reason})") +
        f"; the fault is at byte {offset:,}, after the record at {last}; nothing was written",
        file=str(path), line=line,
        fix="copy the export again from the original medium, and compare its SHA-256")


# --- delimited text ------------------------------------------------------------------
def delimited_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, str], str]]:
    """``(line where the row starts, {header: value}, the row's own text)`` for each row of
    a CSV or TSV file with a header, streamed; quoted fields may span lines."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for _, line in text_lines(path):
            consumed.append(line)
            yield line + "\n"  # csv keeps a quoted field's line breaks only when given them

    reader = csv.reader(lines(), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise InputRefused("the file is empty", file=str(path),
                           fix="export it again") from None
    consumed.clear()
    line = 2
    try:
        for values in reader:
            raw = "\n".join(consumed)
            consumed.clear()
            start, line = line, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            row = dict(zip(header, values, strict=False))
            if len(values) != len(header):
                row["\x00width"] = f"{len(values)} fields where the header has {len(header)}"
            yield start, row, raw
    except csv.Error as exc:
        raise InputRefused(f"the file cannot be split into fields ({exc})", file=str(path),
                           line=reader.line_num, fix="export it again") from exc
