"""Stream an XML file safely, handing each transaction element over with its line.

Parsing uses defusedxml's expat parser with DTDs forbidden: a document type declaration,
an entity declaration or an external reference is refused (so are "billion laughs" and
external entities: both need a DTD), and nothing is ever fetched. The file is fed in
chunks and a transaction element is dropped from the tree once handled, so a statement of
millions of entries is streamed, not loaded. An element's text and the nesting depth are
bounded. Tag names lose their namespace here: the namespace is read once, to know the
message type and version.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from sentinelle.errors import InputRefused

CHUNK = 1 << 16
MAX_TEXT = 1 << 20  # no ISO 20022 element holds a megabyte of text
MAX_DEPTH = 64

# (the transaction element, its ancestors outermost first) -> None
Handler = Callable[[ET.Element, list[ET.Element]], None]


class _Target:
    def __init__(self, on_namespace: Callable[[str, int], set[str]]):
        self.stack: list[ET.Element] = []
        self.root: ET.Element | None = None
        self.on_namespace = on_namespace
        self.parser: DefusedXMLParser | None = None
        self.wanted: set[str] = set()
        self.handler: Handler | None = None
        self.text: list[str] = []
        self.text_size = 0

    def line(self) -> int:
        assert self.parser is not None
        return int(self.parser.parser.CurrentLineNumber)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if ns and not self.wanted:
            self.wanted = self.on_namespace(ns, self.line())
        if len(self.stack) >= MAX_DEPTH:
            raise InputRefused(f"elements nested deeper than {MAX_DEPTH}", line=self.line(),
                               fix="this is not an ISO 20022 message")
        elem = ET.Element(local, attrib)
        if local in self.wanted or local == "TxDtls":
            elem.set("_line", str(self.line()))
        if self.stack:
            self.stack[-1].append(elem)
        else:
            self.root = elem
        self.stack.append(elem)
        self._flush_text()

    def data(self, text: str) -> None:
        self.text_size += len(text)
        if self.text_size > MAX_TEXT:
            raise InputRefused(f"an element holds more than {MAX_TEXT:,} characters of text",
                               line=self.line(), fix="this is not an ISO 20022 message")
        self.text.append(text)

    def end(self, tag: str) -> None:
        elem = self.stack.pop()
        if elem.text is None and self.text:
            elem.text = "".join(self.text)
        self.text, self.text_size = [], 0
        if elem.tag in self.wanted and self.handler is not None:
            self.handler(elem, self.stack)
            if self.stack:
                self.stack[-1].remove(elem)  # handled: free it

    def _flush_text(self) -> None:
        # Text before a child element is the parent's (mixed content is not ISO 20022).
        if self.text and len(self.stack) > 1 and self.stack[-2].text is None:
            self.stack[-2].text = "".join(self.text)
        self.text, self.text_size = [], 0

    def close(self) -> ET.Element | None:
        return self.root


def stream(path: Path, on_namespace: Callable[[str, int], set[str]], handler: Handler) -> None:
    """Parse ``path``; ``on_namespace`` gets the first namespace and returns the tags that
    are transactions; ``handler`` gets each one when its end tag is read."""
    target = _Target(on_namespace)
    target.handler = handler
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True,
                              forbid_external=True)
    target.parser = parser
    where = str(path)
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                parser.feed(chunk)
        parser.close()
    except DefusedXmlException as exc:
        raise InputRefused(
            f"the XML declares a DTD or entities ({type(exc).__name__}), which is refused: "
            "an ISO 20022 message has none, and entities are how hostile files expand or "
            "reach outside", file=where, line=_line_of(parser),
            fix="ask the sender for the message without a DOCTYPE") from exc
    except ET.ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        raise InputRefused(f"the XML is not well formed ({exc}); nothing was imported",
                           file=where, line=line,
                           fix="the file may be truncated or damaged: get it again") from exc
    except InputRefused as exc:
        exc.file = exc.file or where
        raise


def _line_of(parser: DefusedXMLParser) -> int | None:
    try:
        return int(parser.parser.CurrentLineNumber)
    except AttributeError:
        return None
