"""Row accounting, quarantine reasons, idempotence, provenance and normalisation."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sentinelle.ingest import ingest_paths
from sentinelle.warehouse import Warehouse
from tests.conftest import TXN_COLUMNS, referral, txn, write_csv


def ingest(wh: Warehouse, *paths: Path, table: str = "transactions", **kw: object):
    return ingest_paths(wh, table, list(paths), user="tester", **kw)  # type: ignore[arg-type]


def test_valid_file_is_accepted_whole_with_provenance(wh, make_csv):
    path = make_csv("ok.csv", [txn(i) for i in range(1, 21)])
    [report] = ingest(wh, path)
    assert (report.status, report.read, report.accepted, report.quarantined) == (
        "ingested", 20, 20, 0)
    sha, size, user = wh.execute(
        "SELECT sha256, size_bytes, ingested_by FROM ingest_files").fetchone()
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert size == path.stat().st_size and user == "tester"
    # Every accepted row points at its own line: T000007 is on line 8 (header is line 1).
    assert wh.scalar("SELECT source_line FROM transactions WHERE txn_id = 'T000007'") == 8
    lines = [r[0] for r in wh.execute(
        "SELECT source_line FROM transactions ORDER BY source_line").fetchall()]
    assert lines == list(range(2, 22))


BROKEN = [
    # (description, overrides, column blamed, reason fragment)
    ("txn_id missing", {"txn_id": ""}, "txn_id", "required value is missing"),
    ("timestamp without offset", {"timestamp": "2024-03-07T23:41:05"}, "timestamp",
     "UTC offset"),
    ("timestamp day-first", {"timestamp": "07/03/2024 23:41"}, "timestamp", "ISO 8601"),
    ("timestamp impossible date", {"timestamp": "2024-02-30T10:00:00Z"}, "timestamp",
     "ISO 8601"),
    ("offset beyond 14 hours", {"timestamp": "2024-03-07T10:00:00+15:00"}, "timestamp",
     "UTC offset"),
    ("decimal comma", {"amount": "25,50"}, "amount", "dot"),
    ("negative amount", {"amount": "-5.00"}, "amount", "greater than zero"),
    ("zero amount", {"amount": "0"}, "amount", "greater than zero"),
    ("amount with currency sign", {"amount": "€25"}, "amount", "greater than zero"),
    ("unknown currency", {"currency": "XYZ"}, "currency", "XYZ"),
    ("unknown sender country", {"sender_country": "ZZ"}, "sender_country", "ZZ"),
    ("beneficiary country missing", {"beneficiary_country": " "}, "beneficiary_country",
     "required value is missing"),
    ("sender id missing", {"sender_id": ""}, "sender_id", "required value is missing"),
]


@pytest.mark.parametrize(("overrides", "column", "reason"),
                         [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_required_value_is_quarantined_with_line_column_value_reason(
        wh, make_csv, overrides, column, reason):
    rows = [txn(1), txn(2, **overrides), txn(3)]
    [report] = ingest(wh, make_csv("broken.csv", rows))
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    line, col, value, why, raw = wh.execute(
        'SELECT line, "column", value, reason, raw_row FROM quarantine').fetchone()
    assert (line, col) == (3, column)
    assert reason.lower() in why.lower()
    expected_value = overrides[column].strip() or None
    assert value == expected_value
    raw_row = json.loads(raw)  # the whole row as read; an empty field reads as null
    assert raw_row["beneficiary_id"] == rows[1]["beneficiary_id"]
    assert raw_row[column] in (overrides[column], None)


def test_unknown_channel_on_optional_field_is_kept_with_a_note(wh, make_csv):
    [report] = ingest(wh, make_csv("c.csv", [txn(1, channel="pigeon")]))
    assert report.accepted == 1
    assert wh.scalar("SELECT channel FROM transactions") is None
    assert wh.scalar("SELECT channel_raw FROM transactions") == "pigeon"
    col, value, reason = wh.execute(
        'SELECT "column", value, reason FROM cleaning_notes').fetchone()
    assert (col, value) == ("channel", "pigeon") and "remittance" in reason


def test_several_problems_are_all_listed(wh, make_csv):
    ingest(wh, make_csv("b.csv", [txn(1, amount="abc", currency="ZZZ", txn_id="")]))
    col, problems = wh.execute('SELECT "column", all_problems FROM quarantine').fetchone()
    assert col == "txn_id"
    for fragment in ("txn_id:", "amount:", "currency:"):
        assert fragment in problems


def test_rows_with_wrong_column_count_are_quarantined_with_their_line(wh, tmp_path):
    header = ",".join(TXN_COLUMNS)
    good = ",".join(txn(1).values()).replace("FR76 3000", "FR763000")
    path = tmp_path / "cols.csv"
    path.write_text("\n".join([header, good, good.replace("T000001", "T2") + ",extra",
                               "T3,only,three", good.replace("T000001", "T4")]) + "\n")
    [report] = ingest(wh, path)
    assert (report.read, report.accepted, report.quarantined) == (4, 2, 2)
    rows = wh.execute('SELECT line, reason, raw_row FROM quarantine ORDER BY line').fetchall()
    assert [r[0] for r in rows] == [3, 4]
    assert "too many columns" in rows[0][1] and rows[1][2] == "T3,only,three"
    assert wh.scalar("SELECT source_line FROM transactions WHERE txn_id = 'T4'") == 5


def test_multi_line_quoted_field_keeps_true_line_numbers(wh, make_csv):
    rows = [txn(1), txn(2, description="line one\nline two"), txn(3), txn(4, amount="x")]
    [report] = ingest(wh, make_csv("multi.csv", rows))
    assert (report.read, report.accepted, report.quarantined) == (4, 3, 1)
    got = dict(wh.execute("SELECT txn_id, source_line FROM transactions").fetchall())
    assert got == {"T000001": 2, "T000002": 3, "T000003": 5}
    assert wh.scalar("SELECT line FROM quarantine") == 6
    assert wh.scalar("SELECT description FROM transactions WHERE txn_id = 'T000002'") == (
        "line one\nline two")


def test_byte_order_mark_and_column_case_are_accepted(wh, tmp_path):
    path = write_csv(tmp_path / "bom.csv", [txn(1)])
    text = path.read_text()
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("txn_id", "TXN_ID", 1).encode())
    [report] = ingest(wh, path)
    assert report.accepted == 1


def test_extra_columns_are_kept(wh, make_csv):
    rows = [dict(txn(1), branch="Lyon 3", agent_code="A-17")]
    ingest(wh, make_csv("extra.csv", rows))
    assert json.loads(wh.scalar("SELECT extra FROM transactions")) == {
        "branch": "Lyon 3", "agent_code": "A-17"}


def test_same_file_twice_adds_nothing(wh, make_csv):
    path = make_csv("once.csv", [txn(i) for i in range(5)])
    ingest(wh, path)
    [again] = ingest(wh, path)
    assert again.status == "already ingested" and again.read == 0
    assert wh.scalar("SELECT count(*) FROM transactions") == 5
    assert wh.scalar("SELECT count(*) FROM ingest_files") == 1


def test_resent_identical_row_and_conflicting_row_are_quarantined_not_overwritten(
        wh, make_csv):
    ingest(wh, make_csv("first.csv", [txn(1), txn(2)]))
    [report] = ingest(wh, make_csv("second.csv", [txn(1), txn(2, amount="999.00"), txn(3)]))
    assert (report.read, report.accepted, report.quarantined) == (3, 1, 2)
    reasons = dict(wh.execute(
        "SELECT value, reason FROM quarantine ORDER BY line").fetchall())
    assert "identical" in reasons["T000001"]
    assert "different content" in reasons["T000002"] and "not overwritten" in reasons["T000002"]
    assert wh.scalar("SELECT amount FROM transactions WHERE txn_id = 'T000002'") == 25


def test_duplicate_key_within_one_file(wh, make_csv):
    rows = [txn(1), txn(1), txn(1, amount="30.00"), txn(2)]
    [report] = ingest(wh, make_csv("dup.csv", rows))
    assert (report.accepted, report.quarantined) == (2, 2)
    assert [r[0] for r in wh.execute(
        "SELECT line FROM quarantine ORDER BY line").fetchall()] == [3, 4]


def test_same_txn_id_from_two_providers_is_two_transactions(wh, make_csv):
    ingest(wh, make_csv("a.csv", [txn(1, provider="A")]))
    [report] = ingest(wh, make_csv("b.csv", [txn(1, provider="B")]))
    assert report.accepted == 1


def test_empty_provider_takes_the_default(wh, make_csv):
    ingest(wh, make_csv("p.csv", [txn(1, provider="")]), default_provider="Bank X")
    assert wh.scalar("SELECT provider FROM transactions") == "Bank X"


REFUSED = [
    ("binary", b"\x00\x01\x02PK\x03\x04" * 50, "binary"),
    ("semicolon", ";".join(TXN_COLUMNS).encode() + b"\n1;2\n", "semicolon"),
    ("missing column", b"txn_id,amount\nT1,5\n", "missing required column"),
    ("empty", b"", "empty"),
    ("latin-1", ",".join(TXN_COLUMNS).encode() + b"\nT1,caf\xe9\n", "not UTF-8"),
    ("duplicate column", (",".join(TXN_COLUMNS) + ",amount").encode() + b"\n", "named twice"),
]


@pytest.mark.parametrize(("content", "message"), [r[1:] for r in REFUSED],
                         ids=[r[0] for r in REFUSED])
def test_a_file_that_is_not_what_it_claims_is_refused_whole(wh, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    [report] = ingest(wh, path)
    assert report.status == "refused" and message in report.message
    assert str(path) in report.message
    assert wh.scalar("SELECT count(*) FROM ingest_files") == 0


def test_a_refused_file_does_not_stop_the_others(wh, make_csv, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00" * 10)
    good = make_csv("good.csv", [txn(1)])
    reports = ingest(wh, bad, good)
    assert [r.status for r in reports] == ["refused", "ingested"]


def test_folders_are_walked(wh, make_csv, tmp_path):
    make_csv("a.csv", [txn(1)])
    make_csv("b.csv", [txn(2)])
    (tmp_path / "notes.txt").write_text("ignored: not CSV or Parquet")
    reports = ingest(wh, tmp_path)
    assert sorted(r.path.name for r in reports) == ["a.csv", "b.csv"]


def test_parquet_input(wh, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [txn(1), txn(2, amount="oops")]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    [report] = ingest(wh, path)
    assert (report.read, report.accepted, report.quarantined) == (2, 1, 1)
    assert wh.scalar("SELECT line FROM quarantine") == 2


def test_values_are_normalised_and_raw_values_kept(wh, make_csv):
    ingest(wh, make_csv("n.csv", [txn(1, amount="100.00", currency="usd")]))
    row = wh.execute(
        """SELECT "timestamp", timestamp_offset_min, currency, currency_raw, amount_eur,
                  eur_rate_date, sender_phone, sender_phone_raw, beneficiary_phone,
                  beneficiary_name, beneficiary_name_raw, beneficiary_name_surname,
                  sender_account, sender_email FROM transactions""").fetchone()
    (ts, offset, cur, cur_raw, eur, rate_date, sphone, sphone_raw, bphone, bname, bname_raw,
     bsurname, account, email) = row
    assert str(ts) == "2024-03-02 22:01:05" and offset == 60
    assert (cur, cur_raw) == ("USD", "usd")
    assert 80 < eur < 100 and rate_date <= ts.date()
    assert (sphone, sphone_raw) == ("+33612345678", "+33 6 12 34 56 78")
    assert bphone == "+639175550142"
    assert bname == "maria delacruz" and bname_raw == "DELA CRUZ Maria" and bsurname == "delacruz"
    assert account == "FR7630006000011234567890189" and email == "m.dubois@example.org"


def test_missing_rate_leaves_amount_eur_empty_with_a_note(wh, make_csv):
    ingest(wh, make_csv("r.csv", [txn(1, timestamp="1999-01-05T10:00:00Z", currency="USD")]))
    assert wh.scalar("SELECT amount_eur FROM transactions") is None
    assert "no EUR reference rate for USD" in wh.scalar("SELECT reason FROM cleaning_notes")


def test_a_stale_rate_is_no_rate(wh, make_csv, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,units_per_eur,source\n2024-01-01,USD,2.0,test\n")
    ingest(wh, make_csv("s.csv", [txn(1, currency="USD", timestamp="2024-06-01T10:00:00Z")]),
           rates=rates)
    assert wh.scalar("SELECT amount_eur FROM transactions") is None
    assert "62 days" in wh.scalar("SELECT reason FROM cleaning_notes")


def test_user_rates_replace_the_shipped_table(wh, make_csv, tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,units_per_eur,source\n2024-01-01,USD,2.0,test\n")
    ingest(wh, make_csv("u.csv", [txn(1, amount="10.00", currency="USD")]), rates=rates)
    assert wh.scalar("SELECT amount_eur FROM transactions") == 5


def test_empty_optional_values_are_not_problems(wh, make_csv):
    empty = {c: "" for c in ("channel", "sender_name", "sender_birth_date", "sender_phone",
                             "sender_email", "sender_account", "beneficiary_account")}
    [report] = ingest(wh, make_csv("e.csv", [txn(1, **empty)]))
    assert report.accepted == 1
    assert wh.scalar("SELECT count(*) FROM cleaning_notes") == 0


def test_invalid_optional_phone_is_noted_and_kept_raw(wh, make_csv):
    ingest(wh, make_csv("ph.csv", [txn(1, sender_phone="call me")]))
    assert wh.scalar("SELECT sender_phone FROM transactions") is None
    assert wh.scalar("SELECT sender_phone_raw FROM transactions") == "call me"
    assert wh.scalar("""SELECT count(*) FROM cleaning_notes
                        WHERE "column" = 'sender_phone' AND line = 2""") == 1


def test_phone_note_gives_the_reason_for_the_party_country(wh, make_csv):
    """The note reads the phone mapping by number and country as written."""
    ingest(wh, make_csv("ph.csv", [txn(1, sender_phone="0612", sender_country="FR")]))
    assert wh.execute("""SELECT line, value, reason FROM cleaning_notes
                         WHERE "column" = 'sender_phone'""").fetchall() == [
        (2, "0612", "not a valid phone number for FR")]


def test_referrals_ingest_with_folded_names(wh, make_csv):
    rows = [referral(1), referral(2, subject_name="Martin DUBOIS", source="Interpol"),
            referral(3, received_at="")]
    [report] = ingest(wh, make_csv("refs.csv", rows), table="referrals")
    assert (report.accepted, report.quarantined) == (2, 1)
    keys = {tuple(r[0]) for r in wh.execute(
        "SELECT list_sort(string_split(subject_name, ' ')) FROM referrals").fetchall()}
    assert len(keys) == 1
    assert wh.scalar("SELECT DISTINCT subject_email FROM referrals") == "m.dubois@example.org"


def test_blank_lines_are_not_rows_and_lines_stay_true(wh, tmp_path):
    path = write_csv(tmp_path / "blank.csv", [txn(1), txn(2)])
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[1], "", lines[2]]) + "\n")
    [report] = ingest(wh, path)
    assert (report.read, report.accepted) == (2, 2)
    assert wh.scalar("SELECT source_line FROM transactions WHERE txn_id = 'T000002'") == 4
    assert wh.scalar("SELECT line_mapping FROM ingest_files") == "python-csv"


def test_a_corrupt_parquet_file_is_refused(wh, tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64)
    [report] = ingest(wh, path)
    assert report.status == "refused" and "Parquet" in report.message


def test_a_national_referral_phone_is_read_in_the_subjects_country(wh, make_csv):
    rows = [referral(1, subject_phone="0917 123 4567", subject_country="PH")]
    ingest(wh, make_csv("r.csv", rows), table="referrals")
    assert wh.scalar("SELECT subject_phone FROM referrals") == "+639171234567"


def test_mixed_line_endings_are_read_line_by_line(wh, tmp_path):
    # Two exports pasted together: one with Windows line endings, one with Unix ones.
    first = write_csv(tmp_path / "a.csv", [txn(1), txn(2)]).read_bytes()
    second = write_csv(tmp_path / "b.csv", [txn(3, amount="x"), txn(4)]).read_bytes()
    path = tmp_path / "mixed.csv"
    path.write_bytes(first.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                     + second.replace(b"\r\n", b"\n").split(b"\n", 1)[1])
    [report] = ingest(wh, path)
    assert (report.read, report.accepted, report.quarantined) == (4, 3, 1)
    assert wh.scalar("SELECT line FROM quarantine") == 4
    assert wh.scalar("SELECT txn_id FROM transactions WHERE source_line = 5") == "T000004"
    assert wh.scalar("SELECT line_mapping FROM ingest_files") == "python-csv"
    assert wh.scalar("SELECT count(*) FROM transactions WHERE provider LIKE '%\r%'") == 0


def test_windows_line_endings(wh, tmp_path):
    path = write_csv(tmp_path / "crlf.csv", [txn(1), txn(2), txn(3, amount="x")])
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    [report] = ingest(wh, path)
    assert (report.read, report.accepted, report.quarantined) == (3, 2, 1)
    assert wh.scalar("SELECT line FROM quarantine") == 4
    assert wh.scalar("SELECT txn_id FROM transactions WHERE source_line = 3") == "T000002"
    assert wh.scalar("SELECT count(*) FROM transactions WHERE provider LIKE '%\r%'") == 0


def test_a_header_alone_is_an_empty_file_not_an_error(wh, tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(",".join(TXN_COLUMNS) + "\n")
    [report] = ingest(wh, path)
    assert (report.status, report.read, report.accepted) == ("ingested", 0, 0)


def test_a_resent_row_given_the_default_provider_is_recognised_as_identical(wh, make_csv):
    ingest(wh, make_csv("a.csv", [txn(1, provider="")]), default_provider="Bank X")
    ingest(wh, make_csv("b.csv", [txn(1, provider=""), txn(2)]), default_provider="Bank X")
    reason = wh.scalar("SELECT reason FROM quarantine")
    assert reason.startswith("duplicate: identical to the row already ingested from file #1")
