"""The calls and messages around the world's payments, as a generic communications CSV
(``comms.csv``, docs/comms.md), so the demo shows payments paired with calls.

- **Buyer to facilitator**: most payments are followed by a video call from the buyer's
  phone to the facilitator's — the seed report's €15-20 for 45 minutes to an hour — and a
  short neutral message before it. Some payments have no call in the export (a call on
  another app, a phone not seized).
- **Families** call too: a share of family remittances is followed by a voice call, some
  of them within the pairing window. A corroborated session is evidence beside the payment
  indicators, not proof on its own; the decoys keep that true in the demo.

Every handle is the party's phone in E.164, as call-detail records write it, so the
exact-phone linking pairs them. Drawn from the world's own "comms" stream: the
transactions and referrals of a seed stay byte for byte what they were.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sentinelle.normalise import to_e164
from sentinelle.synth import writer
from sentinelle.synth.identities import Identities
from sentinelle.synth.people import COHORTS, ROLES, World
from sentinelle.synth.transactions import Rows

COLUMNS = ["timestamp", "platform", "conversation", "sender", "recipients", "kind",
           "duration_seconds", "call_outcome", "text", "attachments", "sender_name",
           "sender_phone", "sender_email"]
SESSION_CALL_SHARE = 0.7  # buyer payments followed by a call in the export
SESSION_MINUTES = (40, 65)  # "45 minutes to an hour" (seed report), with some spread
SESSION_DELAY_MINUTES = (5, 90)  # from the payment to the call
FAMILY_CALL_SHARE = 0.05  # family remittances followed by a call
FAMILY_DELAY_MINUTES = (10, 600)
FAMILY_MINUTES = (3, 40)
MESSAGES = ("sent", "received, thank you", "see you later", "placeholder message")


def write_comms(path: Path, world: World, rows: Rows, ids: Identities,
                rng: np.random.Generator) -> int:
    """Write ``comms.csv``; return its number of rows."""
    role = world.persons["role"]
    cohort = world.persons["cohort"]
    s_person = world.senders["person"][rows.sender]
    b_person = world.beneficiaries["person"][rows.beneficiary]
    offender = (role[s_person] == ROLES.index("buyer")) & \
        (role[b_person] == ROLES.index("facilitator"))
    family = cohort[s_person] == COHORTS.index("family")
    session = np.flatnonzero(offender & (rng.random(len(rows)) < SESSION_CALL_SHARE))
    decoy = np.flatnonzero(family & (rng.random(len(rows)) < FAMILY_CALL_SHARE))
    times: list[int] = []
    out: dict[str, list[str]] = {c: [] for c in COLUMNS}
    phone = _Phones(ids)
    for picked, kind, delay, minutes in ((session, "video_call", SESSION_DELAY_MINUTES,
                                          SESSION_MINUTES),
                                         (decoy, "voice_call", FAMILY_DELAY_MINUTES,
                                          FAMILY_MINUTES)):
        start = rows.utc[picked] + rng.integers(delay[0] * 60, delay[1] * 60, len(picked))
        seconds = rng.integers(minutes[0] * 60, minutes[1] * 60, len(picked))
        said = rng.integers(0, len(MESSAGES), len(picked))
        for k, i in enumerate(picked):
            payer = phone("sender", int(rows.sender[i]))
            payee = phone("beneficiary", int(rows.beneficiary[i]))
            if not payer or not payee:
                continue
            for at, row in ((int(rows.utc[i]) + 60, (payee, payer, "message", "",
                                                     MESSAGES[said[k]])),
                            (int(start[k]), (payer, payee, kind, str(int(seconds[k])), ""))):
                times.append(at)
                _add(out, at, *row)
    order = np.argsort(np.array(times, dtype=np.int64), kind="stable")
    data = {c: [out[c][j] for j in order] for c in COLUMNS}
    return writer.write_table(path, data, COLUMNS)


def _add(out: dict[str, list[str]], at: int, sender: str, recipient: str, kind: str,
         duration: str, text: str) -> None:
    values = {"timestamp": _iso(at), "platform": "whatsapp", "conversation": "",
              "sender": sender, "recipients": recipient, "kind": kind,
              "duration_seconds": duration, "call_outcome": "answered" if duration else "",
              "text": text, "attachments": "", "sender_name": "", "sender_phone": "",
              "sender_email": ""}
    for c in COLUMNS:
        out[c].append(values[c])


class _Phones:
    """A record's phone in E.164 (read with its country), cleaned once, only when asked."""

    def __init__(self, ids: Identities) -> None:
        self.ids = ids
        self.cache: dict[tuple[str, int], str | None] = {}

    def __call__(self, side: str, record: int) -> str | None:
        key = (side, record)
        if key not in self.cache:
            raw = self.ids.value(side, "phone", record)
            country = self.ids.value(side, "country", record)
            self.cache[key] = to_e164(raw, country)[0] if raw else None
        return self.cache[key]


def _iso(seconds: int) -> str:
    return np.datetime_as_string(np.datetime64(seconds, "s")) + "Z"
