"""Step 1 of 1A: each merchant's home country, MCC, channel and GDP band.

home ~ Categorical(w), w_c ∝ max(GDP_c^a / Σ_j GDP_j^a, floor / C) over the C active countries,
so economic mass (not income per head) decides where merchants are; the floor keeps a small
country from being empty by construction.
sector ~ Categorical(sector weights restricted to sectors that have codes), then an MCC uniform
over the sector's codes.
channel = card_not_present with the sector's probability, else card_present.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import SECTORS

from .inputs import Countries, Mccs
from .policy import Policy1A
from .streams import KeySource, merchant_uniforms

__all__ = ["MerchantDraws", "draw_merchants", "gdp_bands", "home_weights"]

_HOME, _MCC, _CHANNEL = substreams.MERCHANT_HOME, substreams.MERCHANT_MCC, substreams.MERCHANT_CHANNEL


@dataclass(frozen=True)
class MerchantDraws:
    """Merchant attributes, aligned with merchant_id (ascending).

    home indexes the ISO-ordered countries; sector indexes SECTORS and channel CHANNELS
    (engine_kernels.vocabulary).
    """

    merchant_id: np.ndarray
    home: np.ndarray
    mcc: np.ndarray
    sector: np.ndarray
    channel: np.ndarray
    gdp_band: np.ndarray
    draws: dict[str, int]


def home_weights(countries: Countries, policy: Policy1A) -> np.ndarray:
    """Normalised home-country probabilities: max(GDP^a share, floor / C), renormalised."""
    mass = countries.gdp_usd ** policy.home_gdp_exponent
    share = np.maximum(mass / mass.sum(), policy.home_floor_vs_uniform / countries.size)
    return share / share.sum()


def gdp_bands(countries: Countries, policy: Policy1A) -> np.ndarray:
    """int8 band of each country: the number of per-capita edges at or below its GDP per capita."""
    return np.searchsorted(np.asarray(policy.gdp_band_edges), countries.gdp_per_capita, side="right").astype(np.int8)


def _categorical(u: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw; the clip absorbs a last cumulative value that rounds below 1."""
    cdf = np.cumsum(probabilities)
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), probabilities.shape[0] - 1)


def _sector_codes(mccs: Mccs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MCCs ordered by (sector, code), with each sector's first position and code count."""
    sector = mccs.sector_index()
    order = np.lexsort((mccs.mcc, sector))
    count = np.bincount(sector, minlength=len(SECTORS))
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    return mccs.mcc[order], start, count


def draw_merchants(
    merchant_ids: np.ndarray, countries: Countries, mccs: Mccs, policy: Policy1A, keys: KeySource
) -> MerchantDraws:
    """Home, MCC, sector, channel and GDP band of each merchant (countries in ISO order)."""
    codes, start, count = _sector_codes(mccs)
    sector_p = np.asarray(policy.sector_weights) * (count > 0)
    if not (sector_p > 0).any():
        raise ValueError(
            "merchants.sector_weights: no sector with a positive weight has a code in the MCC list; "
            f"sectors present: {', '.join(s for s, c in zip(SECTORS, count) if c)}"
        )
    u_home, w_home = merchant_uniforms(keys, _HOME, merchant_ids, 1)
    u_mcc, w_mcc = merchant_uniforms(keys, _MCC, merchant_ids, 2)
    u_channel, w_channel = merchant_uniforms(keys, _CHANNEL, merchant_ids, 1)

    home = _categorical(u_home[:, 0], home_weights(countries, policy))
    sector = _categorical(u_mcc[:, 0], sector_p / sector_p.sum())
    within = np.minimum((u_mcc[:, 1] * count[sector]).astype(np.int64), count[sector] - 1)
    channel = (u_channel[:, 0] < np.asarray(policy.cnp_probability)[sector]).astype(np.int64)
    return MerchantDraws(
        merchant_id=merchant_ids,
        home=home,
        mcc=codes[start[sector] + within],
        sector=sector,
        channel=channel,
        gdp_band=gdp_bands(countries, policy)[home],
        draws={_HOME: w_home, _MCC: w_mcc, _CHANNEL: w_channel},
    )
