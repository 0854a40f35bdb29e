"""ISO 20022 messages as canonical transactions: each message type and version, the
statement owner's side, ids, dates, the reference files, and hostile XML refused."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from sentinelle.errors import InputRefused
from sentinelle.ingest import ingest_paths
from sentinelle.ingest.readers import more_suffixes, stager_for
from sentinelle.warehouse import Warehouse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "iso20022"
REFERENCE = Path(__file__).parents[3] / "shared" / "reference" / "iso20022"


def ingest(wh: Warehouse, *paths: Path, fmt: str | None = None):
    reports = ingest_paths(wh, "transactions", list(paths), user="tester",
                           stager_for=stager_for(None, fmt), more_suffixes=more_suffixes(None))
    for r in reports:
        assert r.status != "ingested" or r.reconciles, r
    return reports


def txn(wh: Warehouse, txn_id: str) -> dict:
    cur = wh.execute("SELECT * FROM transactions WHERE txn_id = ?", [txn_id])
    names = [d[0] for d in cur.description]
    row = dict(zip(names, cur.fetchone(), strict=True))
    row["extra"] = json.loads(row["extra"])
    return row


# (fixture, message, read, accepted, quarantined)
COUNTS = [
    ("pacs.008.001.07.xml", "pacs.008.001.07", 2, 2, 0),
    ("pacs.008.001.10.xml", "pacs.008.001.10", 1, 1, 0),
    ("pain.001.001.03.xml", "pain.001.001.03", 2, 1, 1),
    ("pain.001.001.09.xml", "pain.001.001.09", 1, 1, 0),
    ("camt.052.001.08.xml", "camt.052.001.08", 1, 1, 0),
    ("camt.053.001.02.xml", "camt.053.001.02", 3, 2, 1),
    ("camt.053.001.08.xml", "camt.053.001.08", 3, 3, 0),
    ("camt.054.001.08.xml", "camt.054.001.08", 1, 1, 0),
]


@pytest.mark.parametrize(("name", "message", "read", "accepted", "quarantined"), COUNTS,
                         ids=[c[1] for c in COUNTS])
def test_each_message_type_and_version_imports_and_reconciles(
        wh, name, message, read, accepted, quarantined):
    [r] = ingest(wh, FIXTURES / name)
    assert (r.status, r.read, r.accepted, r.quarantined) == ("ingested", read, accepted,
                                                            quarantined)
    assert wh.scalar("SELECT format FROM ingest_files") == f"iso20022 {message}"
    if accepted:
        assert wh.scalar("SELECT DISTINCT extra->>'message' FROM transactions") == message


def test_pacs008_parties_agents_ids_and_acceptance_time(wh):
    ingest(wh, FIXTURES / "pacs.008.001.07.xml")
    t = txn(wh, "PACS7-TX-1")  # TxId when there is no UETR
    assert (t["sender_name_raw"], t["sender_account"], t["sender_country"]) == (
        "Martin Dubois", "FR7630006000011234567890189", "FR")
    assert (t["beneficiary_name_raw"], t["beneficiary_account"], t["beneficiary_city"]) == (
        "DELA CRUZ Maria", "09175550142", "Cebu City")
    # No address country for the creditor: the creditor agent's BIC says PH.
    assert t["beneficiary_country"] == "PH"
    assert t["provider"] == "EXBKFRPPXXX"  # the instructing agent
    # A local acceptance time is placed in the payer's zone; the 02:00 batch time is not used.
    assert t["timestamp_raw"] == "2024-03-07T23:41:05+01:00"
    assert t["description"] == "family support"
    e = t["extra"]
    assert (e["end_to_end_id"], e["instruction_id"], e["sender_agent"],
            e["beneficiary_agent"], e["message_id"]) == (
        "E2E-1", "I-1", "EXBKFRPPXXX", "EXBKPHMMXXX", "PACS7-MSG-1")
    t2 = txn(wh, "PACS7-TX-2")
    assert t2["extra"]["end_to_end_id"] is None  # NOTPROVIDED is no id
    assert t2["description"] == "placeholder text"  # unstructured lines joined
    assert t2["timestamp_raw"] == "2024-03-08T12:00:00+01:00"  # settlement date: noon
    assert t2["extra"]["timestamp_precision"] == "day"


def test_pacs008_later_version_uetr_and_proxy(wh):
    ingest(wh, FIXTURES / "pacs.008.001.10.xml")
    t = txn(wh, "8a562c67-ca16-48ba-b074-65581be6f001")  # the UETR first
    assert t["sender_phone"] == "+4915123456789"
    assert t["beneficiary_account"] == "+639175550199"  # a proxy id as the account
    assert (t["sender_country"], t["beneficiary_country"]) == ("DE", "PH")  # IBAN; address


def test_pain001_debtor_from_payment_information_and_requested_date(wh):
    ingest(wh, FIXTURES / "pain.001.001.03.xml", FIXTURES / "pain.001.001.09.xml")
    t = txn(wh, "PAIN3-MSG/BATCH-1/P3-1")
    assert (t["sender_name_raw"], t["sender_country"], t["provider"]) == (
        "Jean Dupre", "FR", "EXBKFRPP")
    # The requested execution date, at noon: the 03:10 message creation time is not used.
    assert t["timestamp_raw"] == "2024-04-03T12:00:00+02:00"
    q = wh.execute('SELECT "column", value FROM quarantine').fetchone()
    assert q == ("amount", "0.00")
    t9 = txn(wh, "0f5b1d2a-1c1e-4b8e-9d3a-2b7e1c9a0001")
    assert t9["timestamp_raw"] == "2024-05-01T22:30:00+02:00"  # a date-time choice, kept
    assert t9["beneficiary_country"] == "TH"  # from the creditor agent's BIC


def test_statement_owner_is_customer_on_both_directions(wh):
    ingest(wh, FIXTURES / "camt.053.001.02.xml")
    debit, credit = txn(wh, "S2-REF-1"), txn(wh, "S2-REF-2")
    assert (debit["sender_id"], debit["beneficiary_name_raw"]) == (
        "FR7630006000011234567890189", "Maria Santos")
    assert (credit["beneficiary_id"], credit["sender_name_raw"]) == (
        "FR7630006000011234567890189", "Employer Example SA")
    assert debit["provider"] == "EXBKFRPP"  # the account servicer
    assert debit["extra"]["credit_debit"] == "DBIT" and credit["extra"]["credit_debit"] == "CRDT"
    assert debit["timestamp_raw"] == "2024-03-10T12:00:00+01:00"  # booking date, noon
    # An entry that names no counterparty (a fee) cannot be a transfer: quarantined.
    line, column = wh.execute('SELECT line, "column" FROM quarantine').fetchone()
    assert (line, column) == (54, "beneficiary_id")


def test_batch_entry_gives_one_row_per_transaction_with_its_own_line(wh):
    ingest(wh, FIXTURES / "camt.053.001.08.xml")
    one, two = txn(wh, "S8-BATCH/1"), txn(wh, "S8-BATCH/2")
    assert (one["amount_raw"], two["amount_raw"]) == ("1000.00", "2000.00")
    assert (one["sender_name_raw"], two["sender_name_raw"]) == ("Martin Dubois",
                                                                 "Klaus Beispiel")
    assert one["source_line"] < two["source_line"]
    assert one["timestamp_raw"] == "2024-03-11T23:15:00+08:00"  # booking date-time
    assert two["timestamp_raw"] == "2024-03-11T16:05:00+01:00"  # its own acceptance time
    card = txn(wh, "S8-NREF-2")
    assert (card["channel"], card["beneficiary_country"]) == ("card", "PH")


def test_format_option_reads_a_file_without_the_xml_suffix(wh, tmp_path):
    path = tmp_path / "message.txt"
    path.write_bytes((FIXTURES / "camt.054.001.08.xml").read_bytes())
    [r] = ingest(wh, path, fmt="iso20022")
    assert (r.read, r.accepted) == (1, 1)


def test_minified_file_numbers_rows_by_order(wh, tmp_path):
    text = (FIXTURES / "pacs.008.001.07.xml").read_text()
    path = tmp_path / "one-line.xml"
    path.write_text(" ".join(line.strip() for line in text.splitlines()[1:]))
    [r] = ingest(wh, path)
    assert (r.read, r.accepted) == (2, 2)
    assert wh.scalar("SELECT line_mapping FROM ingest_files") == "xml-transaction-order"


HOSTILE = [
    ("external entity", '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
     '"file:///etc/passwd">]><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
     "&x;</Document>", "DTD or entities"),
    ("billion laughs", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
     '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
     "<lolz>&lol2;</lolz>", "DTD or entities"),
    ("external DTD", '<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://example.org/d.dtd">'
     '<d/>', "DTD or entities"),
    ("truncated", '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
     'pacs.008.001.08"><FIToFICstmrCdtTrf><GrpHdr><MsgId>M</MsgId>', "not well formed"),
    ("not a supported message", '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
     'pacs.009.001.08"/>', "not an ISO 20022 message Sentinelle reads"),
    ("unsupported version", '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
     'pacs.008.001.14"/>', "not an ISO 20022 message Sentinelle reads"),
    ("no namespace", "<Document><Stmt/></Document>", "no ISO 20022 message"),
    ("empty", "", "empty"),
]


@pytest.mark.parametrize(("text", "expected"), [h[1:] for h in HOSTILE],
                         ids=[h[0] for h in HOSTILE])
def test_hostile_or_broken_xml_is_refused_whole(wh, tmp_path, text, expected):
    path = tmp_path / "hostile.xml"
    path.write_text(text)
    [r] = ingest(wh, path)
    assert r.status == "refused" and expected in r.message
    assert "hostile.xml" in r.message
    assert wh.scalar("SELECT count(*) FROM ingest_files") == 0
    assert wh.scalar("SELECT count(*) FROM transactions") == 0


def test_truncated_file_after_transactions_writes_nothing(wh, tmp_path):
    text = (FIXTURES / "camt.053.001.08.xml").read_text()
    path = tmp_path / "cut.xml"
    path.write_text(text[: text.index("<Ntry>", text.index("<Ntry>") + 1)])
    [r] = ingest(wh, path)
    assert r.status == "refused" and "truncated" in r.message
    assert wh.scalar("SELECT count(*) FROM transactions") == 0


def test_oversized_text_node_is_refused(tmp_path):
    from sentinelle.ingest.iso20022.safexml import MAX_TEXT, stream

    path = tmp_path / "big.xml"
    path.write_text('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><Id>'
                    + "x" * (MAX_TEXT + 10) + "</Id></Document>")
    with pytest.raises(InputRefused, match="more than"):
        stream(path, lambda ns, line: {"Ntry"}, lambda e, p: None)


def _big_statement(path: Path, entries: int) -> None:
    entry = ('<Ntry><Amt Ccy="EUR">{n}.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><BookgDt><Dt>'
             "2024-03-10</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef><NtryDtls><TxDtls>"
             "<RltdPties><Cdtr><Nm>Payee {n}</Nm><PstlAdr><Ctry>PH</Ctry></PstlAdr></Cdtr>"
             "</RltdPties><RmtInf><Ustrd>placeholder</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
    with path.open("w") as fh:
        fh.write('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
                 "<BkToCstmrStmt><Stmt><Id>BIG</Id><Acct><Id><IBAN>"
                 "FR7630006000011234567890189</IBAN></Id></Acct>\n")
        for n in range(1, entries + 1):
            fh.write(entry.format(n=n))
        fh.write("</Stmt></BkToCstmrStmt></Document>\n")


@pytest.mark.slow
def test_large_statement_is_streamed_not_loaded(tmp_path):
    from sentinelle.ingest.iso20022.safexml import stream

    path = tmp_path / "big.xml"
    _big_statement(path, 100_000)  # about 40 MB of XML
    seen = 0

    def handle(elem, parents):
        nonlocal seen
        seen += 1

    tracemalloc.start()
    stream(path, lambda ns, line: {"Ntry"}, handle)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seen == 100_000
    # Loaded whole, the tree would take hundreds of MB; streamed, a few MB at most.
    assert peak < 20 * 2**20 < path.stat().st_size


def test_statement_of_many_entries_reconciles(wh, tmp_path):
    path = tmp_path / "many.xml"
    _big_statement(path, 2_000)
    [r] = ingest(wh, path)
    assert (r.read, r.accepted, r.quarantined) == (2_000, 2_000, 0)


@pytest.mark.skipif(not REFERENCE.is_dir(), reason=f"reference files absent ({REFERENCE}): "
                    "the ISO 20022 samples from public projects are not in this checkout")
def test_every_reference_file_imports_with_every_transaction_accounted_for(wh):
    files = sorted(REFERENCE.glob("*.xml"))
    assert files
    reports = ingest(wh, *files)
    for path, r in zip(files, reports, strict=True):
        assert r.status == "ingested", (path.name, r.message)
        assert r.read == r.accepted + r.quarantined
        # Every transaction element of the file was read: one row per transaction detail
        # (or per entry without details) for statements, one per credit transfer otherwise.
        text = path.read_text()
        if "camt.05" in text:
            expected = text.count("<TxDtls>") + sum(
                1 for block in text.split("<Ntry>")[1:] if "<TxDtls>" not in
                block.split("</Ntry>")[0])
        else:
            expected = text.count("<CdtTrfTxInf>")
        assert r.read == expected, path.name
    assert sum(r.accepted for r in reports) > 0
