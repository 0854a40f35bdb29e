"""FollowTheMoney entities: every line loads with the followthemoney package and loses
nothing when it cleans it again, every reference points at an entity in the file, ids are
the same in every export, and communications become UserAccount, Message and Call."""

from __future__ import annotations

import json
import shutil
import unicodedata
from datetime import datetime

import duckdb
from followthemoney import model

from sentinelle.comms.table import ddl
from sentinelle.report.export import gather_subject
from sentinelle.report.ftm import render_ftm
from sentinelle.report.gather import gather
from sentinelle.review.reader import WarehouseView
from sentinelle.review.subjects import PartyKey
from tests.report.conftest import BENEFICIARY_NAMES, SENDER_NAMES

FACILITATOR = PartyKey("facilitator", "ExampleRemit", "B0001")


def _load(content: bytes) -> list:
    assert content.endswith(b"\n")
    proxies = []
    for line in content.decode("utf-8").splitlines():
        data = json.loads(line)
        proxy = model.get_proxy(data, cleaned=False)  # cleaned by followthemoney itself
        assert proxy.to_dict()["properties"] == data["properties"], line
        proxies.append(proxy)
    return proxies


def _check_references(proxies: list) -> None:
    ids = {p.id for p in proxies}
    assert len(ids) == len(proxies), "one line per entity"
    for p in proxies:
        for prop, value in p.itervalues():
            if prop.type.name == "entity":
                assert value in ids, (p.schema.name, prop.name)


def test_entities_load_and_reference_each_other(synth_world):
    with synth_world.view() as view:
        data = gather_subject(view, synth_world.alert("facilitator"))
        content = render_ftm(data, view)
    proxies = _load(content)
    _check_references(proxies)
    schemata = [p.schema.name for p in proxies]
    assert schemata.count("Payment") == len(data.transactions)
    assert schemata.count("Person") == len(data.parties)
    assert set(schemata) <= {"Person", "BankAccount", "Payment"}
    pay = next(p for p in proxies if p.schema.name == "Payment")
    assert pay.first("payer") and pay.first("beneficiary") and pay.first("amountEur")
    assert "SHA-256" in pay.first("summary")


def test_ids_are_stable_across_runs_and_reports(synth_world):
    facilitator = synth_world.alert("facilitator")
    with synth_world.view() as view:
        first = render_ftm(gather_subject(view, facilitator), view)
        again = render_ftm(gather_subject(view, facilitator), view)
        buyer = next(t.sender for t in gather_subject(view, facilitator).transactions)
        case = render_ftm(gather(view, [buyer, facilitator], scope="case", reference="C",
                                 title="t", target="case/C"), view)
    assert first == again
    people = {p.id for p in _load(first) if p.schema.name == "Person"}
    assert people <= {p.id for p in _load(case) if p.schema.name == "Person"}


def test_names_in_any_script_survive(unicode_world):
    with unicode_world.view() as view:
        proxies = _load(render_ftm(gather_subject(view, FACILITATOR), view))
    names = {n for p in proxies if p.schema.name == "Person" for n in p.get("name")}
    assert BENEFICIARY_NAMES[1] in names
    # followthemoney stores text composed (NFC): a decomposed name comes out canonically
    # equal, as its composed form.
    assert {unicodedata.normalize("NFC", n) for n in SENDER_NAMES} <= names


def test_communications_become_accounts_messages_and_calls(unicode_world, tmp_path):
    copy = tmp_path / "with-comms.duckdb"
    shutil.copy(unicode_world.warehouse, copy)
    con = duckdb.connect(str(copy))
    con.execute("SET TimeZone = 'UTC'")
    for stmt in ddl():
        con.execute(stmt)
    # A handle tied to the facilitator's phone as an export would write it, and another
    # handle nobody in the report owns.
    con.execute("INSERT INTO comm_identifiers VALUES (1, 'whatsapp', 'wa:handle-1', 'phone', "
                "'0063 917 555 0141', 'contacts'), (1, 'whatsapp', 'wa:stranger', 'phone', "
                "'+1 555 0100', 'contacts')")
    cols = ("comm_id", "timestamp", "platform", "conversation", "sender", "recipients",
            "kind", "duration_s", "text", "raw")
    rows = [("1-1", datetime(2024, 3, 2, 22, 5), "whatsapp", "chat", "wa:handle-1",
             ["wa:other"], "message", None, "Placeholder text one.", "{}"),
            ("1-2", datetime(2024, 3, 2, 22, 9), "whatsapp", "chat", "wa:other",
             ["wa:handle-1"], "video_call", 1800, None, "{}"),
            ("1-3", datetime(2024, 3, 3, 9, 0), "whatsapp", "x", "wa:stranger",
             ["wa:other"], "message", None, "Placeholder text two.", "{}")]
    con.executemany(f"INSERT INTO communications ({', '.join(cols)}) VALUES "
                    f"({', '.join('?' for _ in cols)})", rows)
    view = WarehouseView(con)
    proxies = _load(render_ftm(gather_subject(view, FACILITATOR), view))
    con.close()
    _check_references(proxies)
    by_schema: dict[str, list] = {}
    for p in proxies:
        by_schema.setdefault(p.schema.name, []).append(p)
    [account] = by_schema["UserAccount"]
    owner = next(p for p in by_schema["Person"] if "+639175550141" in p.get("phone"))
    assert account.first("owner") == owner.id and account.first("username") == "wa:handle-1"
    [message] = by_schema["Message"]
    assert message.first("bodyText") == "Placeholder text one."
    assert message.first("senderAccount") == account.id
    [call] = by_schema["Call"]
    assert call.first("receiver") == owner.id and call.first("duration") == "1800"
