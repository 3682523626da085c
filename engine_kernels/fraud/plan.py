"""A scenario's fraud plan: how many campaigns of each type start, when, against whom.

Counts are negative binomial around the policy's rate per million parties and 30 days, over the
horizon and a lead-in long enough for campaigns started before it to reach into it (so the first
weeks carry as much fraud as the rest). Every campaign's numbers are drawn from its own keyed unit
(type, serial) and every target's from (campaign id, serial), so adding a campaign type or target
changes nothing else. Targets are chosen through 6A's roles and exposure: the regulars of a
compromised site, the cards of a ring, a mule for a scam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.fraud.draws import between, log_normal, log_uniform_int, pick, uniforms
from engine_kernels.fraud.policy import FraudPolicy
from engine_kernels.ids import campaign_ids
from engine_kernels.randomness.sampling import sample_negative_binomial
from engine_kernels.randomness.streams import unit_keys
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import FRAUD_TYPES, LABEL_ROLES, SCAM_KINDS

__all__ = ["CARD_TESTING", "STOLEN", "ATO", "APP", "REFUND", "COLLUSION", "FIRST_PARTY", "Plan", "Pools", "draw_plan"]

CARD_TESTING, STOLEN, ATO, APP, REFUND, COLLUSION, FIRST_PARTY = range(len(FRAUD_TYPES))
VICTIM, FRAUDSTER, MULE = range(len(LABEL_ROLES))
DAY_US = 86_400_000_000
# Roles a campaign type gives its targets.
_TARGET_ROLE = np.array([VICTIM, VICTIM, VICTIM, VICTIM, FRAUDSTER, FRAUDSTER, FRAUDSTER])


@dataclass
class Pools:
    """What campaigns pick from, as indices into the world's arrays (engine_assets/behaviour/seg_6b/campaigns.py)."""

    card_parties: np.ndarray  # card-active retail parties
    first_card: np.ndarray  # per party: its first card, -1 without
    sites: np.ndarray  # sites with regulars: where cards are compromised
    regular_offsets: np.ndarray  # per site, over regular_party
    regular_party: np.ndarray
    mules: np.ndarray  # parties 6A made mules
    fraudsters: np.ndarray  # parties 6A gave a fraud role (synthetic identities, ring members)
    ring_parties: np.ndarray  # ring organisers and associates holding cards
    colluders: np.ndarray  # merchants 6A made collusive (else risky), with sites or edges
    party_country: np.ndarray
    merchant_country: np.ndarray  # per merchant: its home country
    country_offsets: np.ndarray  # per country, over country_party
    country_party: np.ndarray  # card-active parties by country


@dataclass
class Plan:
    """Campaign columns (one row each) and target columns (one row each, `campaign` its campaign's row)."""

    campaign_id: np.ndarray
    fraud_type: np.ndarray
    start_day: np.ndarray  # days since 1970: the campaign's first day (compromise, burst, scam)
    days: np.ndarray  # length of the drawn window in days
    site: np.ndarray  # compromised site (stolen cards), -1
    merchant: np.ndarray  # colluding merchant, -1
    mule: np.ndarray  # receiving mule (APP scams, takeovers), -1
    second_mule: np.ndarray  # the mule it forwards to, -1
    scam_kind: np.ndarray  # SCAM_KINDS code, -1
    adapted_from: np.ndarray  # µs since 1970 from which the campaign has adapted, -1 never
    anchor_u: np.ndarray  # a uniform of the campaign's own: where its card tests run, when its burst starts
    campaign: np.ndarray  # per target
    serial: np.ndarray
    role: np.ndarray
    party: np.ndarray
    instrument: np.ndarray  # the target card, -1 for a party target


def _counts(key: int, policy: FraudPolicy, scenario: int, n_parties: int, days: int, lead: np.ndarray) -> np.ndarray:
    months = (days + lead) / 30.0
    mean = np.array([c.per_million_month for c in policy.campaigns]) * n_parties / 1e6 * months
    types = np.arange(len(FRAUD_TYPES), dtype=np.uint64)
    keys = unit_keys(key, np.stack([np.full(types.size, scenario, np.uint64), types], axis=1))
    return sample_negative_binomial(keys, mean, policy.dispersion)


def _lead_days(policy: FraudPolicy) -> np.ndarray:
    """Days before the horizon a campaign of each type may start and still act inside it."""
    lead = np.array([c.window_days.hi for c in policy.campaigns], np.int64)
    lead[STOLEN] += policy.stolen_cards.lead_days.hi + policy.stolen_cards.days.hi
    lead[CARD_TESTING] += int(np.ceil(policy.card_testing.charge_hours.cap / 24))
    lead[APP] += int(np.ceil(policy.app_scam.forward_hours.cap / 24))
    return lead


def draw_plan(keys, policy: FraudPolicy, scenario: int, first_day: int, n_days: int, n_parties: int,
              pools: Pools) -> Plan:
    """The scenario's campaigns and targets; `keys(label)` gives a substream label's key."""
    lead = _lead_days(policy)
    counts = _counts(keys(substreams.FRAUD_PLAN), policy, scenario, n_parties, n_days, lead)
    ftype = np.repeat(np.arange(len(FRAUD_TYPES)), counts)
    serial = np.concatenate([np.arange(1, c + 1) for c in counts]) if counts.sum() else np.zeros(0, np.int64)
    cid = campaign_ids(scenario, ftype, serial)
    u = uniforms(keys(substreams.FRAUD_PLAN), cid, 0, 8)
    lo_win = np.array([c.window_days.lo for c in policy.campaigns])[ftype]
    hi_win = np.array([c.window_days.hi for c in policy.campaigns])[ftype]
    start = first_day - lead[ftype] + np.floor(u[:, 0] * (n_days + lead[ftype])).astype(np.int64)
    days = between(u[:, 1], lo_win, hi_win)
    n = ftype.size
    site, merchant, mule, second, kind = (np.full(n, -1, np.int64) for _ in range(5))
    stolen, app, ato, coll = ftype == STOLEN, ftype == APP, ftype == ATO, ftype == COLLUSION
    site[stolen] = pick(u[stolen, 3], pools.sites)
    merchant[coll] = pick(u[coll, 3], pools.colluders)
    takes = app | ato
    mule[takes] = pick(u[takes, 4], pools.mules)
    second[app] = pick(u[app, 5], pools.mules)
    shares = np.cumsum([k.share for k in policy.app_scam.kinds])
    kind[app] = np.minimum(np.searchsorted(shares, u[app, 6], side="right"), len(SCAM_KINDS) - 1)
    # Stolen-card rings adapt some days after they start using the cards (a typical lead after the
    # compromise), or from the start once the bank has had `learned_after_days` of the horizon to
    # learn their first pattern.
    adapt = policy.adaptation
    adapted = np.full(n, -1, np.int64)
    after = log_normal(u[stolen, 7], adapt.after_days.median, adapt.after_days.sigma, adapt.after_days.cap)
    lead_days = policy.stolen_cards.lead_days
    using = start[stolen] + (lead_days.lo + lead_days.hi) / 2
    adapted[stolen] = np.where(start[stolen] >= first_day + adapt.learned_after_days, start[stolen] * DAY_US,
                               ((using + after) * DAY_US).astype(np.int64))
    targets = _targets(keys(substreams.FRAUD_TARGET), policy, cid, ftype, u, site, mule, merchant, pools)
    return Plan(cid, ftype.astype(np.int8), start, days, site, merchant, mule, second, kind.astype(np.int8), adapted,
                u[:, 3].copy(), *targets)


def _targets(key: int, policy: FraudPolicy, cid, ftype, u, site, mule, merchant, pools: Pools):
    """Targets of every campaign: cards or parties, in the campaign's serial order."""
    size = np.array([log_uniform_int(x, c.targets.lo, c.targets.hi)
                     for x, c in zip(u[:, 2], (policy.campaigns[t] for t in ftype))], np.int64)
    size = size.reshape(-1) if size.size else np.zeros(0, np.int64)
    # A compromised site exposes only the cards of its regulars.
    stolen = ftype == STOLEN
    regulars = np.diff(pools.regular_offsets)[np.maximum(site, 0)] if site.size else np.zeros(0, np.int64)
    size[stolen] = np.minimum(size[stolen], regulars[stolen])
    row = np.repeat(np.arange(cid.size), size)
    serial = np.concatenate([np.arange(s) for s in size]) if size.sum() else np.zeros(0, np.int64)
    t = ftype[row]
    v = uniforms(key, cid[row], serial, 2)
    party = np.full(row.size, -1, np.int64)
    # Stolen cards: a distinct regular of the site per target (a keyed rotation of its list).
    s = t == STOLEN
    lo = pools.regular_offsets[site[row[s]]]
    count = np.diff(pools.regular_offsets)[site[row[s]]]
    shift = (u[row[s], 4] * count).astype(np.int64)  # the campaign's own rotation
    party[s] = pools.regular_party[lo + (serial[s] + shift) % np.maximum(count, 1)]
    victims = np.isin(t, [CARD_TESTING, ATO, APP, REFUND, FIRST_PARTY])
    party[victims] = pick(v[victims, 0], pools.card_parties)
    ring = t == COLLUSION
    party[ring] = pick(v[ring, 0], pools.ring_parties if pools.ring_parties.size else pools.card_parties)
    # Scammers and account takers work one country, their victims living where their mule banks; a
    # bust-out's cards are the colluding merchant's countrymen's (ring members there first).
    local = np.flatnonzero((np.isin(t, [ATO, APP]) & (mule[row] >= 0)) | ring)
    country = np.where(t[local] == COLLUSION, pools.merchant_country[np.maximum(merchant[row[local]], 0)],
                       pools.party_country[np.maximum(mule[row[local]], 0)])
    moved = (country >= 0) & ~((t[local] == COLLUSION) & (pools.party_country[party[local]] == country))
    local, country = local[moved], country[moved]
    lo, n = pools.country_offsets[country], np.diff(pools.country_offsets)[country]
    at = lo + np.minimum((v[local, 0] * n).astype(np.int64), np.maximum(n - 1, 0))
    party[local] = np.where(n > 0, pools.country_party[np.minimum(at, max(pools.country_party.size - 1, 0))],
                            party[local])
    # Refund abusers and first-party fraudsters are 6A's fraud-role parties when it has any.
    own = np.isin(t, [REFUND, FIRST_PARTY])
    if pools.fraudsters.size:
        party[own] = pick(v[own, 0], pools.fraudsters)
    instrument = np.where(party >= 0, pools.first_card[np.maximum(party, 0)], -1)
    keep = party >= 0
    return row[keep], serial[keep], _TARGET_ROLE[t[keep]].astype(np.int8), party[keep], instrument[keep]
