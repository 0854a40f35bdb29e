"""goAML's client forms from the entity's KYC records: valid against the schema, used only
for the side the settings name and the parties with a row; a bad KYC file is refused with
every problem listed."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from sentinelle.errors import InputRefused
from sentinelle.report.entity import load_entity
from sentinelle.report.gather import gather
from sentinelle.report.goaml import client_gaps, render_goaml
from sentinelle.report.kyc import KYC_COLUMNS, load_kyc
from sentinelle.report.money import rate_book
from sentinelle.report.narrative import draft
from sentinelle.report.xmltools import validate
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import ENTITY, GOAML_XSD, SENDER_NAMES

FACILITATOR = PartyKey("facilitator", "ExampleRemit", "B0001")


def _kyc(tmp_path, rows):
    path = tmp_path / "kyc.csv"
    path.write_text(",".join(KYC_COLUMNS) + "\n" + "".join(r + "\n" for r in rows), "utf-8")
    return path


@pytest.mark.skipif(not GOAML_XSD.exists(), reason=f"no goAML schema at {GOAML_XSD}")
def test_senders_with_kyc_rows_are_written_as_clients(unicode_world, tmp_path):
    kyc = load_kyc(_kyc(tmp_path, [
        f"ExampleRemit,S000{i},F,1980-0{i + 1}-15,FR,PASSP,P{i}X,2020-01-01,2030-01-01,FR,N"
        for i in (0, 1)]))
    entity = load_entity(ENTITY)
    entity = dataclasses.replace(entity, values={**entity.values,
                                                 "goaml.my_client_side": "sender"})
    with unicode_world.view() as view:
        data = gather(view, [FACILITATOR], scope="subject", reference="r", title="t",
                      target="t")
        xml = render_goaml(data, entity, draft(data), rate_book(view), kyc)
    validate(xml, GOAML_XSD)
    root = etree.fromstring(xml)
    clients = root.findall("transaction/t_from_my_client")
    senders = [t.sender.party_id for t in data.transactions]
    assert len(clients) == sum(s in ("S0000", "S0001") for s in senders) > 0
    assert len(root.findall("transaction/t_from")) == len(senders) - len(clients)
    assert not root.findall("transaction/t_to_my_client")
    person = clients[0].find("from_person")
    assert person.findtext("identification/type") == "PASSP"
    assert person.findtext("alias") in SENDER_NAMES[:2]  # the original script survives
    gaps = client_gaps(data, entity, kyc)
    assert "ExampleRemit S0002" in gaps and "ExampleRemit S0000" not in gaps


def test_bad_kyc_file_lists_every_problem(tmp_path):
    path = _kyc(tmp_path, ["ExampleRemit,S1,X,15/01/1980,France,PASSP,P1,2020-01-01,"
                           "2030-01-01,FR,NO", "ExampleRemit,S2,M,1980-01-01,FR,EID,,"
                           "2020-01-01,2030-01-01,FR,N"])
    with pytest.raises(InputRefused) as err:
        load_kyc(path)
    text = "\n".join(err.value.details)
    for expected in ("line 2, column 'gender'", "line 2, column 'birth_date'",
                     "line 2, column 'nationality'", "line 2, column 'tax_reg_number'",
                     "line 3, column 'id_number'"):
        assert expected in text
    (tmp_path / "short.csv").write_text("provider,party_id\n", "utf-8")
    with pytest.raises(InputRefused, match="lacks columns"):
        load_kyc(tmp_path / "short.csv")
