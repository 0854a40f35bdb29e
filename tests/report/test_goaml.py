"""goAML 5 XML: valid against the UNODC goAML 5.0.2 schema (as an FIU distributes it), for a
buyer, a facilitator, a case, and names in any script; the reporting entity's codes used."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from sentinelle.errors import ReportInvalid, SettingsError
from sentinelle.report.entity import load_entity
from sentinelle.report.export import gather_subject
from sentinelle.report.gather import gather
from sentinelle.report.goaml import render_goaml, split_name
from sentinelle.report.money import rate_book
from sentinelle.report.narrative import draft
from sentinelle.report.xmltools import validate
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, ENTITY, GOAML_XSD, SENDER_NAMES

needs_xsd = pytest.mark.skipif(not GOAML_XSD.exists(), reason=f"the goAML schema is not at "
                               f"{GOAML_XSD} (shared/reference is absent)")


def _report(world, keys):
    with world.view() as view:
        data = gather(view, keys, scope="case", reference="C-TEST", title="Test",
                      target="case/C-TEST")
        xml = render_goaml(data, load_entity(ENTITY), draft(data), rate_book(view))
    return data, xml


@pytest.mark.parametrize(("raw", "first", "last"), [
    ("Martin Dubois", "Martin", "Dubois"),
    ("DELA CRUZ Maria", "Maria", "DELA CRUZ"),
    ("Ana María Núñez", "Ana María", "Núñez"),
    ("Cher", "", "Cher"),
    ("A B", "A", "B"),  # one capital letter is an initial, not a surname in capitals
])
def test_split_name(raw, first, last):
    assert split_name(raw) == (first, last)


@needs_xsd
@pytest.mark.parametrize("role", ["buyer", "facilitator"])
def test_subject_report_validates(synth_world, role):
    key = synth_world.alert(role)
    data, xml = _report(synth_world, [key])
    validate(xml, GOAML_XSD)
    root = etree.fromstring(xml)
    assert root.findtext("rentity_id") == "1001" and root.findtext("report_code") == "STR"
    assert len(root.findall("transaction")) == len(data.transactions)
    assert root.findtext("reason").startswith("Test.")
    # Every amount is in the FIU's currency; a foreign payment keeps its own beside it.
    for tx, t in zip(root.findall("transaction"), data.transactions, strict=True):
        assert tx.findtext("transactionnumber") == t.txn_id
        if t.currency == "EUR":
            assert tx.findtext("amount_local") == f"{t.amount:.2f}"
        else:
            assert tx.findtext("t_from/from_foreign_currency/foreign_currency_code") == t.currency


@needs_xsd
def test_case_report_with_both_roles_validates_and_maps_indicator_codes(synth_world):
    facilitator, buyer = synth_world.alert("facilitator"), synth_world.alert("buyer")
    data, xml = _report(synth_world, [facilitator, buyer])
    validate(xml, GOAML_XSD)
    codes = [e.text for e in etree.fromstring(xml).iterfind("report_indicators/indicator")]
    fired = {r["indicator"] for s in data.subjects for r in s.reasons}
    expected = {"NOPUR"} | ({"UNUSU"} if "night_share" in fired else set()) | (
        {"RFIUR"} if fired & {"referred_buyer", "referred_facilitator"} else set())
    assert set(codes) == expected


@needs_xsd
def test_names_in_any_script_validate_and_survive_as_alias(unicode_world):
    keys = [PartyKey("facilitator", "ExampleRemit", f"B{i:04d}") for i in range(5)]
    data, xml = _report(unicode_world, keys)
    validate(xml, GOAML_XSD)
    root = etree.fromstring(xml)
    aliases = {e.text for e in root.iter("alias")}
    firsts = {e.text for e in root.iter("first_name")} | {e.text for e in root.iter("last_name")}
    for name in SENDER_NAMES + BENEFICIARY_NAMES:
        if not name.isascii():
            assert name in aliases, name
    # The ASCII fields hold a transliteration, never an empty or rejected value.
    assert {"Zoe", "Angstrom", "Lukasz", "Zolc", "Maria"} <= firsts | {
        w for f in firsts for w in f.split()}
    # A description that looks like a formula is just text in XML.
    assert any(d.text.endswith('=HYPERLINK("http://example.invalid","x")')
               for d in root.iter("transaction_description"))


def test_entity_without_a_filer_is_refused_with_every_missing_key(synth_world):
    key = synth_world.alert("buyer")
    with synth_world.view() as view:
        data = gather_subject(view, key)
        with pytest.raises(SettingsError) as err:
            render_goaml(data, load_entity(None), "reason", rate_book(view))
    assert {"goaml.rentity_id", "name", "goaml.reporting_person.last_name"} <= {
        d.split(":")[0] for d in err.value.details}


def test_no_indicator_code_at_all_is_refused(synth_world):
    entity = load_entity(ENTITY)
    bare = dataclasses.replace(entity, values={**entity.values, "goaml.indicator_codes": {},
                                               "goaml.default_indicator_codes": []})
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("buyer"))
        with pytest.raises(SettingsError, match="at least one report indicator"):
            render_goaml(data, bare, "reason", rate_book(view))


def test_a_currency_without_rates_is_refused_naming_the_payments(synth_world):
    entity = load_entity(ENTITY)
    odd = dataclasses.replace(entity, values={**entity.values,
                                              "goaml.currency_code_local": "XAU"})
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("buyer"))
        with pytest.raises(ReportInvalid, match="FIU's currency") as err:
            render_goaml(data, odd, "reason", rate_book(view))
    assert data.transactions[0].txn_id in " ".join(err.value.details)


def test_a_narrative_longer_than_goaml_takes_is_refused(synth_world):
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("buyer"))
        with pytest.raises(ReportInvalid, match="at most 8,000"):
            render_goaml(data, load_entity(ENTITY), "x" * 8001, rate_book(view))


@needs_xsd
def test_validate_names_the_error(synth_world):
    data, xml = _report(synth_world, [synth_world.alert("buyer")])
    broken = xml.replace(b"<rentity_id>1001</rentity_id>", b"<rentity_id>none</rentity_id>")
    with pytest.raises(ReportInvalid) as err:
        validate(broken, GOAML_XSD)
    assert "rentity_id" in err.value.details[0]


@needs_xsd
def test_the_draft_of_a_large_case_fits_the_narrative_field(synth_world):
    with synth_world.view() as view:
        keys = [PartyKey(*r) for r in view.rows(
            "SELECT role, provider, party_id FROM det_alerts ORDER BY alert_no LIMIT 40")]
        data = gather(view, keys, scope="case", reference="C-BIG", title="Big",
                      target="case/C-BIG")
        full = draft(data)
        fitted = draft(data, 8000)
        xml = render_goaml(data, load_entity(ENTITY), fitted, rate_book(view))
    assert len(full) > 8000 >= len(fitted)
    assert "Strongest" in fitted  # indicators were cut to the strongest, not the text
    assert fitted.rstrip().endswith("proves nothing.") or "is not proof" in fitted
    validate(xml, GOAML_XSD)
