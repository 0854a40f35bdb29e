"""What the XML formats share: text made safe for XML 1.0, and validation against an XSD.

XML 1.0 cannot carry most control characters; a description that holds one (a stray NUL
from a provider's export) becomes U+FFFD in the report rather than breaking the file, and
the warehouse keeps the original. Validation uses lxml (libxml2), the validator most
tools in the field use; ``sentinelle report --schema FILE`` refuses to write a report its
FIU's schema rejects, listing every error with its line.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from sentinelle.errors import ReportInvalid

__all__ = ["clean_text", "validate"]

# Characters XML 1.0 does not allow (tab, newline and carriage return are allowed).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_text(value: object) -> str:
    """``value`` as text XML 1.0 can hold."""
    return _ILLEGAL.sub("\ufffd", str(value))


def validate(document: bytes, xsd: Path) -> None:
    """Raise :class:`ReportInvalid` listing every error when ``document`` does not
    validate against the schema in ``xsd``."""
    try:
        schema = etree.XMLSchema(etree.parse(str(xsd)))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ReportInvalid(f"cannot load the schema: {exc}", file=str(xsd),
                            fix="give the XSD your FIU publishes") from exc
    doc = etree.fromstring(document)
    if schema.validate(doc):
        return
    errors = [f"line {e.line}: {e.message}" for e in schema.error_log]
    raise ReportInvalid(f"the report does not validate against {Path(xsd).name} "
                        f"({len(errors)} errors)", file=str(xsd), details=errors[:50],
                        fix="complete the reporting-entity settings or the data named "
                            "above; nothing was written")
