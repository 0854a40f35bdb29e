"""Fold a person's name to one comparable form, whatever agency or bank wrote it.

Why: the same man appears as ``DELA CRUZ Maria Luisa`` in a referral (police and Interpol write
``SURNAME Given``), ``Maria Luisa dela Cruz`` in a remittance export and ``Cruz, Maria`` in a bank
return. Matching across agencies needs one form. The rules, in the order they apply:

1. **Letters.** Diacritics go (NFKD; ``José`` → ``jose``), letters NFKD leaves alone are mapped
   (ß→ss, ø→o, æ→ae, œ→oe, ł→l, đ/ð→d, þ→th, ı→i). Greek and Cyrillic are transliterated with
   the ICAO Doc 9303 tables, the ones used in passports' machine-readable zone, so a name
   matches the travel document (``Жуков`` → ``zhukov``; Greek ``ου`` → ``ou`` as in ELOT 743).
   Other scripts (Thai, Arabic, CJK…) are not transliterated: a name with no convertible letter
   folds to ``None`` and the caller keeps the raw value. Case is kept until rule 4 needs it.
2. **Punctuation.** Hyphens and apostrophes join (``Garcia-Lopez`` → ``garcialopez``,
   ``O'Brien`` → ``obrien``): sources disagree on whether to keep them. Digits and any other
   punctuation separate words. A comma marks ``Surname, Given`` order.
3. **Titles and suffixes** (``TITLES``) are dropped wherever they stand: they are not identity.
4. **Order.** ``Surname, Given`` with a comma. Otherwise capitals mark the surname: leading
   all-caps words followed by mixed-case words (``DELA CRUZ Maria``) or mixed-case words followed
   by trailing all-caps words (``Jean DUPONT``). A single letter is an initial, never a surname
   mark. With no such mark (all caps, all lower, ordinary ``Given Surname``) the surname is the
   last word, or starts at the first particle after the first word (``Maria Luisa Reyes Dela
   Cruz`` → surname ``delacruz``: Filipino middle names are the mother's surname and come
   before), or is the first word when the name starts with a particle (``Dela Cruz Maria``).
5. **Particles** (``PARTICLES``) are glued to the word after them everywhere, so ``Dela Cruz``,
   ``dela cruz`` and ``Delacruz`` are one word ``delacruz`` and the order-free ``key`` agrees.
   Left out on purpose: ``le``, ``do`` and ``du`` — ``Le`` and ``Do`` (Lê, Đỗ) are common
   Vietnamese surnames and ``Du`` a Chinese one, so gluing them would break those names.
   ``van`` is kept (Dutch/Flemish) although Vietnamese ``Văn`` is a middle name: ``Nguyen Van
   Minh`` folds to ``nguyen vanminh`` in every spelling order, so keys still agree. ``al`` is left
   out because ``Al`` is an English given name; ``Al-Rashid`` is joined by its hyphen anyway.
6. **Surname words** are kept as separate words (``GARCIA LOPEZ Juan`` → surname ``garcia
   lopez``) so the key matches ``Juan Garcia Lopez``; ``surname_key`` removes the spaces.

Speed matters (ingestion folds every distinct name of a file): ASCII input skips the Unicode
path, and no regular expression runs per word.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["PARTICLES", "TITLES", "FoldedName", "fold_name", "surname_key"]

PARTICLES = frozenset(
    "de del dela dels della delle degli dal dalla di da das dos delos delas los las la van von "
    "der den ten ter des bin binti binte bint ibn el".split()
)
TITLES = frozenset(
    "mr mrs ms miss mx mister dr prof sir dame madam mme mlle herr frau sra srta sr jr jnr snr "
    "ii iii iv atty engr hon rev fr".split()
)


@dataclass(frozen=True)
class FoldedName:
    """A name folded for matching. ``folded`` is "given… surname", lowercase ASCII."""

    folded: str
    given: str
    surname: str
    key: str


# Letters NFKD does not decompose. Upper-case sources map to upper-case output so the
# all-caps test of rule 4 still works after transliteration ("ЖУКОВ" → "ZHUKOV").
_LATIN = {
    "ß": "SS", "ẞ": "SS", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "TH",
    "ı": "i", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŋ": "ng", "Ŋ": "NG", "ə": "e", "Ə": "E",
    "ƒ": "f", "ĸ": "k",
}
# ICAO Doc 9303 (Russian, Ukrainian, Bulgarian, Serbian, Belarusian letters), lower case.
_CYRILLIC = dict(zip(
    "абвгдежзийклмнопрстуфхцчшщъыьэюяёєіїґўђјљњћџѕ",
    "a b v g d e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y  e iu ia e ie i i g u d j "
    "lj nj c dz dz".split(" "),
    strict=True,
))
_GREEK = dict(zip(
    "αβγδεζηθικλμνξοπρστυφχψως",
    "a v g d e z i th i k l m n x o p r s t y f ch ps o s".split(),
    strict=True,
))


_COMBINING_RANGES = (
    (0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F),
)


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for mapping in (_CYRILLIC, _GREEK):
        for lower, out in mapping.items():
            table[ord(lower)] = out
            upper = lower.upper()
            if len(upper) == 1 and upper != lower:
                table[ord(upper)] = out.upper()
    table.update({ord(k): v for k, v in _LATIN.items()})
    # Combining marks drop: after NFKD they follow the base letter they decorated.
    for start, end in _COMBINING_RANGES:
        table.update(dict.fromkeys(range(start, end + 1), ""))
    return table


_TABLE = _build_table()
# Apostrophe and hyphen look-alikes join, like their ASCII forms below.
_MARKS = {
    ord(ch): "'"
    for ch in "\u2019\u2018\u02bc\u02bb\u00b4\u2032\u2010\u2011\u2012\u2013\u2014\u2212\u00ad"
}
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# ASCII: hyphen/apostrophe join; anything but letters and the comma separates. A bytes
# table is the fastest way CPython has to do this.
_ASCII_KEEP = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,")
_ASCII_TABLE = bytes(c if c in _ASCII_KEEP else 32 for c in range(256))
_ASCII_JOIN = b"'`-"


def _to_ascii(text: str) -> str:
    """Transliterate to ASCII, keeping case; letters we cannot convert become separators."""
    # Apostrophe look-alikes first: NFKD would turn the acute accent "´" into a space.
    text = unicodedata.normalize("NFKD", text.translate(_MARKS))
    if "υ" in text or "Υ" in text:  # Greek "ου" is one sound: "ou", not "oy"
        text = text.replace("ου", "ou").replace("Ου", "Ou").replace("ΟΥ", "OU")
    return _NON_ASCII.sub(" ", text.translate(_TABLE))


def _words(part: str) -> list[str]:
    """Case-kept words of one side of the name, titles removed."""
    return [w for w in part.split() if w.lower() not in TITLES]


def _is_caps(word: str) -> bool:
    return len(word) > 1 and word.isupper()


def _glue(words: list[str]) -> list[str]:
    """Lower-case the words and glue each run of particles to the word after it."""
    units: list[str] = []
    pending = ""
    for word in words:
        low = word.lower()
        if low in PARTICLES:
            pending += low
        else:
            units.append(pending + low)
            pending = ""
    if pending:  # trailing particles ("Maria de"): keep them as a word rather than lose them
        units.append(pending)
    return units


def _starts_with_particle(word: str) -> bool:
    return word.lower() in PARTICLES


def _split_by_case(words: list[str]) -> tuple[list[str], list[str]] | None:
    """(given, surname) words when capitals mark the surname (rule 4), else None."""
    caps = [_is_caps(w) for w in words]
    if not any(caps) or all(caps):
        return None
    if caps[0]:
        n = caps.index(False)
        if not any(caps[n:]):
            return words[n:], words[:n]
        return None
    if caps[-1]:
        n = len(words) - caps[::-1].index(False)
        if any(caps[:n]):
            return None
        # Particles written in lower case before the capitals belong to the surname.
        while n > 1 and _starts_with_particle(words[n - 1]):
            n -= 1
        return words[:n], words[n:]
    return None


def _split_default(words: list[str]) -> tuple[list[str], list[str]]:
    """(given, surname) words for plain order (rule 4, last sentence)."""
    if _starts_with_particle(words[0]):
        n = 0
        while n < len(words) and _starts_with_particle(words[n]):
            n += 1
        return words[n + 1 :], words[: n + 1]
    for i in range(1, len(words)):
        if _starts_with_particle(words[i]) and i + 1 < len(words):
            return words[:i], words[i:]
    return words[:-1], words[-1:]


def fold_name(raw: str | None) -> FoldedName | None:
    """Fold a person's name; ``None`` when nothing name-like is left. Never raises."""
    if not isinstance(raw, str):
        return None
    text = raw if raw.isascii() else _to_ascii(raw)
    text = text.encode("ascii").translate(_ASCII_TABLE, _ASCII_JOIN).decode("ascii")

    surname_words: list[str] = []
    given_words: list[str] = []
    if "," in text:
        head, _, tail = text.partition(",")
        surname_words, given_words = _words(head), _words(tail.replace(",", " "))
        if not surname_words or not given_words:
            surname_words, given_words = [], surname_words + given_words
    if not surname_words:
        words = given_words or _words(text.replace(",", " "))
        if not words:
            return None
        given_words, surname_words = _split_by_case(words) or _split_default(words)

    # Both splits leave at least one surname word, so ``surname`` is never empty.
    given = _glue(given_words)
    surname = _glue(surname_words)
    units = given + surname
    return FoldedName(
        folded=" ".join(units),
        given=" ".join(given),
        surname=" ".join(surname),
        key=" ".join(sorted(units)),
    )


def surname_key(raw: str | None) -> str | None:
    """The folded surname without spaces (``GARCIA LOPEZ`` and ``Garcia-Lopez`` agree)."""
    folded = fold_name(raw)
    return folded.surname.replace(" ", "") if folded else None
