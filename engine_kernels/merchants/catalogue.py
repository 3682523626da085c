"""Segment 1A end to end: merchants → outlet counts → candidates → membership → outlet catalogue.

Each output row of a merchant is a function of (seed, policies, countries, MCCs, merchant id)
only, so building any partition of the ids and concatenating (then sorting) gives exactly the rows
of a single build.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from engine_kernels.vocabulary import CHANNELS, SECTORS

from .candidates import candidate_countries, gravity
from .cross_border import foreign_membership
from .inputs import Countries, Mccs
from .outlets import draw_outlet_counts
from .policy import Policy1A
from .streams import KeySource, merge_draws
from .universe import draw_merchants

__all__ = ["MerchantUniverse", "build_universe", "outlet_catalogue"]


@dataclass(frozen=True)
class MerchantUniverse:
    """The 1A tables (each sorted by its contract's sort keys) and the run's RNG accounting.

    rng_draws maps each substream label to the 32-bit words consumed; truncation_fallbacks counts
    multi-site merchants that kept N = 2 after the last NB attempt.
    """

    merchants: pa.Table
    outlet_counts: pa.Table
    candidate_countries: pa.Table
    foreign_membership: pa.Table
    outlet_catalogue: pa.Table
    rng_draws: dict[str, int]
    truncation_fallbacks: int


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


def _text(values: np.ndarray, index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string column, built by one take rather than per-row objects."""
    return pa.array(list(values), pa.string()).take(pa.array(index, pa.int64()))


def _nullable(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    # Zeros under the nulls: the bytes of a column then never depend on what filled the gaps.
    return pa.array(np.where(valid, values, 0.0), pa.float64(), mask=~valid)


def _category(names: tuple[str, ...], index: np.ndarray) -> pa.DictionaryArray:
    # A fixed dictionary (every name, in policy order) makes chunks of any build concatenate cleanly.
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(names, pa.string()))


def build_universe(
    merchant_ids: np.ndarray, countries: Countries, mccs: Mccs, policy: Policy1A, keys: KeySource
) -> MerchantUniverse:
    """Build the 1A tables for the given merchant ids (any subset of 1..n, any order)."""
    ids = _as_ids(merchant_ids)
    world = countries.by_iso()
    merchants = draw_merchants(ids, world, mccs, policy, keys)
    counts = draw_outlet_counts(merchants, policy, keys)
    ranking = gravity(world, policy.candidates)
    candidates = candidate_countries(counts.n_total, merchants.home, ranking, policy.candidates)
    membership = foreign_membership(merchants, counts, candidates, policy.cross_border, policy.home_share, keys)

    iso = world.iso
    home_iso = _text(iso, merchants.home)
    merchants_table = pa.table({
        "merchant_id": ids,
        "home_country_iso": home_iso,
        "mcc": pa.array(merchants.mcc, pa.int16()),
        "sector": _category(SECTORS, merchants.sector),
        "channel": _category(CHANNELS, merchants.channel),
        "currency": _text(world.currency, merchants.home),
        "gdp_band": pa.array(merchants.gdp_band, pa.int8()),
        "is_multi_site": counts.is_multi_site,
    })
    multi = counts.is_multi_site
    counts_table = pa.table({
        "merchant_id": ids,
        "n_total": pa.array(counts.n_total, pa.int32()),
        "is_multi_site": multi,
        "nb_mu": _nullable(counts.nb_mu, multi),
        "nb_phi": _nullable(counts.nb_phi, multi),
        "nb_attempts": pa.array(counts.nb_attempts, pa.int16()),
    })
    owner = np.repeat(np.arange(ids.shape[0]), np.diff(candidates.offsets))
    candidates_table = pa.table({
        "merchant_id": ids[owner],
        "country_iso": _text(iso, candidates.country),
        "rank": pa.array(candidates.rank, pa.int16()),
        "weight": candidates.weight,
        "is_home": candidates.rank == 0,
    })
    membership_table = pa.table({
        "merchant_id": ids[membership.merchant],
        "country_iso": _text(iso, membership.country),
        "n_country": pa.array(membership.n_country, pa.int32()),
        "is_home": membership.is_home,
    })
    return MerchantUniverse(
        merchants=merchants_table,
        outlet_counts=counts_table,
        candidate_countries=candidates_table,
        foreign_membership=membership_table,
        outlet_catalogue=outlet_catalogue(membership_table),
        rng_draws=merge_draws(merchants.draws, counts.draws, membership.draws),
        truncation_fallbacks=counts.truncation_fallbacks,
    )


def outlet_catalogue(membership: pa.Table) -> pa.Table:
    """One row per outlet from the foreign membership: each (merchant, country) row repeated
    n_country times with site_order 1..n_country, carrying the merchant's home and N.

    Membership sorted by (merchant_id, country_iso) gives a catalogue sorted by
    (merchant_id, legal_country_iso, site_order) without a sort.
    """
    merchant = membership.column("merchant_id").to_numpy()
    n_country = membership.column("n_country").to_numpy().astype(np.int64)
    is_home = membership.column("is_home").to_numpy(zero_copy_only=False).astype(bool)
    country = membership.column("country_iso").combine_chunks()
    if merchant.size == 0:
        raise ValueError("foreign_membership is empty: a universe has at least one merchant")
    first = np.concatenate(([True], merchant[1:] != merchant[:-1]))
    if (np.diff(merchant.astype(np.int64)) < 0).any() or (n_country < 1).any():
        raise ValueError("foreign_membership must be sorted by merchant_id with n_country >= 1 on every row")
    group = np.cumsum(first) - 1
    homes = np.flatnonzero(is_home)
    if homes.size != group[-1] + 1 or (group[homes] != np.arange(homes.size)).any():
        raise ValueError("foreign_membership must hold exactly one home row per merchant")
    n_total = np.add.reduceat(n_country, np.flatnonzero(first))

    row = np.repeat(np.arange(merchant.size), n_country)
    row_start = np.concatenate(([0], np.cumsum(n_country)[:-1]))
    owner = group[row]
    take = pa.array(row, pa.int64())
    return pa.table({
        "merchant_id": merchant[row],
        "legal_country_iso": country.take(take),
        "site_order": pa.array(np.arange(row.size) - row_start[row] + 1, pa.int32()),
        "home_country_iso": country.take(pa.array(homes[owner], pa.int64())),
        "n_country": pa.array(n_country[row], pa.int32()),
        "n_total": pa.array(n_total[owner], pa.int32()),
    })
