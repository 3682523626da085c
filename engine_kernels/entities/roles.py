"""Risk and fraud roles, from features rather than uniform hashes.

score  = segment effect + tenure effect · ln(1 + tenure in years) + credit-card effect
         + VPN effect + a standard normal per party;
tiers  cut a country's scores at the policy's shares (exact counts by largest remainder);
roles  synthetic identities among retail parties and mule accounts among current accounts are
       drawn with probability ∝ exp(slope · score), scaled to the policy's share; fraud rings take
       an organiser and associates from the high tier, each with farm devices;
risky  items of a risky owner (elevated or high tier) are risky with probability p1, others'
       with p0, so the odds ratio p1/(1−p1) ÷ p0/(1−p0) is the policy's;
merchants are risky with the share of their MCC's class, and a few are collusive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.entities.draws import Draws
from engine_kernels.entities.policy import FraudPolicy
from engine_kernels.randomness import substreams
from engine_kernels.tables.integerise import largest_remainder

__all__ = ["Rings", "draw_rings", "merchant_roles", "propagate", "risk_scores", "risk_tiers", "weighted_pick"]


def risk_scores(segment: np.ndarray, tenure_months: np.ndarray, has_credit_card: np.ndarray, uses_vpn: np.ndarray,
                party_id: np.ndarray, policy: FraudPolicy, draws: Draws) -> np.ndarray:
    return (policy.segment_effect[segment] + policy.tenure_per_log_year * np.log1p(tenure_months / 12.0)
            + policy.has_credit_card * has_credit_card + policy.uses_vpn * uses_vpn
            + draws.normal(substreams.RISK, party_id))


def risk_tiers(score: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """int8 tier per party: the lowest scores take the first tier, in exact shares."""
    if score.shape[0] == 0:
        return np.zeros(0, np.int8)
    counts = largest_remainder(shares, score.shape[0])
    tier = np.empty(score.shape[0], np.int8)
    tier[np.argsort(score, kind="stable")] = np.repeat(np.arange(shares.shape[0], dtype=np.int8), counts)
    return tier


def weighted_pick(expected: float, score: np.ndarray, slope: float, u: np.ndarray) -> np.ndarray:
    """Who among the candidates takes a role: P ∝ exp(slope · score), summing to `expected` (capped at 1)."""
    if score.shape[0] == 0 or expected <= 0:
        return np.zeros(score.shape[0], bool)
    w = np.exp(slope * (score - score.max()))
    return u < np.minimum(1.0, expected * w / w.sum())


def propagate(owner_risky: np.ndarray, ids: np.ndarray, policy: FraudPolicy, draws: Draws, field: int) -> np.ndarray:
    """Risky items: P = p1 for items of risky owners, p0 = base share for the others'."""
    u = draws.uniform(substreams.ROLE, ids, field=field)
    return u < np.where(owner_risky, policy.risky_share, policy.base_share)


@dataclass(frozen=True)
class Rings:
    member: np.ndarray  # party position of each member
    ring: np.ndarray  # ring position of each member
    organiser: np.ndarray  # bool: the first member of each ring
    farm_devices: np.ndarray  # farm devices per member
    n_rings: int
    ips_per_ring: np.ndarray
    ip_hosted_type: np.ndarray  # per ring: 0 datacentre, 1 VPN or proxy


def draw_rings(candidates: np.ndarray, candidate_ids: np.ndarray, n_retail: int, ring_ids, country_index: int,
               policy: FraudPolicy, draws: Draws) -> Rings:
    """Rings of a country: their expected number is rings_per_million · n_retail / 1e6, its fraction
    decided by the country's own draw; members come from `candidates` in their keyed order."""
    expected = policy.rings_per_million * n_retail / 1e6
    u_country = draws.uniform(substreams.RING, np.array([country_index], np.uint64), field=9)[0]
    n_rings = int(np.floor(expected)) + int(u_country < expected - np.floor(expected))
    keyed = np.argsort(draws.uniform(substreams.RING, candidate_ids), kind="stable")
    order, order_ids = candidates[keyed], candidate_ids[keyed]
    ids = ring_ids(n_rings)
    u = draws.uniforms(substreams.RING, ids, 3, field=1)
    low, high = policy.ring_associates
    size = 1 + low + np.floor(u[:, 0] * (high - low + 1)).astype(np.int64)
    ends = np.cumsum(size)
    n_rings = int(np.searchsorted(ends, order.shape[0], side="right"))  # as many whole rings as candidates allow
    size, ends = size[:n_rings], ends[:n_rings]
    total = int(ends[-1]) if n_rings else 0
    member = order[:total]
    ring = np.repeat(np.arange(n_rings), size)
    organiser = np.zeros(total, bool)
    organiser[ends - size] = True
    f_low, f_high = policy.farm_devices
    u_member = draws.uniform(substreams.RING, order_ids[:total], field=2)
    farm = f_low + np.floor(u_member * (f_high - f_low + 1)).astype(np.int64)
    i_low, i_high = policy.ring_ips
    ips = i_low + np.floor(u[:n_rings, 1] * (i_high - i_low + 1)).astype(np.int64)
    return Rings(member, ring, organiser, farm, n_rings, ips, (u[:n_rings, 2] >= 0.5).astype(np.int8))


def merchant_roles(merchant_ids: np.ndarray, mcc: np.ndarray, policy: FraudPolicy,
                   draws: Draws) -> tuple[np.ndarray, np.ndarray]:
    """(risky, collusive) per merchant."""
    u = draws.uniforms(substreams.ROLE, merchant_ids, 2, field=9)
    risky_mcc = np.isin(mcc, np.fromiter(policy.risky_mccs, np.int64))
    risky = u[:, 0] < np.where(risky_mcc, policy.risky_mcc_share, policy.risky_other_share)
    return risky, u[:, 1] < policy.collusive_share
