"""Segment 3A plan: how a merchant's sites in one country split across the country's time zones.

Priors: a zone's share of the country's population (from the zone grid); zones under `floor`
are dropped and the rest renormalised, so a sliver of a neighbour's zone along a border never
gets a site. A (merchant, country) pair with n sites is *escalated* with probability p(n) from
the policy ladder when the country keeps two or more zones; its shares are
Dirichlet(concentration · prior), integerised by largest remainder (Σ = n exactly). Every other
pair puts all its sites in one zone drawn by prior share: a local chain stays local.

Draws are keyed on (label, merchant id, country), so a country's plan never depends on which
other merchants or countries are planned alongside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.randomness.sampling import sample_dirichlet
from engine_kernels.randomness.streams import text_id, unit_keys, unit_uniforms
from engine_kernels.tables.integerise import largest_remainder_groups

__all__ = ["ZonePlan", "ZonePlanPolicy", "ZonePriors", "plan_zones", "zone_priors"]

_ESCALATE, _PICK, _SHARES = substreams.ZONE_ESCALATE, substreams.ZONE_PICK, substreams.ZONE_SHARES


@dataclass(frozen=True)
class ZonePriors:
    """Zones of one country (sorted) and their prior shares (positive, summing to 1)."""

    country: str
    tzids: tuple[str, ...]
    share: np.ndarray


@dataclass(frozen=True)
class ZonePlanPolicy:
    """Escalation ladder: p(n) = probability[i] for the last i with n >= min_sites[i] (0 below the first)."""

    min_sites: tuple[int, ...]
    probability: tuple[float, ...]
    concentration: float
    floor: float

    def escalation_probability(self, n: np.ndarray) -> np.ndarray:
        step = np.searchsorted(np.asarray(self.min_sites), n, side="right") - 1
        return np.where(step >= 0, np.asarray(self.probability)[np.maximum(step, 0)], 0.0)


@dataclass(frozen=True)
class ZonePlan:
    """Planned sites per (merchant, zone) of one country, rows sorted by (merchant_id, tzid), none zero."""

    merchant_id: np.ndarray
    zone: np.ndarray  # index into priors.tzids
    n_sites: np.ndarray
    escalated: np.ndarray
    draws: dict[str, int]


def zone_priors(country: str, tzids: list[str], population: np.ndarray, floor: float,
                override: str | None = None) -> ZonePriors:
    """Population shares of the country's zones; zones below `floor` dropped, the rest renormalised.

    An override (a country on one legal clock) makes its zone the only one.
    """
    if override is not None:
        return ZonePriors(country, (override,), np.ones(1))
    population = np.asarray(population, np.float64)
    total = population.sum()
    if not len(tzids) or total <= 0:
        raise ValueError(f"country {country} has no populated zone in the zone grid; it cannot host sites")
    share = population / total
    keep = share >= floor
    if not keep.any():
        keep = share == share.max()
    order = np.argsort(np.asarray(tzids, dtype=object)[keep].astype(str), kind="stable")
    kept = share[keep][order]
    return ZonePriors(country, tuple(np.asarray(tzids, dtype=object)[keep][order]), kept / kept.sum())


def plan_zones(
    merchant_id: np.ndarray, n_sites: np.ndarray, priors: ZonePriors, policy: ZonePlanPolicy,
    keys: Callable[[str], int],
) -> ZonePlan:
    """The zone plan of every (merchant, country) pair of one country (merchant ids unique)."""
    ids = np.asarray(merchant_id, np.uint64)
    n = np.asarray(n_sites, np.int64)
    if ids.shape != n.shape or (n < 1).any():
        raise ValueError("plan_zones: one n_sites >= 1 per merchant id")
    order = np.argsort(ids, kind="stable")
    ids, n = ids[order], n[order]
    unit = np.column_stack([ids, np.full(ids.shape[0], text_id(priors.country), np.uint64)])
    zones = len(priors.tzids)

    u_escalate = unit_uniforms(unit_keys(keys(_ESCALATE), unit), 1)[:, 0]
    escalated = (zones >= 2) & (u_escalate < policy.escalation_probability(n))
    u_pick = unit_uniforms(unit_keys(keys(_PICK), unit), 1)[:, 0]
    cdf = np.cumsum(priors.share)
    single = np.minimum(np.searchsorted(cdf / cdf[-1], u_pick, side="right"), zones - 1)

    counts = np.zeros((ids.shape[0], zones), np.int64)
    counts[np.arange(ids.shape[0]), single] = n
    spread = np.flatnonzero(escalated)
    words = np.zeros(spread.shape[0], np.int64)
    if spread.size:
        alpha = np.tile(policy.concentration * priors.share, spread.shape[0])
        offsets = np.arange(spread.shape[0] + 1, dtype=np.int64) * zones
        shares = sample_dirichlet(unit_keys(keys(_SHARES), unit[spread]), alpha, offsets, words_out=words)
        counts[spread] = largest_remainder_groups(shares, offsets, n[spread]).reshape(-1, zones)

    rows, zone = np.nonzero(counts)
    return ZonePlan(
        merchant_id=ids[rows], zone=zone, n_sites=counts[rows, zone], escalated=escalated[rows],
        draws={_ESCALATE: int(ids.shape[0]), _PICK: int(ids.shape[0]), _SHARES: int(words.sum())},
    )
