"""The evidence pack: its manifest checks, the page lists the other files with their
hashes, the same inputs give the same pack apart from the stamp, text is escaped, names
in any script survive; and the PDF when WeasyPrint can run."""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from datetime import datetime

import markupsafe
import pytest

from sentinelle.report.export import gather_subject
from sentinelle.report.pack import render_pack, render_pdf, stamp_text
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, SENDER_NAMES

FACILITATOR = PartyKey("facilitator", "ExampleRemit", "B0001")
WHEN = datetime(2025, 1, 2, 3, 4)


def _files(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
        return {name: archive.read(name) for name in archive.namelist()}


def test_manifest_and_page_list_every_file_with_its_hash(synth_world):
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("facilitator"))
        files = _files(render_pack(data, view, "Narrative.", "ana", WHEN))
    assert set(files) == {"pack.html", "transactions.csv", "network.graphml",
                          "entities.ftm.json", "manifest.sha256"}
    listed = dict(reversed(line.split("  ")) for line in
                  files["manifest.sha256"].decode().splitlines())
    assert set(listed) == set(files) - {"manifest.sha256"}
    for name, digest in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    page = files["pack.html"].decode()
    for name in ("transactions.csv", "network.graphml", "entities.ftm.json"):
        assert listed[name] in page
    assert data.sources[0].sha256 in page
    assert page.count("<svg") == 2  # amounts per month, hour by weekday
    assert stamp_text("ana", WHEN) in page
    for t in data.transactions:
        assert t.txn_id in page


def test_same_inputs_same_pack_apart_from_the_stamp(synth_world):
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("buyer"))
        one = _files(render_pack(data, view, "N.", "ana", WHEN))
        two = _files(render_pack(data, view, "N.", "bob", datetime(2026, 6, 7, 8, 9)))
    assert {k: v for k, v in one.items() if k not in ("pack.html", "manifest.sha256")} == {
        k: v for k, v in two.items() if k not in ("pack.html", "manifest.sha256")}
    assert one["pack.html"] != two["pack.html"]
    unstamped = [f["pack.html"].decode().replace(stamp_text(u, w), "STAMP")
                 .replace(f"{u} {w:%Y-%m-%d %H:%M}", "STAMP")
                 for f, u, w in ((one, "ana", WHEN), (two, "bob", datetime(2026, 6, 7, 8, 9)))]
    assert unstamped[0] == unstamped[1]


def test_text_is_escaped_and_names_survive(unicode_world):
    with unicode_world.view() as view:
        data = gather_subject(view, FACILITATOR)
        data.transactions[0].description = '<script>alert("x")</script>'
        page = _files(render_pack(data, view, "N <b>", "ana", WHEN))["pack.html"].decode()
    assert "<script>" not in page and "&lt;script&gt;" in page and "N &lt;b&gt;" in page
    for name in [BENEFICIARY_NAMES[1], *SENDER_NAMES]:
        assert str(markupsafe.escape(name)) in page, name  # as Jinja2 escapes it


@pytest.mark.slow  # WeasyPrint takes about 10 s to lay out the tables
def test_pdf(synth_world):
    try:
        with warnings.catch_warnings():  # see sentinelle.report.pack.render_pdf
            warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
            import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint cannot run here ({exc}): pip install 'sentinelle[pdf]' and "
                    "apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("facilitator"))
    pdf = render_pdf(data, "Narrative.", "ana", WHEN)
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
