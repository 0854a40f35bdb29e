"""The request to a partner country: each facilitator of a case with every identity and the
payments the case's buyers made, in HTML and safe CSV, with a manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import warnings
import zipfile
from datetime import datetime

import pytest

from sentinelle.errors import ReviewError
from sentinelle.report.csvsafe import neutralise
from sentinelle.report.export import gather_subject
from sentinelle.report.gather import gather
from sentinelle.report.request import render_request, render_request_pdf
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES

WHEN = datetime(2025, 1, 2, 3, 4)


def _unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_payments_from_the_case_buyers_only(synth_world):
    facilitator = synth_world.alert("facilitator")
    with synth_world.view() as view:
        senders = {t.sender for t in gather_subject(view, facilitator).transactions}
        buyer = sorted(senders)[0]
        data = gather(view, [facilitator, buyer], scope="case", reference="C-R", title="R",
                      target="case/C-R")
    files = _unzip(render_request(data, "ivy", WHEN))
    assert set(files) == {"request.html", "facilitators.csv", "payments.csv",
                          "manifest.sha256"}
    for line in files["manifest.sha256"].decode().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(files[name]).hexdigest() == digest
    payments = _rows(files["payments.csv"])
    expected = [t for t in data.transactions if t.sender == buyer and
                t.beneficiary == facilitator]
    assert len(payments) == len(expected) > 0
    assert {p["buyer_id"] for p in payments} == {buyer.party_id}
    [row] = _rows(files["facilitators.csv"])
    party = data.parties[facilitator]
    assert row["facilitator_id"] == facilitator.party_id
    # A phone starting with + is neutralised for spreadsheets (OWASP), as in every CSV.
    assert row["phones"] == neutralise("; ".join(party.phones))
    assert row["payments"] == str(len(expected))
    page = files["request.html"].decode()
    assert party.name in page and "Request for assistance" in page


def test_without_buyers_every_payment_received_and_names_survive(unicode_world):
    with unicode_world.view() as view:
        data = gather_subject(view, PartyKey("facilitator", "ExampleRemit", "B0001"))
    files = _unzip(render_request(data, "ivy", WHEN))
    assert len(_rows(files["payments.csv"])) == len(data.transactions)
    assert _rows(files["facilitators.csv"])[0]["names"] == BENEFICIARY_NAMES[1]
    assert BENEFICIARY_NAMES[1] in files["request.html"].decode()


def test_a_case_without_facilitators_is_refused(synth_world):
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("buyer"))
    with pytest.raises(ReviewError, match="no facilitator"):
        render_request(data, "ivy", WHEN)


@pytest.mark.slow  # WeasyPrint lays the letter out in a few seconds
def test_the_request_as_pdf(synth_world):
    try:
        with warnings.catch_warnings():  # see sentinelle.report.pack.print_pdf
            warnings.filterwarnings("ignore", "HarfBuzz-Subset", DeprecationWarning)
            import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        pytest.skip(f"WeasyPrint cannot run here ({exc}): pip install 'sentinelle[pdf]' and "
                    "apt-get install libpango-1.0-0 libpangoft2-1.0-0")
    facilitator = synth_world.alert("facilitator")
    with synth_world.view() as view:
        data = gather_subject(view, facilitator)
        buyer_only = gather_subject(view, synth_world.alert("buyer"))
    pdf = render_request_pdf(data, "ivy", WHEN)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) > 5_000
    with pytest.raises(ReviewError, match="no facilitator"):
        render_request_pdf(buyer_only, "ivy", WHEN)
