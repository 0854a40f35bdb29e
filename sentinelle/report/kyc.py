"""What a reporting entity knows of its own clients (KYC), for goAML's client forms.

goAML reports the entity's own client in ``t_from_my_client`` / ``t_to_my_client``, whose
person must carry an identity document, gender, birth date and nationality — facts a
payment export does not hold but the entity's KYC records do. A CSV of those records
(``--kyc FILE``, one row per client) lets the goAML report use the client forms for the
side named by ``goaml.my_client_side``; a party without a row stays in the non-client form,
and the command says which.

Every problem in the file is reported at once, with its line, column and value.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from sentinelle.errors import InputRefused

__all__ = ["KYC_COLUMNS", "Client", "load_kyc"]

# Column -> meaning; every column is required.
KYC_COLUMNS = {
    "provider": "The provider the party's payments come from, as in the warehouse.",
    "party_id": "The party's id at that provider (sender or beneficiary id).",
    "gender": "M, F, or - when not recorded.",
    "birth_date": "YYYY-MM-DD.",
    "nationality": "ISO 3166 two-letter code.",
    "id_type": "The FIU's identifier type code (goAML `identifier_type`, e.g. PASSP, EID).",
    "id_number": "The document's number.",
    "id_issue_date": "YYYY-MM-DD.",
    "id_expiry_date": "YYYY-MM-DD.",
    "id_issue_country": "ISO 3166 two-letter code.",
    "tax_reg_number": "goAML's one-character tax-registration flag, as your FIU defines it.",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class Client:
    provider: str
    party_id: str
    gender: str
    birth_date: str
    nationality: str
    id_type: str
    id_number: str
    id_issue_date: str
    id_expiry_date: str
    id_issue_country: str
    tax_reg_number: str


def _problem(row: dict[str, str], col: str) -> str | None:
    value = row[col]
    if not value:
        return "empty"
    if col.endswith("date") and not _DATE.fullmatch(value):
        return "not YYYY-MM-DD"
    if col in ("nationality", "id_issue_country") and not _COUNTRY.fullmatch(value):
        return "not a two-letter country code"
    if col == "gender" and value not in ("M", "F", "-"):
        return "not M, F or -"
    if col == "tax_reg_number" and len(value) != 1:
        return "not one character"
    return None


def load_kyc(path: Path) -> dict[tuple[str, str], Client]:
    """Clients by (provider, party_id)."""
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in KYC_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputRefused("the KYC file lacks columns", file=str(path),
                                   details=missing, fix="header: " + ",".join(KYC_COLUMNS))
            rows = [(n, {c: (r.get(c) or "").strip() for c in KYC_COLUMNS})
                    for n, r in enumerate(reader, 2)]
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRefused(f"cannot read the KYC file: {exc}", file=str(path),
                           fix="give a UTF-8 CSV file") from exc
    problems, clients = [], {}
    for line, row in rows:
        found = [f"line {line}, column {c!r}, value {row[c]!r}: {why}"
                 for c in KYC_COLUMNS if (why := _problem(row, c))]
        problems += found
        if not found:
            client = Client(**row)
            if (client.provider, client.party_id) in clients:
                problems.append(f"line {line}: {client.provider} {client.party_id} appears "
                                "twice")
            clients[client.provider, client.party_id] = client
    if problems:
        raise InputRefused("the KYC file has problems", file=str(path), details=problems,
                           fix="correct the rows listed; nothing was written")
    return clients
