"""What senders type as the purpose of a payment: short neutral phrases, by cohort.

Buyers use the same cover phrases as families ("family support", "medical bills",
"education", "accommodation", "uniform") or a social-media handle (FATF 2025; AUSTRAC):
the description alone must never separate them, so the pools overlap on purpose. The
tests check that every description is one of these phrases or a handle.
"""

from __future__ import annotations

import numpy as np

from sentinelle.synth.sampling import weighted

# phrase -> weight, per cohort. "" is an empty description (common in exports).
PHRASES: dict[str, dict[str, float]] = {
    "family": {"family support": 20, "for mom": 8, "for dad": 4, "allowance": 8, "rent": 5,
               "groceries": 5, "bills": 6, "medical bills": 4, "tuition": 3,
               "house repair": 2, "birthday": 2, "support": 6, "for the kids": 3,
               "rent, bills": 2, "": 22},
    "december": {"christmas": 40, "family support": 20, "gift": 15, "": 25},
    "partner": {"allowance": 15, "for you": 15, "gift": 10, "load": 12, "bills": 10,
                "rent": 8, "groceries": 6, "phone load": 6, "": 18},
    "sponsor": {"school fees": 40, "tuition": 15, "education": 15, "school supplies": 8,
                "uniform": 7, "books": 5, "school fees, uniform": 3, "": 7},
    "occasional": {"gift": 30, "birthday": 15, "help": 10, "christmas": 8,
                   "wedding gift": 5, "travel": 5, "": 27},
    "adult": {"tip": 30, "subscription": 25, "credits": 15, "gift": 10, "": 20},
    # FATF 2025; AUSTRAC: cover descriptions and handles.
    "buyer": {"family support": 14, "medical bills": 10, "education": 8, "accommodation": 6,
              "uniform": 4, "school fees": 5, "allowance": 6, "gift": 8, "load": 8,
              "for mom": 3, "": 28},
}

PHRASE_LIST: tuple[str, ...] = tuple(sorted({p for pool in PHRASES.values() for p in pool} - {""}))
EMPTY = -1


def draw(rng: np.random.Generator, cohort: str, n: int) -> np.ndarray:
    """Description codes (index into ``PHRASE_LIST``, or ``EMPTY``) for ``n`` payments."""
    pool = PHRASES[cohort]
    codes = np.array([PHRASE_LIST.index(p) if p else EMPTY for p in pool], dtype=np.int32)
    return codes[weighted(rng, list(pool.values()), n)]


def handle_codes(handle_index: np.ndarray) -> np.ndarray:
    """Description codes for handles (the handle list follows the phrases)."""
    return (len(PHRASE_LIST) + handle_index).astype(np.int32)
