"""Risk propagated over the sender-beneficiary graph.

Each party starts from its own suspicion ``q`` (the scorecard's probability from its
behaviour, identifiers and referrals); a referred party is a seed and spreads at least
``referral_seed``. Then, for a few rounds:

* a beneficiary's network measure is the chance that at least one of its most suspicious
  senders is a buyer, 1 - prod(1 - q_sender) ("noisy-or") over its ``network_top_senders``
  strongest senders, counting only suspicion above a floor: a business paid by a thousand
  faintly suspicious customers must not add up to a certain facilitator, and the measure
  must not grow with the size of the world;
* a sender's network measure is, over the beneficiaries he pays, the highest suspicion of
  that beneficiary from everything *but* him: its own behaviour combined with its other
  senders. Leaving him out keeps a sender from raising his own score through a
  beneficiary only he pays.

Between rounds each party's ``q`` becomes its full score, so a referred buyer's
beneficiaries become suspected facilitators in round one, and their other senders leads
in round two. Everything is plain SQL over two small tables per round.
"""

from __future__ import annotations

from collections.abc import Callable

from sentinelle.detect.catalogue import Catalogue
from sentinelle.detect.compiler import number
from sentinelle.detect.scoring import comparable
from sentinelle.warehouse.dialect import Dialect

# ln(1 - q) is unbounded at q = 1; a cap keeps "others" computable by subtraction.
Q_CAP = 0.999


def _above_floor(q: str, floor: float) -> str:
    """Suspicion above the floor, rescaled to 0-1: without it, fifty customers of a
    studio at 5% each would add up to a near-certain facilitator."""
    t = float(number(floor, "propagation_floor"))
    return f"greatest(0.0, ({q} - {t!r}) / {1 - t!r})"


def _seeded(q: str, seed: str) -> str:
    """A referred party spreads at least ``referral_seed`` suspicion, whatever its own
    payments look like: a referral is a lead to follow, not a verdict on the party."""
    return f"CASE WHEN referred THEN greatest({q}, {seed}) ELSE {q} END"


def edges_sql() -> str:
    """Who paid whom; a link between people who share a surname word is family money."""
    return """SELECT provider, sender_id, beneficiary_id, count(*) AS payments,
       sum(amount_eur) AS eur, bool_or(family_tie) AS family
FROM det_payments GROUP BY provider, sender_id, beneficiary_id"""


def _share_factor(expected: str, unrelated: str, full: str) -> str:
    """How much of a beneficiary's clientele looks like buyers, 0-1: a facilitator's
    unrelated senders are mostly buyers; a business's thousand customers are not, and one
    referred customer among them does not make it a facilitator."""
    return f"least(1.0, {expected} / greatest({unrelated}, 1) / {full})"


def ranked_edges_sql() -> str:
    """Each payment link with its sender's suspicion, ranked within the beneficiary."""
    return """
SELECT e.provider, e.beneficiary_id, e.sender_id, e.family, s.q, s.qf, s.sl, s.referred,
       row_number() OVER (PARTITION BY e.provider, e.beneficiary_id
                          ORDER BY s.sl, e.sender_id) AS r
FROM det_edges e JOIN det_net_senders s
  ON s.provider = e.provider AND s.party_id = e.sender_id"""


def facilitator_side_sql(catalogue: Catalogue, dialect: Dialect) -> str:
    """Per beneficiary: noisy-or of its most suspicious senders, and who they are (among
    equally suspicious senders, the largest id: the same on every run and engine)."""
    suspect = number(catalogue.values["suspect_threshold"], "suspect_threshold")
    k = number(catalogue.values["network_top_senders"], "network_top_senders")
    top = f"sum(CASE WHEN r <= {k} THEN sl ELSE 0.0 END)"
    full = number(catalogue.values["suspect_share_full"], "suspect_share_full")
    return f"""
WITH sums AS (
SELECT provider, beneficiary_id AS party_id, {top} AS lsum,
       coalesce(max(CASE WHEN r = {k} + 1 THEN sl END), 0.0) AS next_sl,
       sum(CASE WHEN family THEN 0.0 ELSE qf END) AS expected,
       sum(CASE WHEN family THEN 0 ELSE 1 END) AS unrelated,
       sum(CASE WHEN q >= {suspect} THEN 1 ELSE 0 END) AS suspects,
       sum(CASE WHEN referred THEN 1 ELSE 0 END) AS referred,
       {dialect.arg_max("sender_id", comparable("q"), "sender_id")} AS top_sender, max(q) AS top_q
FROM det_net_ranked GROUP BY provider, beneficiary_id
)
SELECT *, (1 - exp(lsum)) * {_share_factor("expected", "unrelated", full)} AS m FROM sums"""


def buyer_side_sql(catalogue: Catalogue, dialect: Dialect) -> str:
    """Per sender: the most suspicious beneficiary he pays, judged without him (when he
    is among its most suspicious senders, the next one takes his place); among equally
    suspicious beneficiaries, the largest id, and every detail from that same one."""
    k = number(catalogue.values["network_top_senders"], "network_top_senders")
    full = number(catalogue.values["suspect_share_full"], "suspect_share_full")
    others = (f"(1 - exp(CASE WHEN e.r <= {k} THEN f.lsum - e.sl + f.next_sl "
              f"ELSE f.lsum END))")
    share = _share_factor("(f.expected - CASE WHEN e.family THEN 0.0 ELSE e.qf END)",
                          "(f.unrelated - CASE WHEN e.family THEN 0 ELSE 1 END)", full)
    def top(value: str) -> str:
        return dialect.arg_max(value, comparable("f_excl"), "beneficiary_id")

    return f"""
WITH per_edge AS (
  SELECT e.provider, e.sender_id, e.beneficiary_id,
         CASE WHEN e.family THEN 0.0
              ELSE 1 - (1 - least(b.q0, {Q_CAP})) * (1 - {others} * {share}) END AS f_excl,
         f.suspects - CASE WHEN e.q >= b.suspect THEN 1 ELSE 0 END AS other_suspects,
         f.referred - CASE WHEN e.referred THEN 1 ELSE 0 END AS other_referred,
         b.referred_self
  FROM det_net_ranked e
  JOIN det_net_facilitator f ON f.provider = e.provider AND f.party_id = e.beneficiary_id
  JOIN det_net_beneficiaries b ON b.provider = e.provider AND b.party_id = e.beneficiary_id
)
SELECT provider, sender_id AS party_id, max(f_excl) AS m,
       {top("beneficiary_id")} AS top_beneficiary,
       {top("other_suspects")} AS other_suspects,
       {top("other_referred")} AS other_referred,
       {top("referred_self")} AS top_referred
FROM per_edge GROUP BY provider, sender_id"""


def propagate(temp_table: Callable[[str, str], object], catalogue: Catalogue,
              rescore: Callable[[int], None], dialect: Dialect) -> None:
    """Run the rounds. ``temp_table(name, select)`` keeps (or replaces) an intermediate
    table (the engine's); ``rescore(round)`` recomputes every party's ``q`` from the
    network measures of the round (the scorecard's own formula, in the runner)."""
    rounds = int(catalogue.values["network_rounds"])
    suspect = number(catalogue.values["suspect_threshold"], "suspect_threshold")
    floor = catalogue.values["propagation_floor"]
    seed = number(catalogue.values["referral_seed"], "referral_seed")
    temp_table("det_edges", edges_sql())
    for n in range(1, max(1, rounds) + 1):
        temp_table("det_net_senders", f"""
            WITH seeded AS (SELECT provider, party_id, referred,
                                   {_seeded('q', seed)} AS q FROM det_party_buyer)
            SELECT provider, party_id, q, {_above_floor('q', floor)} AS qf,
                   ln(1 - least({_above_floor('q', floor)}, {Q_CAP})) AS sl, referred
            FROM seeded""")
        temp_table("det_net_beneficiaries", f"""
            SELECT provider, party_id, {_seeded('q0', seed)} AS q0, referred AS referred_self,
                   {suspect} AS suspect
            FROM det_party_facilitator""")
        temp_table("det_net_ranked", ranked_edges_sql())
        temp_table("det_net_facilitator", facilitator_side_sql(catalogue, dialect))
        temp_table("det_net_buyer", buyer_side_sql(catalogue, dialect))
        rescore(n)
