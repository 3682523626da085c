"""Segment 5A demand: each merchant's class, and the weekly volume of each of its (country, zone) rows.

A row's weekly volume (expected arrivals per local week, before calendar overlays) is

    V = m_group · x_merchant · n_sites · role(zone) · channel

with x_merchant a Pareto draw of the class (median, tail index α, clipped), one per merchant;
role the zone's standing among the merchant's zones; and m_group one multiplier for the merchants
that sell online (virtual or hybrid) and one for those that sell in shops only. Together they make
the profile's expected arrivals over the horizon come out exactly, and the policy's share of them
routed online (see `calibrate`): the Pareto tails rank merchants inside their group and never move
that share, which a few heavy online merchants would otherwise do from one seed to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import unit_keys, unit_uniforms
from engine_kernels.vocabulary import CARD_PRESENT, DEMAND_CLASSES

__all__ = ["ROLES", "DemandPolicy", "calibrate", "classify_demand", "expected_over_horizon", "per_site_volume",
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
    channel_multiplier: np.ndarray  # by CHANNELS (engine_kernels.vocabulary)
    virtual_share: float  # expected share of arrivals routed to CDN edges (virtual arrivals)


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


def raw_weekly_volume(per_site: np.ndarray, n_sites: np.ndarray, role: np.ndarray, channel: np.ndarray,
                      policy: DemandPolicy) -> np.ndarray:
    """V before calibration (m = 1) per row: x_merchant · n_sites · role(zone) · channel, with `role`
    the row's index into ROLES and `channel` its channel name."""
    channel_index = np.where(np.asarray(channel) == CARD_PRESENT, 0, 1)
    return per_site * n_sites * policy.role_multiplier[role] * policy.channel_multiplier[channel_index]


def expected_over_horizon(raw_volume: np.ndarray, day_mass: np.ndarray, weekday_days: np.ndarray) -> np.ndarray:
    """Expected arrivals of each row over the horizon: V · Σ_w n_w · mass_row(w), with day_mass[rows, 7]
    each row's share of its week on weekday w (its shape's day sums) and weekday_days[7] how many days
    of the horizon fall on weekday w."""
    return raw_volume * (day_mass @ np.asarray(weekday_days, float))


def calibrate(raw_volume: np.ndarray, day_mass: np.ndarray, weekday_days: np.ndarray, target: float,
              virtual_share: np.ndarray, virtual_target: float) -> np.ndarray:
    """The multiplier of every row, so that the rows expect `target` arrivals over the horizon, of
    which a share `virtual_target` is virtual.

    `virtual_share[row]` is the share of the row merchant's arrivals routed to edges (0 shops only,
    1 virtual only, between for hybrids). Rows of merchants with a share > 0 (online) get one
    multiplier, the others another. A world without one of the two groups gets one multiplier for
    all: its virtual share is then what its merchants make it (0, or theirs alone).
    """
    expected = expected_over_horizon(raw_volume, day_mass, weekday_days)
    total = float(expected.sum())
    if not total > 0:
        raise ValueError("no expected demand to calibrate: every row has zero volume")
    online = np.asarray(virtual_share) > 0
    online_total, virtual = float(expected[online].sum()), float(np.sum(expected * virtual_share))
    if online_total == 0 or online_total == total:
        return np.full(expected.size, target / total)
    ceiling = virtual / online_total  # the virtual share if every arrival were an online merchant's
    if not 0 < virtual_target < ceiling:
        raise ValueError(f"virtual share {virtual_target} cannot be reached: the online merchants route "
                         f"{ceiling:.3f} of their arrivals to edges, so the share must lie in (0, {ceiling:.3f})")
    m_online = virtual_target * target / virtual
    m_shop = (target - m_online * online_total) / (total - online_total)
    return np.where(online, m_online, m_shop)
