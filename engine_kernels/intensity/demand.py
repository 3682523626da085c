"""Segment 5A demand: each merchant's class, and the weekly volume of each of its (country, zone) rows.

A row's weekly volume (expected arrivals per local week, before calendar overlays) is

    V = m_group · x_merchant · n_sites · role(zone)

with x_merchant a Pareto draw of the class (median, tail index α, clipped), one per merchant;
role the zone's standing among the merchant's zones; and m_group one multiplier per group of
merchants: those that sell online (virtual or hybrid), the other card-not-present ones, and the
card-present ones. The multipliers make the profile's expected arrivals over the horizon come out
exactly, with the policy's virtual and card-not-present shares of them (see `calibrate`): the
Pareto tails rank merchants inside their group and never move those shares, which a few heavy
online merchants would otherwise do from one seed to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import unit_keys, unit_uniforms
from engine_kernels.vocabulary import DEMAND_CLASSES

__all__ = ["ROLES", "DemandPolicy", "ShareTargets", "calibrate", "classify_demand", "expected_over_horizon", "per_site_volume",
           "raw_weekly_volume", "zone_roles"]

ROLES = ("primary", "secondary", "tail")
_VOLUME = substreams.VOLUME


@dataclass(frozen=True)
class DemandPolicy:
    shop_class: Mapping[tuple[str, str], str]  # (channel, sector) -> class of NON_VIRTUAL merchants
    online_class: Mapping[str, str]  # sector -> class of VIRTUAL_ONLY / HYBRID merchants
    online_default: str
    median: np.ndarray  # by DEMAND_CLASSES
    alpha: np.ndarray
    clip: np.ndarray
    secondary_min_share: float
    role_multiplier: np.ndarray  # by ROLES
    virtual_share: float  # expected share of arrivals routed to CDN edges (virtual arrivals)
    card_not_present_share: float  # expected share of arrivals at card-not-present merchants


def classify_demand(sector: np.ndarray, channel: np.ndarray, online: np.ndarray, policy: DemandPolicy) -> np.ndarray:
    """int8 index into DEMAND_CLASSES per merchant; `online` marks VIRTUAL_ONLY and HYBRID merchants."""
    out = np.empty(len(sector), np.int8)
    index = {c: i for i, c in enumerate(DEMAND_CLASSES)}
    for i, (s, ch, on) in enumerate(zip(sector, channel, online)):
        name = policy.online_class.get(s, policy.online_default) if on else policy.shop_class[(ch, s)]
        out[i] = index[name]
    return out


def per_site_volume(merchant_id: np.ndarray, demand_class: np.ndarray, policy: DemandPolicy,
                    keys: Callable[[str], int]) -> tuple[np.ndarray, dict[str, int]]:
    """Weekly arrivals per site of each merchant before calibration: Pareto(median, α) clipped.

    Pareto type I with scale x_min = median / 2^(1/α): x = x_min · u^(−1/α), u keyed on the merchant.
    """
    u = unit_uniforms(unit_keys(keys(_VOLUME), np.asarray(merchant_id, np.uint64)[:, None]), 1)[:, 0]
    alpha = policy.alpha[demand_class]
    x_min = policy.median[demand_class] / 2.0 ** (1.0 / alpha)
    return np.minimum(x_min * u ** (-1.0 / alpha), policy.clip[demand_class]), {_VOLUME: int(u.size)}


def zone_roles(merchant_id: np.ndarray, n_sites: np.ndarray, zone_key: np.ndarray,
               policy: DemandPolicy) -> np.ndarray:
    """int8 index into ROLES per row: the merchant's largest zone (ties: smallest key) is primary,
    zones with at least secondary_min_share of its sites secondary, the rest tail."""
    merchant_id, n_sites = np.asarray(merchant_id), np.asarray(n_sites, np.int64)
    order = np.lexsort((zone_key, -n_sites, merchant_id))
    m, n = merchant_id[order], n_sites[order]
    first = np.r_[True, m[1:] != m[:-1]]
    starts = np.flatnonzero(first)
    totals = np.add.reduceat(n, starts)[np.cumsum(first) - 1]
    role = np.where(first, 0, np.where(n >= policy.secondary_min_share * totals, 1, 2)).astype(np.int8)
    out = np.empty_like(role)
    out[order] = role
    return out


def raw_weekly_volume(per_site: np.ndarray, n_sites: np.ndarray, role: np.ndarray, policy: DemandPolicy) -> np.ndarray:
    """V before calibration (m = 1) per row: x_merchant · n_sites · role(zone), with `role` the row's
    index into ROLES."""
    return per_site * n_sites * policy.role_multiplier[role]


def expected_over_horizon(raw_volume: np.ndarray, day_mass: np.ndarray, weekday_days: np.ndarray) -> np.ndarray:
    """Expected arrivals of each row over the horizon: V · Σ_w n_w · mass_row(w), with day_mass[rows, 7]
    each row's share of its week on weekday w (its shape's day sums) and weekday_days[7] how many days
    of the horizon fall on weekday w."""
    return raw_volume * (day_mass @ np.asarray(weekday_days, float))


@dataclass(frozen=True)
class ShareTargets:
    """What the calibration makes come out exactly, in expectation over the horizon."""

    arrivals: float  # the profile's expected arrivals
    virtual: float  # share of them routed to CDN edges
    card_not_present: float  # share of them at card-not-present merchants (virtual ones included)


def calibrate(raw_volume: np.ndarray, day_mass: np.ndarray, weekday_days: np.ndarray, virtual_share: np.ndarray,
              card_not_present: np.ndarray, targets: ShareTargets) -> np.ndarray:
    """The multiplier of every row, one per group of merchants, so that the rows expect
    `targets.arrivals` arrivals over the horizon with the target virtual and card-not-present shares.

    `virtual_share[row]` is the share of the row merchant's arrivals routed to edges (0 shops only,
    1 virtual only, between for hybrids); `card_not_present[row]` its channel. The groups are the
    merchants that sell online (share > 0), the other card-not-present merchants, and the
    card-present ones. Each share is pinned only where a group can move it (the virtual share
    needs online merchants and others, the card-not-present share other card-not-present merchants
    and card-present ones), so a small world missing a group still gets its total, and its shares
    are then what its merchants make them.
    """
    expected = expected_over_horizon(raw_volume, day_mass, weekday_days)
    if not float(expected.sum()) > 0:
        raise ValueError("no expected demand to calibrate: every row has zero volume")
    share, cnp = np.asarray(virtual_share, float), np.asarray(card_not_present, bool)
    online = share > 0
    group = np.where(online, 0, np.where(cnp, 1, 2))
    present = [g for g in range(3) if (group == g).any()]
    by_group = np.array([expected[group == g].sum() for g in present])
    rows = [by_group]  # Σ_g m_g · E_g = arrivals
    right = [targets.arrivals]
    if 0 in present and len(present) > 1:  # Σ m_online · E · share = virtual · arrivals
        rows.append(np.array([float(np.sum(expected * share)) if g == 0 else 0.0 for g in present]))
        right.append(targets.virtual * targets.arrivals)
    if 1 in present and 2 in present:  # Σ over card-not-present rows = card_not_present · arrivals
        rows.append(np.array([float(expected[(group == g) & cnp].sum()) if g < 2 else 0.0 for g in present]))
        right.append(targets.card_not_present * targets.arrivals)
    multiplier = np.linalg.solve(np.array(rows), np.array(right))
    if not (multiplier > 0).all():
        online_cnp = float(expected[online & cnp].sum() / np.sum(expected * share)) if online.any() else 0.0
        raise ValueError(
            f"the shares cannot both be reached: virtual {targets.virtual} and card-not-present "
            f"{targets.card_not_present} of arrivals. Online merchants bring {online_cnp:.2f} card-not-present "
            f"arrivals per virtual one, so the card-not-present share must exceed {online_cnp * targets.virtual:.3f} "
            "and the virtual share must be below it")
    out = np.empty(expected.size)
    for g, m in zip(present, multiplier):
        out[group == g] = m
    return out
