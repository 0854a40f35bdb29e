"""The request to a partner country's police: for each facilitator in a case, every
identity, phone, account and city seen; the payments received from the case's buyers with
dates and totals; and the buyers' countries — what is needed to find the children.

One ZIP archive, in English: ``request.html`` to read and send, ``facilitators.csv`` (one
row per facilitator) and ``payments.csv`` (one row per payment) for the receiving police's
own tools (safe CSV, with a byte-order mark), and ``manifest.sha256``. A case without
buyer subjects lists every payment its facilitators received. ``render_request_pdf``
prints the same letter to PDF (A4, the stamp and page number on every page).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from jinja2 import Environment, PackageLoader, select_autoescape

from sentinelle.errors import ReviewError
from sentinelle.report import csvsafe
from sentinelle.report.gather import Party, ReportData, Transaction
from sentinelle.report.pack import print_pdf, stamp_text

__all__ = ["facilitators", "render_request", "render_request_page", "render_request_pdf"]

_ENV = Environment(loader=PackageLoader("sentinelle.report", "templates"),
                   autoescape=select_autoescape(["html"]))
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class Facilitator:
    party: Party
    payments: list[Transaction] = field(default_factory=list)

    @property
    def eur(self) -> Decimal:
        return sum((t.amount_eur for t in self.payments if t.amount_eur is not None),
                   Decimal(0))

    @property
    def buyers(self) -> list[str]:
        return sorted({t.sender.party_id for t in self.payments})

    @property
    def buyer_countries(self) -> list[str]:
        return sorted({t.sender_country for t in self.payments if t.sender_country})

    @property
    def first(self) -> str:
        times = [t.timestamp for t in self.payments if t.timestamp]
        return f"{min(times):%Y-%m-%d}" if times else "?"

    @property
    def last(self) -> str:
        times = [t.timestamp for t in self.payments if t.timestamp]
        return f"{max(times):%Y-%m-%d}" if times else "?"


def facilitators(data: ReportData) -> list[Facilitator]:
    """The case's facilitators with the payments the case's buyers made them."""
    wanted = [k for s in data.subjects if s.key.role == "facilitator" for k in s.parties]
    if not wanted:
        raise ReviewError(f"{data.reference} has no facilitator subject",
                          fix="add the facilitators to the case; the request is about them")
    buyers = {k for s in data.subjects if s.key.role == "buyer" for k in s.parties}
    out = []
    for key in wanted:
        if key not in data.parties:
            continue
        f = Facilitator(data.parties[key])
        f.payments = [t for t in data.transactions if t.beneficiary == key
                      and (not buyers or t.sender in buyers)]
        out.append(f)
    return out


def render_request_page(data: ReportData, user: str, at: datetime,
                        found: list[Facilitator] | None = None) -> bytes:
    """The letter (``request.html``)."""
    return _ENV.get_template("request.html").render(
        data=data, facilitators=facilitators(data) if found is None else found,
        stamp_text=stamp_text(user, at)).encode("utf-8")


def render_request_pdf(data: ReportData, user: str, at: datetime) -> bytes:
    """The letter printed to PDF with WeasyPrint (see ``pack.print_pdf``)."""
    return print_pdf(render_request_page(data, user, at))


def render_request(data: ReportData, user: str, at: datetime) -> bytes:
    found = facilitators(data)
    page = render_request_page(data, user, at, found)
    summary = csvsafe.write_rows(
        ("provider", "facilitator_id", "names", "phones", "accounts", "cities", "countries",
         "payments", "eur", "first", "last", "buyers", "buyer_countries"),
        ([f.party.key.provider, f.party.key.party_id, "; ".join(f.party.names),
          "; ".join(f.party.phones), "; ".join(f.party.accounts), "; ".join(f.party.cities),
          "; ".join(f.party.countries), len(f.payments), f.eur, f.first, f.last,
          "; ".join(f.buyers), "; ".join(f.buyer_countries)] for f in found), bom=True)
    payments = csvsafe.write_rows(
        ("facilitator_id", "timestamp_utc", "provider", "txn_id", "amount", "currency",
         "amount_eur", "buyer_id", "buyer_name", "buyer_country"),
        ([f.party.key.party_id, t.timestamp.isoformat() if t.timestamp else None,
          t.provider, t.txn_id, t.amount, t.currency, t.amount_eur, t.sender.party_id,
          t.sender_name, t.sender_country] for f in found for t in f.payments), bom=True)
    files = {"request.html": page, "facilitators.csv": summary, "payments.csv": payments}
    listing = "".join(f"{hashlib.sha256(b).hexdigest()}  {n}\n" for n, b in files.items())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in [*files.items(), ("manifest.sha256", listing.encode("utf-8"))]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, body)
    return out.getvalue()
