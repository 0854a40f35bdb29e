"""The evidence pack: its manifest checks, the page lists the other files with their
hashes, the same inputs give the same pack apart from the stamp, text is escaped, names
in any script survive, corroborated sessions are shown with both sources; and the PDF
when WeasyPrint can run."""

from __future__ import annotations

import hashlib
import io
import warnings
import zipfile
from datetime import datetime

import markupsafe
import pytest

from sentinelle.comms import Options, get, ingest_file
from sentinelle.comms.pairing import pair_sessions
from sentinelle.detect import detect, load_catalogue
from sentinelle.ingest import ingest_paths
from sentinelle.report.export import gather_subject
from sentinelle.report.pack import SESSIONS_NOTE, render_pack, render_pdf, stamp_text
from sentinelle.review.subjects import PartyKey
from sentinelle.synth import generate_world
from sentinelle.warehouse import open_warehouse
from tests.report.conftest import BENEFICIARY_NAMES, SENDER_NAMES, World

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


@pytest.fixture(scope="module")
def comms_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The synthetic world with its calls and messages, paired (sentinelle sessions), then
    detected."""
    folder = tmp_path_factory.mktemp("report-comms")
    world = generate_world(folder / "w", 0.05, 7)
    db = folder / "w.duckdb"
    with open_warehouse(db, memory_limit="1GB", threads=2) as wh:
        ingest_paths(wh, "transactions", [world.paths["transactions.csv"]], user="test")
        ingest_file(wh, get("csv"), world.paths["comms.csv"], Options(), user="test")
        assert pair_sessions(wh).sessions > 0
        detect(wh, load_catalogue(), user="test")
    return World(db, "")


def test_the_pack_shows_each_corroborated_session_with_both_sources(comms_world):
    with comms_world.view() as view:
        provider, party_id = view.rows(
            "SELECT provider, party_id FROM comm_session_parties WHERE role = 'facilitator' "
            "ORDER BY sessions DESC, party_id LIMIT 1")[0]
        data = gather_subject(view, PartyKey("facilitator", provider, party_id))
        expected = view.rows(
            """SELECT s.txn_id, s.comm_id, f.sha256, c.source_line FROM comm_sessions s
               JOIN communications c USING (comm_id)
               JOIN ingest_files f ON f.file_id = c.source_file_id
               WHERE s.provider = ? AND s.facilitator_id = ? ORDER BY s.paid_at""",
            [provider, party_id])
        page = _files(render_pack(data, view, "N.", "ana", WHEN))["pack.html"].decode()
    assert data.sessions is not None and len(data.sessions) == len(expected) > 0
    assert [(s.payment.txn_id, s.comm_id, s.call_sha256, s.call_line)
            for s in data.sessions] == [tuple(row) for row in expected]
    for s in data.sessions:
        assert s.call_at is not None and s.payment.timestamp is not None
        assert s.call_at >= s.payment.timestamp  # the call follows the payment
        assert s.gap_s == int((s.call_at - s.payment.timestamp).total_seconds())
    section = page.split("<h2>Corroborated sessions</h2>")[1].split("<h2>")[0]
    assert f"{len(expected)} payment(s) followed by a call" in section
    for txn_id, comm_id, _, line in expected:
        assert txn_id in section and comm_id in section and f"comms.csv, {line}" in section
    payment_file = data.sources[0]
    assert f"{payment_file.path}, {data.sessions[0].payment.source_line}" in section
    assert expected[0][2] in page.split("<h2>Source files</h2>")[1]  # the calls' file hash
    assert SESSIONS_NOTE not in page


def test_without_communications_the_pack_says_there_are_no_sessions(synth_world):
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("facilitator"))
        page = _files(render_pack(data, view, "N.", "ana", WHEN))["pack.html"].decode()
    assert data.sessions is None
    assert str(markupsafe.escape(SESSIONS_NOTE)) in page
