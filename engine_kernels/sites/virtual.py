"""Segment 3B: virtual merchants, their settlement city and their CDN edges.

classification  card-not-present merchants of a virtual sector are VIRTUAL_ONLY, those of a
                hybrid sector HYBRID (part of their traffic online), everyone else NON_VIRTUAL.
settlement      a city of the home country by population-rank band (the capital-like top city
                most often), whose zone is the merchant's settlement clock.
edges           E edges by a keyed profile (regional compact, hybrid footprint, offshore hub),
                each in a country drawn from (1 − c)·cdn + c·locality, where cdn ∝ population ×
                internet adoption(GDP per head) and locality ∝ exp(−d(settlement, country) / D).
Every draw is keyed on (label, merchant id) and the edge index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine_kernels.geography.geodesy import haversine_km
from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import unit_keys, unit_uniforms
from engine_kernels.vocabulary import CARD_NOT_PRESENT

__all__ = ["PROFILES", "VirtualPolicy", "classify", "draw_edges", "internet_adoption", "settle"]

PROFILES = ("regional_compact", "hybrid_footprint", "offshore_hub")
_SETTLE, _PROFILE, _EDGE = substreams.SETTLEMENT, substreams.EDGE_PROFILE, substreams.EDGE_COUNTRY


@dataclass(frozen=True)
class VirtualPolicy:
    virtual_sectors: frozenset[str]
    hybrid_sectors: frozenset[str]
    hybrid_virtual_share: float
    rank_bands: tuple[int, ...]  # band b holds city ranks up to rank_bands[b] (1-based)
    rank_band_probability: tuple[float, ...]
    profile_probability: tuple[float, ...]
    edges_range: tuple[tuple[int, int], ...]
    locality: tuple[float, ...]
    locality_km: float
    adoption_slope: float
    adoption_midpoint_usd: float


def classify(sector: np.ndarray, channel: np.ndarray, policy: VirtualPolicy) -> np.ndarray:
    """int8 index into VIRTUAL_CLASSES (engine_kernels.vocabulary) per merchant, from its sector and channel."""
    online = np.asarray(channel) == CARD_NOT_PRESENT
    sector = np.asarray(sector, dtype=object)
    virtual = online & np.isin(sector, sorted(policy.virtual_sectors))
    hybrid = online & ~virtual & np.isin(sector, sorted(policy.hybrid_sectors))
    return np.where(virtual, 1, np.where(hybrid, 2, 0)).astype(np.int8)


def settle(merchant_id: np.ndarray, first: np.ndarray, count: np.ndarray, policy: VirtualPolicy,
           keys: Callable[[str], int]) -> np.ndarray:
    """Index of each merchant's settlement city: its home's cities sit at first..first + count − 1,
    ranked by population (largest first); a rank band is drawn by the policy's probabilities,
    then a rank uniformly inside the band (the last city if the home has fewer)."""
    u = unit_uniforms(unit_keys(keys(_SETTLE), np.asarray(merchant_id, np.uint64).reshape(-1, 1)), 2)
    band = np.minimum(np.searchsorted(np.cumsum(policy.rank_band_probability), u[:, 0], side="right"),
                      len(policy.rank_bands) - 1)
    tops = np.asarray(policy.rank_bands)
    hi = np.minimum(tops[band], count)
    lo = np.minimum(np.concatenate(([0], tops[:-1]))[band], hi - 1)
    return first + lo + np.minimum((u[:, 1] * (hi - lo)).astype(np.int64), hi - lo - 1)


def internet_adoption(gdp_per_capita: np.ndarray, policy: VirtualPolicy) -> np.ndarray:
    """Share of people online: logistic in log GDP per head (a prior, not a measurement)."""
    return 1.0 / (1.0 + np.exp(-policy.adoption_slope * (np.log(gdp_per_capita) - np.log(policy.adoption_midpoint_usd))))


@dataclass(frozen=True)
class Edges:
    """Edges of every merchant: merchant i owns offsets[i]:offsets[i+1]; country indexes the countries given."""

    profile: np.ndarray
    offsets: np.ndarray
    country: np.ndarray
    weight: np.ndarray  # the edge's share of its merchant's virtual traffic
    mix: np.ndarray  # [merchants, countries] country mix of each merchant
    draws: dict[str, int]


def draw_edges(merchant_id: np.ndarray, settle_lat: np.ndarray, settle_lon: np.ndarray, country_lat: np.ndarray,
               country_lon: np.ndarray, population: np.ndarray, gdp_per_capita: np.ndarray, policy: VirtualPolicy,
               keys: Callable[[str], int]) -> Edges:
    """Profile, edge count and edge countries of each virtual or hybrid merchant."""
    ids = np.asarray(merchant_id, np.uint64)
    u = unit_uniforms(unit_keys(keys(_PROFILE), ids.reshape(-1, 1)), 2)
    profile = np.minimum(np.searchsorted(np.cumsum(policy.profile_probability), u[:, 0], side="right"), 2)
    lo, hi = np.asarray(policy.edges_range)[profile].T
    count = lo + np.minimum((u[:, 1] * (hi - lo + 1)).astype(np.int64), hi - lo)
    cdn = population * internet_adoption(gdp_per_capita, policy)
    cdn = cdn / cdn.sum()
    d = haversine_km(settle_lat[:, None], settle_lon[:, None], country_lat[None, :], country_lon[None, :])
    near = population[None, :] * np.exp(-d / policy.locality_km)
    near = near / near.sum(axis=1, keepdims=True)
    c = np.asarray(policy.locality)[profile][:, None]
    mix = (1 - c) * cdn[None, :] + c * near
    offsets = np.concatenate(([0], np.cumsum(count))).astype(np.int64)
    owner = np.repeat(np.arange(ids.size), count)
    index = np.arange(offsets[-1]) - offsets[owner]
    u_edge = unit_uniforms(unit_keys(keys(_EDGE), np.column_stack([ids[owner], index.astype(np.uint64)])), 1)[:, 0]
    cdf = np.cumsum(mix, axis=1)
    country = np.array([min(np.searchsorted(cdf[o] / cdf[o, -1], x, side="right"), mix.shape[1] - 1)
                        for o, x in zip(owner, u_edge)], np.int64)
    # An edge carries its country's share of the mix, split among the merchant's edges there.
    same = np.zeros(offsets[-1])
    for i in range(ids.size):
        a, b = offsets[i], offsets[i + 1]
        values, inverse, counts = np.unique(country[a:b], return_inverse=True, return_counts=True)
        share = mix[i, values] / mix[i, values].sum()
        same[a:b] = (share / counts)[inverse]
    return Edges(profile, offsets, country, same, mix, {_PROFILE: int(u.size), _EDGE: int(u_edge.size)})
