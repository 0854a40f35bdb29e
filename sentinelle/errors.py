"""The one exception family. Every error a user can cause carries structured detail.

The command line prints ``str(error)`` (plain words, the fix where there is one); the
web layer will map ``error.as_dict()`` to its one JSON error shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SentinelleError(Exception):
    """Base of every error Sentinelle raises on purpose."""

    message: str
    fix: str | None = None
    file: str | None = None
    line: int | None = None
    column: str | None = None
    value: str | None = None
    details: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(str(self.file))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column:
            where.append(f"column {self.column!r}")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.value is not None:
            text += f" (value: {self.value!r})"
        for detail in self.details:
            text += f"\n  - {detail}"
        if self.fix:
            text += f"\nFix: {self.fix}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "error": type(self).__name__,
            "message": self.message,
            "fix": self.fix,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "details": list(self.details),
        }


class ModelError(SentinelleError):
    """The data-model declaration is broken (a developer's error, found at start-up)."""


class SettingsError(SentinelleError):
    """A setting has an unknown key or a value of the wrong kind."""


class InputRefused(SentinelleError):
    """A whole input file is refused: it is not what it claims to be."""


class ReferenceDataError(SentinelleError):
    """A reference table (exchange rates, for example) is missing or malformed."""


class WarehouseError(SentinelleError):
    """The warehouse cannot be opened or is not in the expected shape."""


class MappingError(SentinelleError):
    """A mapping file (a provider's export → canonical columns) is not valid."""


class ReconciliationError(SentinelleError):
    """Rows read would not equal rows accepted plus rows quarantined: nothing is written."""


class CatalogueError(SentinelleError):
    """An indicator declaration, a parameter override or a trained model is not usable."""


class DetectionError(SentinelleError):
    """Detection cannot run on this warehouse (no transactions, no run yet, ...)."""


class LabelsError(CatalogueError):
    """An outcomes (labels) file cannot train a model: a bad row, too few cases per role."""


class AuthError(SentinelleError):
    """Sign-in refused: unknown account, wrong password, disabled or locked account."""


class Forbidden(SentinelleError):
    """The signed-in user's role or case membership does not allow this."""


class NotFound(SentinelleError):
    """No such party, case, file or user (or not one the user may know exists)."""


class ReviewError(SentinelleError):
    """A request the case database cannot carry out as asked (missing reason, bad status)."""


class ReportInvalid(SentinelleError):
    """A report cannot be written as asked: its schema rejects it, a payment has no amount
    in the report's currency, the narrative is too long, PDF needs a missing library."""
