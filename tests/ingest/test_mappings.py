"""Providers' exports through mapping files: each mapping feature, on small files, through
the whole pipeline (cleaning, quarantine with file/line/column/value, provenance, counts)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from sentinelle.errors import InputRefused, MappingError
from sentinelle.ingest import ingest_paths
from sentinelle.ingest.mapfile import load_mapping, parse_mapping, shipped
from sentinelle.ingest.readers import more_suffixes, stager_for
from sentinelle.warehouse import Warehouse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mappings"


def ingest(wh: Warehouse, mapping, *paths: Path, **kw):
    m = mapping if not isinstance(mapping, str | Path) else load_mapping(mapping)
    reports = ingest_paths(wh, "transactions", list(paths), user="tester",
                           stager_for=stager_for(m, **kw), more_suffixes=more_suffixes(m))
    for r in reports:
        assert r.status != "ingested" or r.reconciles, r
    return reports


def rows(wh: Warehouse, sql: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in wh.execute(sql).fetchall()}


def quarantine(wh: Warehouse) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in wh.execute(
        'SELECT line, "column", value, reason, raw_row FROM quarantine').fetchall()}


def test_remittance_export_renames_joins_maps_and_reads_us_dates(wh):
    path = FIXTURES / "remit-export.csv"
    [r] = ingest(wh, "example-remit", path)
    assert (r.read, r.accepted, r.quarantined) == (6, 4, 2)
    got = rows(wh, """SELECT txn_id, timestamp_raw, amount, channel, sender_name_raw,
                      sender_country, beneficiary_country, provider, source_line, channel_raw
                      FROM transactions""")
    # 11:41 PM in the sender's zone (France, CET): the local hour detection reads is 23.
    assert got["ER-1001"][:4] == ("2024-03-07T23:41:00+01:00", 25, "e_wallet", "Martin Dubois")
    assert got["ER-1002"][1] == 1250  # thousands comma
    assert got["ER-1001"][4:8] == ("FR", "PH", "ExampleRemit", 2)
    assert got["ER-1003"][2] == "cash"
    assert got["ER-1006"][2] is None and got["ER-1006"][8] == "XYZ"  # unmapped code kept raw
    q = quarantine(wh)
    # A day-first date in a month-first export is refused, naming the mapping's formats.
    assert q[5][:2] == ("Created (local time)", "31/03/2024 10:00 AM")
    assert "%m/%d/%Y %I:%M %p" in q[5][2]
    assert json.loads(q[5][3])["Transaction No"] == "ER-1004"  # the export's row, whole
    assert q[6][:2] == ("Send Amount", "abc") and "not a number" in q[6][2]


def test_bank_statement_semicolon_cp1252_debit_credit_and_owner_side(wh):
    path = FIXTURES / "bank-statement.csv"
    [r] = ingest(wh, "example-bank-statement", path)
    assert (r.read, r.accepted, r.quarantined) == (7, 3, 4)
    got = rows(wh, """SELECT txn_id, sender_name_raw, beneficiary_name_raw, amount_raw,
                      beneficiary_country, sender_country, timestamp_raw, description
                      FROM transactions""")
    # A debit: the owner pays; the counterparty's name is split from "Name / BIC".
    assert got["EB-0001"][:4] == ("Jean Dupré", "Maria Santos", "25", "PH")
    # A credit: the counterparty pays the owner; its country comes from its IBAN.
    assert got["EB-0002"][:4] == ("Société Exemple", "Jean Dupré", "2150.50", "FR")
    assert got["EB-0002"][4] == "FR"
    assert got["EB-0003"][2] == "1650"  # "1 650,00": space thousands, decimal comma
    # A date without a time is noon in the payer's zone, never a midnight payment.
    assert got["EB-0001"][5] == "2024-03-04T12:00:00+01:00"
    assert got["EB-0001"][6] == "Virement été famille"  # cp1252 decoded
    q = quarantine(wh)
    assert q[7][2] == "both a debit and a credit amount"
    assert q[8][2] == "neither a debit nor a credit amount"
    assert q[9][:2] == ("Date opération", "32/03/2024")
    assert q[10][:2] == ("Débit", "20,0x") and "decimal ','" in q[10][2]
    extra = json.loads(wh.scalar("SELECT extra FROM transactions WHERE txn_id = 'EB-0001'"))
    assert extra["source:Solde"] == "1.475,00" and extra["direction"] == "outgoing"
    assert extra["timestamp_precision"] == "day"
    sha, fmt = wh.execute("SELECT sha256, format FROM ingest_files").fetchone()
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()  # the original file's
    assert "cp1252" in fmt and "example-bank-statement" in fmt


def wallet_xlsx(path: Path) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "History"
    ws.append(["Txn Ref", "Date/Time", "Amount", "Currency", "Type", "Wallet ID",
               "Wallet Holder", "Wallet Mobile", "Counterparty ID", "Counterparty",
               "Counterparty Mobile", "Counterparty Country", "Note"])
    ws.append(["W-1", datetime(2024, 3, 7, 23, 30), -500, "PHP", "P2P", "WAL-001",
               "DELA CRUZ Maria", "0917 555 0142", "WAL-777", "Ana Reyes", "0918 555 0199",
               "PH", "placeholder"])
    ws.append(["W-2", datetime(2024, 3, 8, 14, 5), 2500.5, None, "REMIT", "WAL-001",
               "DELA CRUZ Maria", "0917 555 0142", "RM-42", "Martin Dubois", None, "FR",
               "family support"])
    ws.append([None] * 13)  # an empty row is not a record
    ws.append(["W-3", datetime(2024, 3, 9), 0, "PHP", "P2P", "WAL-001", "DELA CRUZ Maria",
               None, "WAL-778", "Lina Santos", None, "PH", None])
    book.save(path)
    return path


def test_wallet_xlsx_signed_amounts_value_map_default_currency(wh, tmp_path):
    [r] = ingest(wh, "example-wallet", wallet_xlsx(tmp_path / "wallet.xlsx"))
    assert (r.read, r.accepted, r.quarantined) == (3, 2, 1)
    got = rows(wh, """SELECT txn_id, sender_id, beneficiary_id, amount_raw, currency,
                      channel, timestamp_raw, source_line FROM transactions""")
    assert got["W-1"] == ("WAL-001", "WAL-777", "500", "PHP", "e_wallet",
                          "2024-03-07T23:30:00+08:00", 2)
    # Positive: money in; the counterparty is the sender; the default currency applies.
    assert got["W-2"][:5] == ("RM-42", "WAL-001", "2500.5", "PHP", "remittance")
    assert quarantine(wh)[5][2] == "a zero amount has no direction"  # sheet row 5


def test_parquet_export_and_txn_id_from_line(wh, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"When": ["2024-03-07T23:41:05+01:00", "2024-03-08 10:00"],
                             "Sum": [25.0, 30.5], "From": ["C1", "C2"], "To": ["B1", "B2"]}),
                   path)
    m = parse_mapping({"name": "pq", "fields": {
        "txn_id": {"from_line": True}, "timestamp": "When", "amount": "Sum",
        "currency": {"value": "EUR"}, "sender_id": "From", "sender_country": {"value": "FR"},
        "beneficiary_id": "To", "beneficiary_country": {"value": "PH"}},
        "dates": {"formats": ["%Y-%m-%d %H:%M"], "timezone": "Europe/Paris"}}, "inline")
    [r] = ingest(wh, m, path)
    assert (r.read, r.accepted) == (2, 2)
    sha12 = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    got = rows(wh, "SELECT txn_id, timestamp_raw, amount_raw FROM transactions")
    assert got[f"{sha12}-1"] == ("2024-03-07T23:41:05+01:00", "25")
    assert got[f"{sha12}-2"] == ("2024-03-08T10:00:00+01:00", "30.5")


def test_detected_delimiter_and_encoding_can_be_forced(wh, tmp_path):
    path = tmp_path / "tabs.csv"
    path.write_bytes("Ref\tDate\tAmt\tS\tB\nX1\t2024-03-07T10:00:00Z\t1,5\tS1\tB1\n"
                     .encode("utf-16"))
    m = parse_mapping({"name": "t", "numbers": {"decimal": ","}, "fields": {
        "txn_id": "Ref", "timestamp": "Date", "amount": "Amt", "currency": {"value": "EUR"},
        "sender_id": "S", "sender_country": {"value": "FR"}, "beneficiary_id": "B",
        "beneficiary_country": {"value": "TH"}}}, "inline")
    [r] = ingest(wh, m, path)  # BOM → UTF-16; the Sniffer finds the tab
    assert (r.read, r.accepted) == (1, 1)
    assert wh.scalar("SELECT amount_raw FROM transactions") == "1.5"
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("Ref;Date;Amt;S;B\nX2;2024-03-07T10:00:00Z;2;S1;B1\n", encoding="utf-8")
    [r] = ingest(wh, m, wrong, options=_opts(delimiter=","))
    assert r.status == "refused" and "lacks column" in r.message


def _opts(**kw):
    from sentinelle.ingest.readers import ReadOptions
    return ReadOptions(**kw)


def test_short_row_is_quarantined_with_its_line(wh, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text("Ref,Date,Amt\nA,2024-03-07T10:00:00Z,5\nB,2024-03-07\n", encoding="utf-8")
    m = parse_mapping({"name": "s", "fields": {
        "txn_id": "Ref", "timestamp": "Date", "amount": "Amt", "currency": {"value": "EUR"},
        "sender_id": {"value": "S"}, "sender_country": {"value": "FR"},
        "beneficiary_id": {"value": "B"}, "beneficiary_country": {"value": "PH"}}}, "inline")
    [r] = ingest(wh, m, path)
    assert (r.read, r.accepted, r.quarantined) == (2, 1, 1)
    assert "wrong number of columns" in quarantine(wh)[3][2]


def test_split_part_and_value_map_are_case_insensitive(wh, tmp_path):
    path = tmp_path / "split.csv"
    path.write_text("Ref,Date,Amt,Who,Kind\nA,2024-03-07T10:00:00Z,5,Ana Reyes | PH,wlt\n",
                    encoding="utf-8")
    m = parse_mapping({"name": "s", "fields": {
        "txn_id": "Ref", "timestamp": "Date", "amount": "Amt", "currency": {"value": "EUR"},
        "sender_id": {"value": "S"}, "sender_country": {"value": "FR"},
        "beneficiary_id": {"column": "Who", "split": "|", "part": 0},
        "beneficiary_country": {"column": "Who", "split": "|", "part": 1},
        "channel": {"column": "Kind", "map": {"WLT": "e_wallet"}}}}, "inline")
    ingest(wh, m, path)
    assert wh.execute("SELECT beneficiary_id, beneficiary_country, channel FROM transactions"
                      ).fetchone() == ("Ana Reyes", "PH", "e_wallet")


def test_every_problem_in_a_mapping_is_listed_at_once():
    with pytest.raises(MappingError) as err:
        parse_mapping({"nme": "x", "read": {"delimiter": ";;", "encoding": "nope"},
                       "numbers": {"decimal": ";"}, "customer": "by_direction",
                       "fields": {"amount": "A", "sender_name": "N", "bogus": "B"}}, "m.yaml")
    details = "\n".join(err.value.details)
    for expected in ("unknown key 'nme'", "name is required", "read.delimiter",
                     "read.encoding", "numbers.decimal", "exactly one way to read the direction",
                     "fields.amount", "fields.sender_name", "fields.bogus",
                     "fields.txn_id is required"):
        assert expected in details, expected
    assert err.value.file == "m.yaml"


@pytest.mark.parametrize("name", sorted(shipped()))
def test_shipped_mappings_load(name):
    assert load_mapping(name).name == name


def test_missing_column_refuses_the_file_naming_it(wh, tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    [r] = ingest(wh, "example-remit", path)
    assert r.status == "refused" and "Transaction No" in r.message
    assert wh.scalar("SELECT count(*) FROM ingest_files") == 0


def test_binary_file_named_csv_is_refused(tmp_path):
    from sentinelle.ingest.tabular import open_tabular

    path = tmp_path / "x.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputRefused, match="binary"):
        open_tabular(path)
