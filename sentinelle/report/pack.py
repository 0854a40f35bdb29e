"""The evidence pack for the prosecutor: one ZIP archive holding a readable page and the
data behind it, each file hashed.

``pack.html`` has the summary (the narrative), the subjects with every identity seen, their
counterparties, the chronology (amounts per month and payments by hour and weekday as
inline SVG, then day by day), the corroborated sessions (each payment beside the call that
followed it, both with their source file and line), the transactions with their source
file and line, the source files with their SHA-256, and the list of the pack's other files
with theirs. Beside it:
``transactions.csv`` (safe CSV), ``network.graphml``, ``entities.ftm.json`` and
``manifest.sha256`` (every file, the page included, in ``sha256sum`` format, so
``sha256sum -c manifest.sha256`` checks the pack).

The page is watermarked with the user and the time of the export; everything else is a
function of the inputs: the same data give the same archive apart from the stamp (the ZIP
entries carry a fixed date). ``render_pdf`` prints the same page with WeasyPrint, when it
and its system libraries (pango) are installed.
"""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sentinelle.errors import ReportInvalid
from sentinelle.report import csvsafe, ftm, graphml
from sentinelle.report.gather import ReportData, Transaction
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import Heatmap

__all__ = ["SESSIONS_NOTE", "print_pdf", "render_pack", "render_page", "render_pdf",
           "stamp_text"]

_ENV = Environment(loader=PackageLoader("sentinelle.report", "templates"),
                   autoescape=select_autoescape(["html"]), keep_trailing_newline=True)
# ZIP entries carry a date: a fixed one, so the archive depends on its content only.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SESSIONS_NOTE = ("No communications have been paired with payments in this warehouse "
                 "(sentinelle sessions has not been run): there are no corroborated sessions "
                 "to show.")


def stamp_text(user: str, at: datetime) -> str:
    return f"Exported by {user} on {at:%Y-%m-%d %H:%M} UTC — confidential"


def _local(t: Transaction) -> datetime | None:
    """The payer's wall clock: the UTC time moved by the offset the payment recorded."""
    if t.timestamp is None:
        return None
    return t.timestamp + timedelta(minutes=t.offset_min or 0)


def _context(data: ReportData) -> dict[str, Any]:
    # Imported here: importing sentinelle.web loads the whole application, whose report
    # pages import this package (a cycle when a report is made without the web first).
    from sentinelle.web.charts import heatmap, monthly_bars

    months: dict[str, list[Any]] = {}
    days: dict[str, dict[str, Any]] = {}
    counts = [[0] * 24 for _ in range(7)]
    for t in data.transactions:
        if t.timestamp is None:
            continue
        m = months.setdefault(f"{t.timestamp:%Y-%m}", [0, Decimal(0)])
        m[0] += 1
        m[1] += t.amount_eur or 0
        d = days.setdefault(f"{t.timestamp:%Y-%m-%d}", {"payments": 0, "eur": Decimal(0),
                                                        "senders": set(),
                                                        "beneficiaries": set()})
        d["payments"] += 1
        d["eur"] += t.amount_eur or 0
        d["senders"].add(t.sender.party_id)
        d["beneficiaries"].add(t.beneficiary.party_id)
        local = _local(t)
        if local is not None:
            counts[local.weekday()][local.hour] += 1
    first, last = data.period
    subjects = {k for s in data.subjects for k in s.parties}
    return {
        "data": data,
        "first": f"{first:%Y-%m-%d}" if first else "?",
        "last": f"{last:%Y-%m-%d}" if last else "?",
        "counterparties": [p for k, p in data.parties.items() if k not in subjects],
        "months_chart": monthly_bars([{"month": k, "payments": n, "eur": float(eur)}
                                      for k, (n, eur) in sorted(months.items())]),
        "hours_chart": heatmap(Heatmap("Payments by hour and weekday, in the payer's local "
                                       "time", "the offsets recorded with each payment",
                                       counts)),
        "days": [{"day": k, "payments": v["payments"], "eur": v["eur"],
                  "senders": sorted(v["senders"]), "beneficiaries": sorted(v["beneficiaries"])}
                 for k, v in sorted(days.items())],
        "files": {s.file_id: s.path for s in data.sources},
        "sessions_note": SESSIONS_NOTE,
        "call_files": _call_files(data),
    }


def _call_files(data: ReportData) -> list[tuple[str, str, int]]:
    """The communications exports the sessions' calls come from: path, SHA-256, calls."""
    counts: dict[tuple[str, str], int] = {}
    for s in data.sessions or []:
        if s.call_file is not None and s.call_sha256 is not None:
            counts[(s.call_file, s.call_sha256)] = counts.get((s.call_file, s.call_sha256),
                                                              0) + 1
    return [(path, sha, n) for (path, sha), n in sorted(counts.items())]


def render_page(data: ReportData, narrative: str, user: str, at: datetime,
                manifest: list[tuple[str, str, int]]) -> bytes:
    context = _context(data) | {"narrative": narrative, "manifest": manifest,
                                "stamp_text": stamp_text(user, at),
                                "watermark": f"{user} {at:%Y-%m-%d %H:%M}"}
    return _ENV.get_template("pack.html").render(context).encode("utf-8")


def _entry(archive: zipfile.ZipFile, name: str, content: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o444 << 16
    archive.writestr(info, content)


def render_pack(data: ReportData, view: WarehouseView, narrative: str, user: str,
                at: datetime) -> bytes:
    """The archive's bytes."""
    files = {"transactions.csv": csvsafe.render_csv(data, bom=True),
             "network.graphml": graphml.render_graphml(data),
             "entities.ftm.json": ftm.render_ftm(data, view)}
    manifest = [(name, hashlib.sha256(body).hexdigest(), len(body))
                for name, body in files.items()]
    files = {"pack.html": render_page(data, narrative, user, at, manifest)} | files
    listing = "".join(f"{hashlib.sha256(body).hexdigest()}  {name}\n"
                      for name, body in files.items())
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in files.items():
            _entry(archive, name, body)
        _entry(archive, "manifest.sha256", listing.encode("utf-8"))
    return out.getvalue()


def print_pdf(page: bytes) -> bytes:
    """An HTML page printed to PDF by WeasyPrint (an optional dependency: ``pip install
    'sentinelle[pdf]'``, with Debian's pango, ``apt-get install libpango-1.0-0
    libpangoft2-1.0-0``). The page's own ``@page`` rules set the paper and the footer."""
    try:
        with warnings.catch_warnings():
            # Without Debian's libharfbuzz-subset0, WeasyPrint warns that it will need it
            # one day and embeds fonts whole (a larger PDF): not an error here.
            warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
            from weasyprint import HTML
    except (ImportError, OSError) as exc:
        raise ReportInvalid(f"PDF needs WeasyPrint and its system libraries: {exc}",
                            fix="pip install 'sentinelle[pdf]' and apt-get install "
                                  "libpango-1.0-0 libpangoft2-1.0-0; or export the HTML "
                                  "(pack, request)") from exc
    pdf: bytes = HTML(string=page.decode("utf-8")).write_pdf()
    return pdf


def render_pdf(data: ReportData, narrative: str, user: str, at: datetime) -> bytes:
    """The evidence pack's page printed to PDF (A4 landscape)."""
    return print_pdf(render_page(data, narrative, user, at, []))
