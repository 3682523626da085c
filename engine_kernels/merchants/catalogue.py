"""Segment 1A end to end: merchants → outlet counts → candidates → membership, and the outlets.

Each merchant's draws are a function of (seed, policies, countries, MCCs, merchant id) only, so
building any partition of the ids and concatenating (then sorting) gives exactly the rows of a
single build. The published tables are assembled from these arrays in
engine_assets/world/seg_1a/tables.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .candidates import Candidates, candidate_countries, gravity
from .cross_border import Membership, foreign_membership
from .inputs import Countries, Mccs
from .outlets import OutletCounts, draw_outlet_counts
from .policy import Policy1A
from .streams import KeySource, merge_draws
from .universe import MerchantDraws, draw_merchants

__all__ = ["MerchantUniverse", "OutletRows", "build_universe", "expand_outlets"]


@dataclass(frozen=True)
class MerchantUniverse:
    """The 1A draws of a set of merchants and the run's RNG accounting.

    Every country index points into `countries`, ordered by ISO code. merchants and outlet_counts
    are aligned with merchants.merchant_id (ascending); candidates are ragged per merchant, home
    first; membership is sorted by (merchant, country). rng_draws maps each substream label to
    the 32-bit words consumed.
    """

    countries: Countries
    merchants: MerchantDraws
    outlet_counts: OutletCounts
    candidates: Candidates
    membership: Membership
    rng_draws: dict[str, int]


@dataclass(frozen=True)
class OutletRows:
    """One entry per outlet, ordered by membership row, then site order.

    membership_row and home_row index the membership rows (the outlet's own country and its
    merchant's home); merchant and n_country repeat the membership row's values; site_order runs
    1..n_country within each membership row; n_total is the merchant's N.
    """

    merchant: np.ndarray
    membership_row: np.ndarray
    site_order: np.ndarray
    home_row: np.ndarray
    n_country: np.ndarray
    n_total: np.ndarray


def _as_ids(ids) -> np.ndarray:
    arr = np.asarray(ids)
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(f"merchants: need at least one merchant id (a 1-D array), got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"merchants: ids must be integers, got dtype {arr.dtype}")
    if arr.min() < 1:
        raise ValueError(f"merchants: ids must be >= 1, got minimum {arr.min()}")
    arr = np.sort(arr.astype(np.uint64))
    if (np.diff(arr) == 0).any():
        raise ValueError("merchants: ids must be unique")
    return arr


def build_universe(
    merchant_ids: np.ndarray, countries: Countries, mccs: Mccs, policy: Policy1A, keys: KeySource
) -> MerchantUniverse:
    """Draw the 1A universe of the given merchant ids (any subset of 1..n, any order)."""
    ids = _as_ids(merchant_ids)
    world = countries.by_iso()
    merchants = draw_merchants(ids, world, mccs, policy, keys)
    counts = draw_outlet_counts(merchants, policy, keys)
    ranking = gravity(world, policy.candidates)
    candidates = candidate_countries(counts.n_total, merchants.home, ranking, policy.candidates)
    membership = foreign_membership(merchants, counts, candidates, policy.cross_border, policy.home_share, keys)
    return MerchantUniverse(
        countries=world,
        merchants=merchants,
        outlet_counts=counts,
        candidates=candidates,
        membership=membership,
        rng_draws=merge_draws(merchants.draws, counts.draws, membership.draws),
    )


def expand_outlets(merchant: np.ndarray, n_country: np.ndarray, is_home: np.ndarray) -> OutletRows:
    """One entry per outlet from the membership rows: each (merchant, country) row repeated
    n_country times with site_order 1..n_country, carrying the merchant's home row and N.

    merchant is any ascending key of the rows' merchants (ids or indices). Membership sorted by
    (merchant, country) gives outlets sorted by (merchant, country, site_order) without a sort.
    """
    merchant = np.asarray(merchant)
    n_country = np.asarray(n_country).astype(np.int64)
    is_home = np.asarray(is_home).astype(bool)
    if merchant.size == 0:
        raise ValueError("the membership is empty: a universe has at least one merchant")
    first = np.concatenate(([True], merchant[1:] != merchant[:-1]))
    if (np.diff(merchant.astype(np.int64)) < 0).any() or (n_country < 1).any():
        raise ValueError("the membership must be sorted by merchant with n_country >= 1 on every row")
    group = np.cumsum(first) - 1
    homes = np.flatnonzero(is_home)
    if homes.size != group[-1] + 1 or (group[homes] != np.arange(homes.size)).any():
        raise ValueError("the membership must hold exactly one home row per merchant")
    n_total = np.add.reduceat(n_country, np.flatnonzero(first))

    row = np.repeat(np.arange(merchant.size), n_country)
    row_start = np.concatenate(([0], np.cumsum(n_country)[:-1]))
    owner = group[row]
    return OutletRows(
        merchant=merchant[row],
        membership_row=row,
        site_order=np.arange(row.size) - row_start[row] + 1,
        home_row=homes[owner],
        n_country=n_country[row],
        n_total=n_total[owner],
    )
