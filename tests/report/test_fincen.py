"""FinCEN SAR batch XML 1.2: valid against FinCEN's schema, with the key term of notice
FIN-2021-NTC3 where the notice asks for it, whole-dollar amounts and names in any script."""

from __future__ import annotations

import math

import pytest
from lxml import etree

from sentinelle.errors import ReportInvalid
from sentinelle.report.entity import load_entity
from sentinelle.report.fincen import KEY_TERM, narrative_blocks, render_fincen
from sentinelle.report.gather import gather
from sentinelle.report.money import in_currency, rate_book
from sentinelle.report.narrative import draft
from sentinelle.report.xmltools import validate
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, ENTITY, FINCEN_XSD

needs_xsd = pytest.mark.skipif(not FINCEN_XSD.exists(), reason=f"FinCEN's schema is not at "
                               f"{FINCEN_XSD} (shared/reference is absent)")
NS = {"f": "www.fincen.gov/base"}


def _sar(world, keys, reason=None):
    with world.view() as view:
        data = gather(view, keys, scope="case", reference="C-TEST", title="Test",
                      target="case/C-TEST")
        dollars = sum(in_currency(t, "USD", rate_book(view))[0] for t in data.transactions)
        xml = render_fincen(data, load_entity(ENTITY), reason or draft(data), rate_book(view))
    return data, etree.fromstring(xml), xml, dollars


@needs_xsd
def test_case_sar_validates_with_the_key_term(synth_world):
    keys = [synth_world.alert("facilitator"), synth_world.alert("buyer")]
    data, root, xml, dollars = _sar(synth_world, keys)
    validate(xml, FINCEN_XSD)
    assert root.findtext("f:Activity/f:FilingInstitutionNotetoFinCEN", namespaces=NS) == KEY_TERM
    narrative = root.findtext(".//f:ActivityNarrativeText", namespaces=NS)
    assert narrative.startswith(KEY_TERM)
    other = root.find(".//f:SuspiciousActivityClassification", namespaces=NS)
    assert other.findtext("f:SuspiciousActivitySubtypeID", namespaces=NS) == "9999"
    assert other.findtext("f:OtherSuspiciousActivityTypeText", namespaces=NS) == "OCSE"
    subtypes = {e.text for e in root.iterfind(".//f:SuspiciousActivitySubtypeID", NS)}
    assert "927" in subtypes  # human trafficking, as the fixture entity says
    codes = [e.text for e in root.iterfind("f:Activity/f:Party/f:ActivityPartyTypeCode", NS)]
    assert sorted(codes) == sorted(["35", "37", "30", "8", "34", "33", "33"])
    assert root.get("PartyCount") == "7"
    total = root.findtext(".//f:TotalSuspiciousAmountText", namespaces=NS)
    assert int(total) == math.ceil(dollars) and root.get("TotalAmount") == total


def test_narrative_blocks():
    blocks = narrative_blocks("y" * 9000)
    assert blocks[0].startswith(KEY_TERM) and [len(b) for b in blocks] == [4000, 4000, 1020]
    assert narrative_blocks(f"As {KEY_TERM} asks.") == [f"As {KEY_TERM} asks."]
    with pytest.raises(ReportInvalid, match="at most 17,000"):
        narrative_blocks("z" * 17_000)


@needs_xsd
def test_long_narrative_spans_blocks_and_validates(synth_world):
    _, root, xml, _ = _sar(synth_world, [synth_world.alert("buyer")], reason="w " * 5000)
    validate(xml, FINCEN_XSD)
    numbers = [e.text for e in root.iterfind(".//f:ActivityNarrativeSequenceNumber", NS)]
    assert numbers == ["1", "2", "3"]


@needs_xsd
def test_names_in_any_script_survive(unicode_world):
    keys = [PartyKey("facilitator", "ExampleRemit", f"B{i:04d}") for i in range(5)]
    _, root, xml, _ = _sar(unicode_world, keys)
    validate(xml, FINCEN_XSD)
    written = {" ".join(filter(None, (n.findtext("f:RawIndividualFirstName", namespaces=NS),
                                      n.findtext("f:RawEntityIndividualLastName",
                                                 namespaces=NS))))
               for n in root.iterfind(".//f:Party/f:PartyName", NS)}
    for name in BENEFICIARY_NAMES:
        assert " ".join(name.split()) in written or any(
            set(name.split()) == set(w.split()) for w in written), name
