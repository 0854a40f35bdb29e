"""Exporting a report: who may, for what, in which format; and the audit line with the hash.

The formats are a registry (:data:`EXPORTERS`): each names its file suffix and how it is
rendered from the gathered data; a deployment's own format registers the same way
(:func:`register`). Every export is attributed to an account of the case database that may
export (and, for a case, may see the case: need to know), and is written to the audit log
— format, file name, size, SHA-256, the subjects and the number of payments — in the same
transaction that makes the file appear: the file is written beside its destination first,
the audit entry committed, and only then is the file moved into place, so a file never
exists without its audit line.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentinelle.errors import NotFound, ReviewError
from sentinelle.normalise.rates import RateBook
from sentinelle.report import csvsafe, fincen, ftm, goaml, graphml, narrative, pack, request
from sentinelle.report.entity import ReportingEntity
from sentinelle.report.gather import ReportData, gather
from sentinelle.report.kyc import Client
from sentinelle.report.xmltools import validate
from sentinelle.review import access, audit
from sentinelle.review.models import Case, User
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import PartyKey

__all__ = ["EXPORTERS", "Exporter", "Rendering", "export_user", "gather_case",
           "gather_subject", "register", "render", "write_export"]


@dataclass
class Rendering:
    """What an exporter may draw on."""

    data: ReportData
    view: WarehouseView
    entity: ReportingEntity
    reason: str | None  # the edited narrative (--reason-file), or None for the draft
    rates: RateBook
    bom: bool = False
    kyc: Mapping[tuple[str, str], Client] = field(default_factory=dict)
    user: str = "-"  # who exports: the evidence pack's watermark
    at: datetime = field(default_factory=audit.utcnow)

    def narrative(self, limit: int) -> str:
        """The edited narrative, or a draft that fits the format's ``limit``."""
        return self.reason if self.reason is not None else narrative.draft(self.data, limit)


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    help: str
    render: Callable[[Rendering], bytes]
    xml: bool = False  # may be checked against an XSD (--schema)
    reason_limit: int | None = None  # takes a narrative, at most this many characters


EXPORTERS: dict[str, Exporter] = {}


def register(exporter: Exporter) -> None:
    """Add a format; built-in formats come through here too."""
    if exporter.name in EXPORTERS:
        raise ValueError(f"an exporter named {exporter.name!r} is already registered")
    EXPORTERS[exporter.name] = exporter


for _exporter in (
    Exporter("goaml", ".xml", "UNODC goAML 5 suspicious transaction report (XML).",
             lambda r: goaml.render_goaml(r.data, r.entity, r.narrative(goaml.REASON_LIMIT),
                                          r.rates, r.kyc),
             xml=True, reason_limit=goaml.REASON_LIMIT),
    Exporter("fincen", ".xml", "FinCEN SAR, BSA E-Filing batch XML 1.2, with the key term "
             f"{fincen.KEY_TERM}.",
             lambda r: fincen.render_fincen(r.data, r.entity,
                                            r.narrative(fincen.REASON_LIMIT), r.rates),
             xml=True, reason_limit=fincen.REASON_LIMIT),
    Exporter("ftm", ".ftm.json", "FollowTheMoney entities as JSON lines (Aleph, OpenAleph).",
             lambda r: ftm.render_ftm(r.data, r.view)),
    Exporter("graphml", ".graphml", "The network as GraphML (Gephi, i2, Maltego).",
             lambda r: graphml.render_graphml(r.data), xml=True),
    Exporter("csv", ".csv", "The transactions as CSV, safe to open in a spreadsheet.",
             lambda r: csvsafe.render_csv(r.data, bom=r.bom)),
    Exporter("pack", ".zip", "The evidence pack: a watermarked page (summary, subjects and "
             "identities, chronology with charts, transactions, source files with SHA-256) "
             "with the CSV, GraphML and FollowTheMoney files and a manifest of their hashes.",
             lambda r: pack.render_pack(r.data, r.view, r.narrative(100_000), r.user, r.at),
             reason_limit=100_000),
    Exporter("pdf", ".pdf", "The evidence pack's page as PDF (needs WeasyPrint and pango).",
             lambda r: pack.render_pdf(r.data, r.narrative(100_000), r.user, r.at),
             reason_limit=100_000),
    Exporter("request", ".zip", "The request to a partner country: each facilitator's "
             "identities, phones, accounts and cities, the payments from the case's buyers, "
             "the buyers' countries (HTML and CSV, in English).",
             lambda r: request.render_request(r.data, r.user, r.at)),
    Exporter("request-pdf", ".pdf", "The request to a partner country as PDF: the letter "
             "of the request archive, printed (needs WeasyPrint and pango).",
             lambda r: request.render_request_pdf(r.data, r.user, r.at)),
    Exporter("reason", ".txt", "The draft reason narrative, to edit and pass back with "
             "--reason-file.", lambda r: narrative.draft(r.data).encode("utf-8")),
):
    register(_exporter)


def export_user(session: Session, username: str) -> User:
    """The account the export is attributed to: active, and allowed to export."""
    user = session.scalars(select(User).where(
        User.username == (username or "").strip().lower())).first()
    if user is None:
        raise NotFound(f"no account {username!r} in the case database", value=username,
                       fix="give --user the username of an account that may export "
                           "(sentinelle users list)")
    access.require(user, "export")
    return user


def gather_subject(view: WarehouseView, key: PartyKey) -> ReportData:
    return gather(view, [key], scope="subject", reference=key.target.replace("/", "-"),
                  title=f"Report on {key.role} {key.party_id} at {key.provider}",
                  target=key.target)


def gather_case(session: Session, view: WarehouseView, user: User, case: str) -> ReportData:
    """A case named by its number or reference, for a user who may see it (anyone else is
    told it does not exist, as the web application does)."""
    found = session.scalars(select(Case).where(Case.reference == case)).first()
    if found is None and not case.isdigit():
        raise NotFound(f"no case {case!r}", value=case, fix="check the case reference, or "
                       "ask a supervisor to add you to the case")
    record = access.require_case(session, user, found.id if found is not None else int(case))
    keys = [PartyKey(s.role, s.provider, s.party_id)
            for s in sorted(record.subjects, key=lambda s: (s.added_at, s.id))]
    return gather(view, keys, scope="case", reference=record.reference,
                  title=f"{record.reference}: {record.title}", target=f"case/{record.reference}")


def render(fmt: str, rendering: Rendering, schema: Path | None = None) -> bytes:
    """The report's bytes; checked against ``schema`` first when one is given."""
    exporter = EXPORTERS.get(fmt)
    if exporter is None:
        raise ReviewError(f"unknown report format {fmt!r}", fix="one of " + ", ".join(EXPORTERS))
    content = exporter.render(rendering)
    if schema is not None:
        if not exporter.xml:
            raise ReviewError(f"{fmt} is not XML: --schema does not apply",
                              fix="leave --schema out")
        validate(content, schema)
    return content


def write_export(session: Session, user: User, fmt: str, data: ReportData, content: bytes,
                 out: Path, *, reason_file: Path | None = None,
                 extra: Mapping[str, Any] | None = None, ip: str | None = None) -> str:
    """Write ``content`` to ``out`` with its audit entry; return its SHA-256. ``extra``
    joins the entry's detail (an approved draft's number and approver); whatever the
    caller changed in ``session`` is committed with it."""
    digest = hashlib.sha256(content).hexdigest()
    out = Path(out)
    if not out.parent.is_dir():
        raise ReviewError("the folder to write the report in does not exist",
                          file=str(out.parent), fix="create it, or choose another --out")
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        detail = {"format": fmt, "file": out.name, "bytes": len(content), "sha256": digest,
                  "subjects": [s.key.target for s in data.subjects],
                  "transactions": len(data.transactions), "run_id": data.run_id}
        if reason_file is not None:
            detail["reason_file"] = Path(reason_file).name
        detail.update(extra or {})
        audit.record(session, action="export_report", user=user, target=data.target,
                     detail=detail, ip=ip)
        session.commit()
        os.replace(tmp, out)
    except BaseException:
        session.rollback()
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return digest
