"""Fictitious account numbers: IBANs with correct check digits, domestic numbers, e-wallets.

Why correct IBAN check digits: an account that fails its own checksum is something a
cleaning step may flag, and the synthetic world must be valid input. Bank codes are
made up (letters ``SYNT``, ``FICT``, ``XMPL`` where the format wants letters) so no real
bank's code appears.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sentinelle.synth.geography import countries
from sentinelle.synth.sampling import fresh

NONE, IBAN, DOMESTIC, WALLET = 0, 1, 2, 3
LETTER_BANKS = {"GB": ("SYNT", "FICT", "XMPL"), "NL": ("SYNT", "FICT", "XMPL"),
                "RO": ("SYNT", "FICT", "XMPL")}
MAX_DIGITS = 15  # account digits in an IBAN; the rest of the BBAN is the bank code


def draw_kinds(rng: np.random.Generator, country: np.ndarray, account_share: float,
               wallet_share: float) -> np.ndarray:
    """No account, a bank account (IBAN where the country uses them), or an e-wallet."""
    has_iban = np.array([c.iban_length is not None for c in countries()])[country]
    u = rng.random(len(country))
    bank = np.where(has_iban, IBAN, DOMESTIC)
    kind = np.where(u < wallet_share, WALLET, np.where(u < wallet_share + account_share, bank,
                                                        NONE))
    return kind.astype(np.int8)


def draw_numbers(rng: np.random.Generator, n: int,
                 taken: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Random 14-15 digit account numbers, unique across the world (``taken`` is updated).

    The last 12 digits alone are unique, since domestic formats show only those.
    """
    low = fresh(lambda k: rng.integers(0, 10**12, k, dtype=np.int64), n,
                {} if taken is None else taken, "account")
    return rng.integers(10, 1000, n, dtype=np.int64) * 10**12 + low


def _mod97(text: str) -> int:
    digits = "".join(str(int(ch, 36)) for ch in text)
    return int(digits) % 97


def _ibans(ci: int, number: np.ndarray) -> pa.Array:
    c = countries()[ci]
    assert c.iban_length is not None
    bban = c.iban_length - 4
    digits = min(MAX_DIGITS, bban - 4)
    width = bban - digits
    letters = LETTER_BANKS.get(c.code)
    if letters:
        banks = [b + f"{(1357913579 * (k + 1)) % 10 ** (width - 4):0{width - 4}d}"[: width - 4]
                 for k, b in enumerate(letters)]
    else:
        banks = [f"{(2468013579 * (k + 1)) % 10**width:0{width}d}" for k in range(3)]
    number = number % 10**digits
    bank = number % len(banks)
    # ISO 13616: BBAN, then the country letters and "00", as digits (A=10...), mod 97;
    # the check digits are 98 minus that. The country part is always 6 digits.
    bank_mod = np.array([_mod97(b) for b in banks], dtype=np.int64)[bank]
    r = (bank_mod * pow(10, digits, 97) + number % 97) % 97
    r = (r * pow(10, 6, 97) + _mod97(c.code + "00")) % 97
    return pc.binary_join_element_wise(
        c.code, pc.utf8_lpad(pa.array(98 - r).cast(pa.string()), 2, "0"),
        pa.array(banks).take(pa.array(bank)),
        pc.utf8_lpad(pa.array(number).cast(pa.string()), digits, "0"), "")


def format_accounts(country: np.ndarray, kind: np.ndarray, number: np.ndarray,
                    wallet_id: pa.Array | None) -> pa.Array:
    """Account strings; ``wallet_id`` is the e-wallet's phone-based id for WALLET rows."""
    out = np.empty(len(country), dtype=object)
    for ci in np.unique(country):
        code = countries()[ci].code
        for k in (IBAN, DOMESTIC):
            rows = np.flatnonzero((country == ci) & (kind == k))
            if not len(rows):
                continue
            if k == IBAN:
                text = _ibans(int(ci), number[rows])
            else:
                text = _domestic(code, number[rows])
            out[rows] = text.to_numpy(zero_copy_only=False)
    wallets = np.flatnonzero(kind == WALLET)
    if len(wallets):
        if wallet_id is None:
            raise ValueError("e-wallet accounts need their phone-based wallet ids")
        out[wallets] = wallet_id.take(pa.array(wallets)).to_numpy(zero_copy_only=False)
    return pa.array(out, type=pa.string())


def _domestic(code: str, number: np.ndarray) -> pa.Array:
    """Domestic formats: AU BSB-account, CA transit-institution-account, else plain digits."""
    if code == "AU":
        return pa.array([f"{n % 999:03d}-{n // 1000 % 1000:03d} {n // 10**6 % 10**8:08d}"
                         for n in number.tolist()])
    if code == "CA":
        return pa.array([f"{n % 10**5:05d}-{n // 10**5 % 1000:03d}-{n // 10**8 % 10**7:07d}"
                         for n in number.tolist()])
    return pa.array(number % 10**12).cast(pa.string())
