"""The reason narrative: drafted from the indicators' own reason sentences, then read,
edited and signed off by a person (``sentinelle report reason`` writes the draft; every
export takes the edited text back with ``--reason-file``).

The draft states what the payments show and why each subject scored as it did, in the
words ``sentinelle explain`` uses, and says plainly that a score ranks for review and
proves nothing. It names the typology, never any content.
"""

from __future__ import annotations

from pathlib import Path

from sentinelle.errors import InputRefused
from sentinelle.report.gather import ReportData

__all__ = ["draft", "read_reason"]

_ROLE_WORDS = {"buyer": ("suspected buyer", "sent", "to"),
               "facilitator": ("suspected facilitator", "received", "from")}


def _n(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def _day(value: object) -> str:
    return f"{value:%Y-%m-%d}" if value is not None else "unknown date"


def draft(data: ReportData, limit: int | None = None) -> str:
    """A first draft of the narrative, in English, within ``limit`` characters when one is
    given: a case of many subjects keeps each subject's strongest indicators (three, then
    one) and, if still too long, summarises the last subjects by their ids."""
    if limit is None:
        return _draft(data, None, len(data.subjects))
    for reasons in (None, 3, 1):
        text = _draft(data, reasons, len(data.subjects))
        if len(text) <= limit:
            return text
    shown = len(data.subjects)
    while shown > 0 and len(text) > limit:
        shown -= 1
        text = _draft(data, 1, shown)
    return text[:limit]


def _draft(data: ReportData, reasons: int | None, shown: int) -> str:
    first, last = data.period
    countries = sorted({c for p in data.parties.values() for c in p.countries[:1]})
    subjects = _n(len(data.subjects), "subject", "subjects")
    payments = _n(len(data.transactions), "payment", "payments")
    parties = _n(len(data.parties), "party", "parties")
    lines = [
        f"{data.title}.",
        "",
        f"This report concerns {subjects} identified by transaction monitoring for "
        "indicators published for payments to facilitators of live-streamed online child "
        "sexual exploitation (FATF 2025; AUSTRAC; AIC Trends & Issues 589; AMLC 2020). "
        f"It covers {payments} between {_day(first)} and {_day(last)}, "
        f"EUR {data.total_eur:,.2f} in all, between {parties} in "
        f"{', '.join(countries) or 'unknown countries'}.",
    ]
    for n, subject in enumerate(data.subjects[:shown], 1):
        label, verb, prep = _ROLE_WORDS[subject.key.role]
        mine = [t for t in data.transactions
                if (t.sender if subject.key.role == "buyer" else t.beneficiary)
                in subject.parties]
        others = {t.beneficiary if subject.key.role == "buyer" else t.sender for t in mine}
        eur = sum((t.amount_eur for t in mine if t.amount_eur is not None), start=0)
        alert = f", alert {subject.alert_no}" if subject.alert_no else ""
        party = data.parties.get(subject.key)
        name = party.name if party else subject.name or subject.key.party_id
        lines += [
            "",
            f"Subject {n}: {name} ({label}; "
            f"{subject.key.party_id} at {subject.key.provider}; country "
            f"{subject.country or 'unknown'}). Score {subject.score:.2f}, rank "
            f"{subject.rank}{alert}. The subject {verb} {_n(len(mine), 'payment', 'payments')}, "
            f"EUR {eur:,.2f}, {prep} {_n(len(others), 'counterparty', 'counterparties')}.",
        ]
        if subject.reasons:
            kept = subject.reasons[:reasons] if reasons else subject.reasons
            lines.append("Indicators, strongest first:" if len(kept) == len(subject.reasons)
                         else f"Strongest {len(kept)} of {len(subject.reasons)} indicators:")
            lines += [f"- {r['reason']} (contribution {r['contribution']:+.2f})"
                      for r in kept]
        said = " ".join(r["reason"] for r in subject.reasons)
        for ref in subject.referrals:
            if ref["referral_id"] in said:  # the referral indicator's reason names it
                continue
            lines.append(f"- Named in {ref['source']} referral {ref['referral_id']} "
                         f"(matched on {ref['matched_on']}).")
    rest = data.subjects[shown:]
    if rest:
        lines += ["", f"{_n(len(rest), 'further subject', 'further subjects')}, detailed in "
                  "the transactions: " + ", ".join(s.key.party_id for s in rest) + "."]
    lines += [
        "",
        "A score ranks parties for review; it is not proof. Each payment listed in this "
        "report can be traced to the file and line it was received in (SHA-256 of each "
        "file recorded).",
    ]
    return "\n".join(lines) + "\n"


def read_reason(path: Path, limit: int) -> str:
    """The edited narrative, checked against the format's limit (characters)."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputRefused(f"cannot read the reason file: {exc}", file=str(path),
                           fix="give a UTF-8 text file (sentinelle report reason writes "
                               "a draft)") from exc
    if not text:
        raise InputRefused("the reason file is empty", file=str(path),
                           fix="write the narrative, or leave --reason-file out to use "
                               "the draft")
    if len(text) > limit:
        raise InputRefused(f"the narrative has {len(text):,} characters; this format "
                           f"takes at most {limit:,}", file=str(path),
                           fix="shorten it")
    return text
