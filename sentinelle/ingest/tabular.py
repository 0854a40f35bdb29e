"""Read a provider's tabular export — CSV of any delimiter and encoding, Excel, Parquet —
as records of cells, each with the line (or sheet row) it came from.

CSV: the encoding is a byte-order mark's, else UTF-8 when the first megabyte decodes as
UTF-8, else cp1252 (what Excel writes on Western European Windows); the delimiter is
sniffed by the standard library's ``csv.Sniffer`` among ``,`` ``;`` tab and ``|``. Both can
be forced. Excel is streamed (openpyxl's read-only mode); Parquet is read in batches.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sentinelle.errors import InputRefused

SAMPLE_BYTES = 1 << 20
DELIMITERS = ",;\t|"
BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class Record:
    line: int
    cells: list[object]  # text from CSV; numbers and dates as typed in Excel and Parquet
    problem: str | None = None  # the record cannot be read as a row of the header's width


@dataclass
class Tabular:
    format: str
    header: list[str]
    records: Iterator[Record]
    encoding: str | None = None
    delimiter: str | None = None
    close: Callable[[], None] = lambda: None  # for a file refused before its rows are read


def file_kind(path: Path, forced: str | None = None) -> str:
    if forced:
        return forced
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return "xlsx"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    return "csv"


def open_tabular(path: Path, *, format: str | None = None, encoding: str = "auto",
                 delimiter: str = "auto", skip_lines: int = 0,
                 sheet: str | None = None) -> Tabular:
    kind = file_kind(path, format)
    if path.stat().st_size == 0:
        raise InputRefused("the file is empty", file=str(path), fix="export the data again")
    if kind == "xlsx":
        return _xlsx(path, sheet, skip_lines)
    if kind == "parquet":
        return _parquet(path)
    return _csv(path, encoding, delimiter, skip_lines)


def detect_encoding(head: bytes) -> str:
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character: that is still UTF-8.
        if len(head) == SAMPLE_BYTES and exc.start >= len(head) - 3:
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"  # decodes any byte; the user can force another with --encoding


def sniff_delimiter(lines: list[str]) -> str:
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or a sample the Sniffer cannot settle: the most frequent candidate
        # of the header line, else the comma.
        counts = {d: lines[0].count(d) for d in DELIMITERS} if lines else {}
        best = max(counts, key=lambda d: counts[d], default=",")
        return best if counts.get(best) else ","


def _csv(path: Path, encoding: str, delimiter: str, skip_lines: int) -> Tabular:
    with path.open("rb") as raw:
        head = raw.read(SAMPLE_BYTES)
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputRefused("the file is binary, not CSV text", file=str(path),
                           fix="give read.format (xlsx or parquet) or export it as CSV")
    enc = detect_encoding(head) if encoding == "auto" else encoding
    if delimiter == "auto":
        text = head.decode(enc, errors="replace").lstrip("\ufeff").splitlines()
        delim = sniff_delimiter(text[skip_lines:skip_lines + 50])
    else:
        delim = delimiter
    fh = path.open("r", encoding=enc, errors="replace", newline="")
    for _ in range(skip_lines):
        fh.readline()
    reader = csv.reader(fh, delimiter=delim, strict=False)
    header_row = next(reader, None)
    if not header_row or not any(h.strip() for h in header_row):
        fh.close()
        raise InputRefused("no header row", file=str(path), line=skip_lines + 1,
                           fix="set read.skip_lines to the number of lines above the header")
    header = [h.strip().lstrip("\ufeff") for h in header_row]
    _check_header(header, str(path), skip_lines + 1)

    def records() -> Iterator[Record]:
        with fh:
            end_of_previous = reader.line_num + skip_lines
            for row in reader:
                start = end_of_previous + 1
                end_of_previous = reader.line_num + skip_lines
                if not row or not any(c.strip() for c in row):
                    continue  # a blank line is not a record
                problem = None
                if len(row) != len(header):
                    problem = (f"wrong number of columns: expected {len(header)}, "
                               f"found {len(row)} (delimiter {delim!r})")
                elif any("\ufffd" in c for c in row):
                    problem = (f"invalid text: the row is not {enc}; "
                               "force another with --encoding")
                yield Record(start, list(row), problem)

    return Tabular("csv", header, records(), enc, delim, fh.close)


def _check_header(header: list[str], where: str, line: int) -> None:
    problems = []
    if "" in header:
        problems.append(f"column {header.index('') + 1} has no name")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append("column(s) named twice: " + ", ".join(dupes))
    if problems:
        raise InputRefused("the header row cannot be read as column names", file=where,
                           line=line, details=problems,
                           fix="check read.skip_lines and read.delimiter")


def _xlsx(path: Path, sheet: str | None, skip_lines: int) -> Tabular:
    import openpyxl  # imported here: only Excel files need it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise InputRefused(f"the file is not a readable .xlsx workbook ({exc})",
                           file=str(path), fix="save it again from Excel as .xlsx") from exc
    if sheet is not None and sheet not in book.sheetnames:
        book.close()
        raise InputRefused(f"no sheet named {sheet!r}", file=str(path),
                           fix="read.sheet is one of: " + ", ".join(book.sheetnames))
    ws = book[sheet] if sheet else book.worksheets[0]
    rows = ws.iter_rows(min_row=skip_lines + 1, values_only=True)
    first = next(rows, None)
    if not first:
        book.close()
        raise InputRefused("the sheet is empty", file=str(path), fix="check read.sheet")
    header = [str(h).strip() if h is not None else "" for h in first]
    while header and header[-1] == "":
        header.pop()  # formatted but empty cells at the right of the header
    _check_header(header, str(path), skip_lines + 1)

    def records() -> Iterator[Record]:
        try:
            for n, row in enumerate(rows, start=skip_lines + 2):
                cells = list(row[:len(header)]) + [None] * (len(header) - len(row))
                if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                    continue
                extra = [c for c in row[len(header):] if c not in (None, "")]
                problem = (f"cells beyond the header's {len(header)} columns" if extra
                           else None)
                yield Record(n, cells, problem)
        finally:
            book.close()

    return Tabular("xlsx", header, records(), close=book.close)


def _parquet(path: Path) -> Tabular:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputRefused(f"the file is not readable Parquet ({exc})", file=str(path),
                           fix="export it again") from exc
    header = list(pf.schema_arrow.names)
    _check_header(header, str(path), 1)

    def records() -> Iterator[Record]:
        n = 0
        for batch in pf.iter_batches(batch_size=50_000):
            columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for cells in zip(*columns, strict=True):
                n += 1  # the row number, as for canonical Parquet (docs/model.md)
                yield Record(n, list(cells))

    return Tabular("parquet", header, records())
