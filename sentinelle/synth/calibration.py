"""The figures the synthetic world is calibrated on, each beside its published source.

Why one module: a reviewer checks every number against its source here; ``world.json``
records them (with the source) next to the data they shaped; and ``tests/synth`` assert
that the generated data reproduce them. Figures without a published source are marked
"modelling choice" and say what they stand in for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

Weights = tuple[tuple[str, float], ...]

FATF = "FATF, Detecting, Disrupting and Investigating Online Child Sexual Exploitation (2025)"
AIC589 = "AIC Trends & Issues 589 (2020): 256 buyers, 2,714 transactions"
AIC634 = "AIC Trends & Issues 634 and 639 (2021)"
AIC642 = "AIC Trends & Issues 642 (2021)"
AUSTRAC = "AUSTRAC case studies and guidance; AUSTRAC v Westpac statement of claim (2019)"
ECPAT = "ECPAT Sweden, Project Indicators (2024)"
FINTRAC = "FINTRAC operational alerts (2020, 2025)"
AMLC = "Philippines AMLC studies (2020, 2023)"
BSP = "Bangko Sentral ng Pilipinas, personal remittances 2024"
MODEL = "modelling choice"


def cited(value: Any, source: str) -> Any:
    """A dataclass field whose default carries its source, for world.json and review."""
    return field(default=value, metadata={"source": source})


# Rough 2024 average rates, euros per unit. Used to express calibrated euro figures in
# the sender's currency and, in tests, to compare amounts back in euros. Not for analysis.
EUR_PER_UNIT: dict[str, float] = {
    "EUR": 1.0, "GBP": 1.18, "USD": 0.92, "AUD": 0.61, "CAD": 0.68, "CHF": 1.05,
    "SEK": 0.088, "NOK": 0.086, "DKK": 0.134, "PLN": 0.23, "AED": 0.25, "SAR": 0.245,
    "SGD": 0.69, "HKD": 0.118,
}


@dataclass(frozen=True)
class Calibration:
    """Every parameter of the world; ``world.json`` stores it with the sources."""

    # --- how many people, at scale 1 (about 200,000 transactions) -------------------------
    family_senders: int = cited(8_100, MODEL + ": diaspora families dominate small "
                                "transfers to these corridors (brief; " + BSP + ")")
    partner_senders: int = cited(1_000, MODEL + ": partners abroad, a known confounder")
    sponsor_senders: int = cited(670, MODEL + ": school sponsors")
    occasional_senders: int = cited(5_600, MODEL + ": one-off gifts")
    adult_customers: int = cited(670, MODEL + ": adult-content customers (brief's confounders)")
    buyer_share_of_senders: float = cited(0.008, MODEL + ": 'a small minority'; about 300 "
                                          "suspects in France (seed report, 2020)")
    buyers_per_facilitator: float = cited(3.0, "AUSTRAC: a common beneficiary paid by "
                                          "multiple customers")
    min_buyers: int = cited(20, MODEL + ": enough buyers at small scales for the tests")
    min_facilitators: int = cited(8, MODEL)

    # --- buyers -----------------------------------------------------------------------
    buyer_countries: Weights = cited(
        (("US", 24), ("GB", 15), ("FR", 14), ("AU", 14), ("CA", 8), ("DE", 9), ("NL", 4),
         ("SE", 4), ("NO", 3), ("BE", 2), ("CH", 2), ("DK", 1)),
        "brief: men in Europe, North America and Australia; " + FINTRAC)
    buyer_corridors: Weights = cited(
        (("PH", 70), ("TH", 8), ("CO", 7), ("RO", 6), ("DO", 4), ("MX", 5)),
        FINTRAC + ": Philippines first, then Thailand, Dominican Republic, Colombia, Mexico")
    buyer_median_eur: float = cited(30.0, AIC589 + ": median payment A$51 (about EUR 30)")
    buyer_amount_sigma: float = cited(0.45, FATF + ": 'usually range from EUR 10 to 200'")
    heavy_buyer_median_eur: float = cited(25.0, AIC634 + ": heavy buyers 'under $55 at "
                                          "intervals of less than 20 days'")
    buyer_max_eur: float = cited(1_450.0, FATF + ": 'always under EUR 1,500'")
    buyer_large_share: float = cited(0.03, AIC634 + ": payments from A$49 up to A$390; "
                                     + FATF + ": 'usually 500 or less'")
    heavy_buyer_share: float = cited(0.03, AIC589 + ": 3% of buyers made half of all "
                                     "transactions")
    heavy_buyer_payments: tuple[int, int] = cited((120, 220), AIC589 + ": about 170 each "
                                                  "for the top 3% (1,357 / 8)")
    light_buyer_median_payments: float = cited(3.0, AIC589 + ": the other 97% average "
                                               "about 5.5 transactions")
    buyer_escalation: float = cited(0.7, AIC589 + ": median amount and frequency rise "
                                    "with volume")
    buyer_round_share: float = cited(0.7, FATF + ": 'often even amounts'")
    buyer_double_registration: float = cited(0.12, MODEL + ": re-registering to evade "
                                             "a closed account")

    # --- facilitators -----------------------------------------------------------------
    facilitator_female_share: float = cited(0.8, AIC642 + ": often female family members")
    facilitator_alias_share: float = cited(0.3, AIC642 + "; " + AMLC + ": collecting under "
                                           "relatives' names")

    # --- diaspora families ------------------------------------------------------------
    family_corridors: Weights = cited(
        (("PH", 22), ("IN", 12), ("MX", 10), ("VN", 6), ("PK", 6), ("MA", 7), ("DZ", 4),
         ("SN", 3), ("NG", 6), ("GH", 3), ("PL", 5), ("RO", 5), ("UA", 4), ("CO", 3),
         ("DO", 2), ("BR", 2)),
        "brief: diaspora corridors (North and West Africa, Asia, Eastern Europe, Latin "
        "America); " + BSP)
    family_monthly_usd: float = cited(300.0, BSP + ": typical family remittance US$200-500 "
                                      "a month")
    family_payday_share: float = cited(0.7, MODEL + ": paid around pay day (25th to 5th)")
    family_december_factor: float = cited(1.5, BSP + ": December peak in remittances")
    family_monthly_rate: float = cited(0.85, MODEL + ": months with a payment")
    legit_double_registration: float = cited(0.015, MODEL + ": new phone, new account")

    # --- other confounders -------------------------------------------------------------
    partner_corridors: Weights = cited(
        (("PH", 50), ("TH", 25), ("CO", 8), ("DO", 5), ("BR", 4), ("UA", 4), ("VN", 4)),
        MODEL + ": partners abroad, often in the Philippines or Thailand")
    partner_median_eur: float = cited(60.0, MODEL + ": small regular sums")
    adult_corridors: Weights = cited((("PH", 45), ("CO", 35), ("RO", 20)),
                                     "brief: adult-content customers are a confounder")
    adult_amounts_eur: tuple[int, ...] = cited((10, 15, 20, 25, 30, 40, 50), MODEL)
    sponsor_corridors: Weights = cited(
        (("PH", 35), ("IN", 15), ("VN", 10), ("GH", 10), ("SN", 8), ("CO", 8), ("NG", 7),
         ("BR", 7)), MODEL + ": school sponsorship")
    sponsor_amounts_eur: tuple[int, ...] = cited((100, 150, 200, 250, 300), MODEL)
    occasional_median_eur: float = cited(100.0, MODEL)
    native_countries: Weights = cited(
        (("US", 24), ("GB", 16), ("FR", 14), ("AU", 10), ("CA", 8), ("DE", 12), ("NL", 5),
         ("SE", 3), ("NO", 2), ("BE", 3), ("CH", 2), ("DK", 1)), MODEL)

    # --- referrals ----------------------------------------------------------------------
    referral_coverage: float = cited(0.3, MODEL + ": share of offenders with a referral; "
                                     "the seed report's ~300 suspects in France came mostly "
                                     "from the FBI, Interpol and Tracfin")
    referral_absent_share: float = cited(0.25, MODEL + ": tips about people the provider "
                                         "never served")
    referral_mistaken_share: float = cited(0.04, MODEL + ": tips about people who did "
                                           "nothing wrong")

    def as_json(self) -> dict[str, dict[str, Any]]:
        """Each parameter with its value and source, for world.json."""
        out: dict[str, dict[str, Any]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) and value and isinstance(value[0], tuple):
                value = dict(value)
            out[f.name] = {"value": value, "source": f.metadata.get("source", MODEL)}
        return out


CALIBRATION = Calibration()

# Local hours (start, end; >24 means after midnight) with weights: when each cohort pays.
# Buyers pay "late at night or early morning" in their own time (FATF 2025; ECPAT 2024).
HOURS: dict[str, tuple[tuple[float, float, float], ...]] = {
    "buyer": ((0.45, 23, 26), (0.12, 22, 23), (0.10, 26, 30), (0.18, 18, 22), (0.15, 8, 18)),
    "family": ((0.10, 7, 10), (0.32, 10, 14), (0.25, 14, 18), (0.25, 18, 22), (0.06, 22, 24),
               (0.02, 24, 30)),
    "partner": ((0.15, 8, 18), (0.50, 18, 22), (0.25, 22, 24), (0.10, 24, 26)),
    "sponsor": ((0.85, 8, 18), (0.15, 18, 22)),
    "occasional": ((0.70, 8, 18), (0.25, 18, 22), (0.05, 22, 24)),
    "adult": ((0.45, 22, 26), (0.15, 26, 29), (0.25, 19, 22), (0.15, 9, 19)),
}

# Where each diaspora lives, by corridor: a modelling choice after the largest sending
# countries of each corridor (BSP 2024 for the Philippines: US, Saudi Arabia, Singapore,
# the UAE, the UK...). Only the host countries declared in data/countries.yaml appear.
DIASPORA_HOSTS: dict[str, Weights] = {
    "PH": (("US", 30), ("SA", 12), ("AE", 12), ("CA", 9), ("SG", 7), ("HK", 6), ("GB", 6),
           ("AU", 6), ("IT", 5), ("DE", 3), ("ES", 2), ("NO", 1), ("SE", 1)),
    "IN": (("US", 30), ("AE", 25), ("SA", 12), ("GB", 12), ("CA", 8), ("AU", 7), ("SG", 4),
           ("DE", 2)),
    "MX": (("US", 95), ("CA", 4), ("ES", 1)),
    "VN": (("US", 50), ("AU", 15), ("FR", 12), ("CA", 10), ("DE", 8), ("GB", 5)),
    "PK": (("SA", 30), ("AE", 25), ("GB", 25), ("US", 12), ("CA", 5), ("IT", 3)),
    "MA": (("FR", 40), ("ES", 25), ("IT", 15), ("BE", 10), ("NL", 8), ("DE", 2)),
    "DZ": (("FR", 85), ("ES", 5), ("BE", 5), ("CA", 5)),
    "SN": (("FR", 45), ("IT", 25), ("ES", 20), ("US", 5), ("BE", 5)),
    "NG": (("GB", 40), ("US", 35), ("CA", 10), ("DE", 5), ("IT", 5), ("AE", 5)),
    "GH": (("GB", 40), ("US", 35), ("DE", 10), ("CA", 10), ("NL", 5)),
    "PL": (("DE", 40), ("GB", 35), ("NL", 10), ("NO", 8), ("SE", 4), ("DK", 3)),
    "RO": (("IT", 35), ("ES", 30), ("DE", 20), ("GB", 10), ("FR", 5)),
    "UA": (("DE", 35), ("IT", 20), ("ES", 10), ("GB", 10), ("US", 10), ("CA", 10), ("CH", 5)),
    "CO": (("US", 50), ("ES", 35), ("CA", 5), ("FR", 5), ("GB", 5)),
    "DO": (("US", 85), ("ES", 12), ("IT", 3)),
    "BR": (("US", 50), ("ES", 10), ("IT", 10), ("GB", 10), ("DE", 5), ("FR", 5), ("CH", 5),
           ("CA", 5)),
    "TH": (("US", 30), ("DE", 15), ("GB", 15), ("AU", 15), ("SE", 10), ("NO", 5), ("SG", 10)),
}
