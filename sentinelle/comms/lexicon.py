"""An organisation's own term list, matched in message texts. None is shipped.

The file is UTF-8 text, one term per line; blank lines and lines starting with ``#`` are
ignored; a term may be several words. Matching ignores case and accents (NFKD, combining
marks removed, case-folded) and finds whole words only, so a term never matches inside a
longer word. The list itself never enters the warehouse: only counts, with the list's
SHA-256 so a count can be traced to the list that made it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sentinelle.errors import InputRefused
from sentinelle.warehouse import Warehouse


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True)
class Lexicon:
    terms: tuple[str, ...]  # folded
    sha256: str
    pattern: re.Pattern[str]

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputRefused(f"cannot read the term list: {exc.strerror}", file=str(path),
                               fix="give the path of a UTF-8 text file, one term per line"
                               ) from exc
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise InputRefused("the term list is not UTF-8 text", file=str(path), line=line,
                               fix="save it as UTF-8") from exc
        terms = tuple(dict.fromkeys(
            " ".join(fold(line).split()) for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")))
        if not terms:
            raise InputRefused("the term list holds no terms", file=str(path),
                               fix="one term per line; lines starting with # are comments")
        return cls.of(terms, hashlib.sha256(data).hexdigest())

    @classmethod
    def of(cls, terms: tuple[str, ...], sha256: str = "") -> Lexicon:
        folded = tuple(dict.fromkeys(" ".join(fold(t).split()) for t in terms if t.strip()))
        # Longest first, so a two-word term wins over its first word; \s+ between words.
        alternatives = sorted(folded, key=len, reverse=True)
        body = "|".join(r"\s+".join(re.escape(w) for w in t.split()) for t in alternatives)
        return cls(folded, sha256, re.compile(rf"(?<!\w)(?:{body})(?!\w)"))

    def matches(self, text: str | None) -> list[str]:
        """The terms found in ``text``, once per occurrence, in order."""
        if not text:
            return []
        return [" ".join(m.group(0).split()) for m in self.pattern.finditer(fold(text))]


@dataclass(frozen=True)
class HandleCount:
    platform: str
    handle: str
    messages: int  # messages with at least one match
    matches: int
    terms: dict[str, int]


def count_by_handle(wh: Warehouse, lexicon: Lexicon) -> list[HandleCount]:
    """Matches per sender handle over every message, most first."""
    by: dict[tuple[str, str], tuple[int, Counter[str]]] = {}
    for platform, sender, text in _texts(wh):
        found = lexicon.matches(text)
        if found:
            messages, terms = by.get((platform, sender), (0, Counter()))
            terms.update(found)
            by[(platform, sender)] = (messages + 1, terms)
    counts = [HandleCount(p, h, m, sum(t.values()), dict(t.most_common()))
              for (p, h), (m, t) in by.items()]
    return sorted(counts, key=lambda c: (-c.matches, c.platform, c.handle))


def _texts(wh: Warehouse) -> Iterator[tuple[str, str, str]]:
    cursor = wh.con.cursor()  # its own cursor: the caller may be reading on the connection
    try:
        cursor.execute("SELECT platform, sender, text FROM communications "
                       "WHERE text IS NOT NULL AND kind IN ('message', 'payment_message')")
        while batch := cursor.fetchmany(10_000):
            yield from batch
    finally:
        cursor.close()


def write_party_counts(wh: Warehouse, lexicon: Lexicon) -> int:
    """``comm_lexicon_parties``: per linked party, messages with a match and matches, with
    the list's SHA-256 (needs ``comm_handle_parties``). Returns the number of rows."""
    counts = count_by_handle(wh, lexicon)
    wh.execute("CREATE OR REPLACE TEMP TABLE comm_lexicon_handles (platform VARCHAR, "
               "handle VARCHAR, messages BIGINT, matches BIGINT)").fetchall()
    if counts:
        wh.con.executemany("INSERT INTO comm_lexicon_handles VALUES (?, ?, ?, ?)",
                           [(c.platform, c.handle, c.messages, c.matches) for c in counts])
    wh.execute("""CREATE OR REPLACE TABLE comm_lexicon_parties AS
        SELECT p.role, p.provider, p.party_id, sum(h.messages) AS messages,
               sum(h.matches) AS matches, CAST(? AS VARCHAR) AS lexicon_sha256
        FROM comm_lexicon_handles h
        JOIN (SELECT DISTINCT platform, handle, role, provider, party_id
              FROM comm_handle_parties) p USING (platform, handle)
        GROUP BY ALL ORDER BY matches DESC, role, provider, party_id""",
               [lexicon.sha256]).fetchall()
    return int(wh.execute("SELECT count(*) FROM comm_lexicon_parties").fetchall()[0][0])
