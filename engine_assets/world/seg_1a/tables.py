"""The published tables of segment 1A, assembled from the kernel's arrays.

Column names, Arrow types and dictionaries follow contracts/seg_1a/*.yaml; the kernel
(engine_kernels/merchants/catalogue.py) knows only countries and merchants by index.
"""

import numpy as np
import pyarrow as pa

from engine_kernels.merchants.catalogue import MerchantUniverse, expand_outlets
from engine_kernels.vocabulary import CHANNELS, SECTORS


def _text(values: np.ndarray, index: np.ndarray) -> pa.Array:
    """values[index] as an Arrow string column, built by one take rather than per-row objects."""
    return pa.array(list(values), pa.string()).take(pa.array(index, pa.int64()))


def _nullable(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    # Zeros under the nulls: the bytes of a column then never depend on what filled the gaps.
    return pa.array(np.where(valid, values, 0.0), pa.float64(), mask=~valid)


def _category(names: tuple[str, ...], index: np.ndarray) -> pa.DictionaryArray:
    # A fixed dictionary (every name, in policy order) makes chunks of any build concatenate cleanly.
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), pa.array(names, pa.string()))


def universe_tables(universe: MerchantUniverse) -> dict[str, pa.Table]:
    """merchants, outlet_counts, candidate_countries and foreign_membership, each sorted by its
    contract's sort keys."""
    iso = universe.countries.iso
    merchants, counts = universe.merchants, universe.outlet_counts
    candidates, membership = universe.candidates, universe.membership
    ids = merchants.merchant_id
    multi = counts.is_multi_site
    owner = np.repeat(np.arange(ids.shape[0]), np.diff(candidates.offsets))
    return {
        "merchants": pa.table({
            "merchant_id": ids,
            "home_country_iso": _text(iso, merchants.home),
            "mcc": pa.array(merchants.mcc, pa.int16()),
            "sector": _category(SECTORS, merchants.sector),
            "channel": _category(CHANNELS, merchants.channel),
            "currency": _text(universe.countries.currency, merchants.home),
            "gdp_band": pa.array(merchants.gdp_band, pa.int8()),
            "is_multi_site": multi,
        }),
        "outlet_counts": pa.table({
            "merchant_id": ids,
            "n_total": pa.array(counts.n_total, pa.int32()),
            "is_multi_site": multi,
            "nb_mu": _nullable(counts.nb_mu, multi),
            "nb_phi": _nullable(counts.nb_phi, multi),
            "nb_attempts": pa.array(counts.nb_attempts, pa.int16()),
        }),
        "candidate_countries": pa.table({
            "merchant_id": ids[owner],
            "country_iso": _text(iso, candidates.country),
            "rank": pa.array(candidates.rank, pa.int16()),
            "weight": candidates.weight,
            "is_home": candidates.rank == 0,
        }),
        "foreign_membership": pa.table({
            "merchant_id": ids[membership.merchant],
            "country_iso": _text(iso, membership.country),
            "n_country": pa.array(membership.n_country, pa.int32()),
            "is_home": membership.is_home,
        }),
    }


def outlet_catalogue_table(membership: pa.Table) -> pa.Table:
    """One row per outlet of a foreign_membership table sorted by (merchant_id, country_iso), sorted
    by (merchant_id, legal_country_iso, site_order); the countries keep the membership's Arrow type."""
    rows = expand_outlets(
        membership.column("merchant_id").to_numpy(),
        membership.column("n_country").to_numpy(),
        membership.column("is_home").to_numpy(zero_copy_only=False),
    )
    country = membership.column("country_iso").combine_chunks()
    return pa.table({
        "merchant_id": rows.merchant,
        "legal_country_iso": country.take(pa.array(rows.membership_row, pa.int64())),
        "site_order": pa.array(rows.site_order, pa.int32()),
        "home_country_iso": country.take(pa.array(rows.home_row, pa.int64())),
        "n_country": pa.array(rows.n_country, pa.int32()),
        "n_total": pa.array(rows.n_total, pa.int32()),
    })
