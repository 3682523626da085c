"""Step 4 of 1A: candidate countries, ranked by gravity from the merchant's home.

weight(h, c) = GDP_c^a / max(d(h, c), d_floor)^b × (1 + bonus_cur·[cur_h = cur_c] + bonus_reg·[reg_h = reg_c])
with GDP in USD, d the great-circle distance in km between representative points (haversine,
engine_kernels/geography/geodesy.py) and d_floor keeping neighbours from dominating through a
near-zero distance. The home is rank 0 and carries its own weight (at
distance d_floor); foreign countries follow by falling weight, equal weights by ISO code. Every
foreign country outside the sanctioned list is a candidate with a positive weight, so the
support never collapses into the home's currency area. A sanctioned country neither sends nor
receives foreign outlets.

A multi-site merchant with N outlets keeps the first min(cap, floor(base + per_log·ln N)) foreign
candidates; a single-site merchant, which cannot own a foreign outlet, keeps only its home.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.geography.geodesy import pairwise_haversine_km

from .inputs import Countries
from .policy import CandidatePolicy

__all__ = ["Candidates", "Gravity", "candidate_counts", "candidate_countries", "gravity"]



@dataclass(frozen=True)
class Gravity:
    """Country-by-country gravity: weight[h, c], and ranked[h, :n_ranked[h]] the foreign
    candidates of home h by falling weight (indices into the ISO-ordered countries)."""

    weight: np.ndarray
    ranked: np.ndarray
    n_ranked: np.ndarray


@dataclass(frozen=True)
class Candidates:
    """Ragged candidate lists: merchant i owns rows offsets[i]:offsets[i+1], home first (rank 0)."""

    offsets: np.ndarray
    country: np.ndarray
    rank: np.ndarray
    weight: np.ndarray


def _same(labels: np.ndarray) -> np.ndarray:
    """bool[C, C]: both labels present and equal."""
    present = np.array([x is not None for x in labels])
    codes = np.unique(labels[present].astype(str), return_inverse=True)[1] if present.any() else np.empty(0, int)
    full = np.full(labels.shape[0], -1)
    full[present] = codes
    return (full[:, None] == full[None, :]) & present[:, None] & present[None, :]


def gravity(countries: Countries, policy: CandidatePolicy) -> Gravity:
    """Gravity weights and per-home rankings over ISO-ordered countries."""
    distance = np.maximum(pairwise_haversine_km(countries.lat, countries.lon), policy.distance_floor_km)
    np.fill_diagonal(distance, policy.distance_floor_km)
    bonus = (
        1.0
        + policy.same_currency_bonus * _same(countries.currency)
        + policy.same_region_bonus * _same(countries.region)
    )
    weight = countries.gdp_usd[None, :] ** policy.gdp_exponent / distance**policy.distance_exponent * bonus

    c = countries.size
    sanctioned = np.isin(countries.iso.astype(str), sorted(policy.sanctioned))
    eligible = ~sanctioned[None, :] & ~np.eye(c, dtype=bool) & ~sanctioned[:, None]
    # Ineligible pairs sort last; within eligible ones the stable sort of -weight keeps ISO order on ties.
    order = np.argsort(np.where(eligible, -weight, np.inf), axis=1, kind="stable")
    return Gravity(weight=weight, ranked=order, n_ranked=eligible.sum(axis=1))


def candidate_counts(n_total: np.ndarray, home: np.ndarray, grav: Gravity, policy: CandidatePolicy) -> np.ndarray:
    """Foreign candidates per merchant: min(cap, floor(base + per_log·ln N), available); 0 if N = 1."""
    wanted = np.floor(policy.count_base + policy.count_per_log_outlets * np.log(n_total)).astype(np.int64)
    count = np.minimum(np.minimum(wanted, policy.count_cap), grav.n_ranked[home])
    return np.where(n_total >= 2, np.maximum(count, 0), 0)


def candidate_countries(n_total: np.ndarray, home: np.ndarray, grav: Gravity, policy: CandidatePolicy) -> Candidates:
    """Home plus the merchant's leading foreign candidates, rank 0..count."""
    count = candidate_counts(n_total, home, grav, policy)
    sizes = count + 1
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    owner = np.repeat(np.arange(home.shape[0]), sizes)
    rank = np.arange(offsets[-1]) - offsets[owner]
    owner_home = home[owner]
    # Rank r >= 1 is the (r-1)-th foreign country of the home's ranking; rank 0 is the home.
    country = np.where(rank == 0, owner_home, grav.ranked[owner_home, np.maximum(rank - 1, 0)])
    return Candidates(
        offsets=offsets, country=country, rank=rank, weight=grav.weight[owner_home, country]
    )
