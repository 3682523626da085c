"""Steps 2 and 3 of 1A: single versus multi-site, then the outlet count of multi-site merchants.

Hurdle: multi-site when U < π, π = logistic(η_hurdle), one uniform per merchant.
Count: N ~ NB2(μ, φ) conditioned on N >= 2, with μ = exp(η_μ) and φ = exp(η_φ) per merchant.
Each attempt is the Gamma–Poisson mixture G ~ Gamma(φ, 1), K | G ~ Poisson(μG/φ); attempt a
reads the merchant's substream from block a·2^32, far beyond what any earlier attempt can
consume, so attempts never share words. A merchant still below 2 after the policy's last
attempt gets N = 2 and is counted as a truncation fallback. Single-site merchants have N = 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.randomness.sampling import sample_negative_binomial

from .policy import Policy1A
from .streams import KeySource, merchant_keys, merchant_uniforms
from .universe import MerchantDraws

__all__ = ["OutletCounts", "draw_outlet_counts"]

_HURDLE, _NB = substreams.OUTLET_HURDLE, substreams.OUTLET_COUNT_NB
# Block offset between rejection attempts: one attempt uses a handful of blocks, so 2^32 keeps
# attempts disjoint with a margin no rejection loop can reach.
_ATTEMPT_STRIDE = 1 << 32


@dataclass(frozen=True)
class OutletCounts:
    """Outlets per merchant, aligned with MerchantDraws.

    nb_mu and nb_phi are NaN and nb_attempts is 0 for single-site merchants; truncation_fallbacks
    counts multi-site merchants that kept N = 2 after the last NB attempt.
    """

    is_multi_site: np.ndarray
    n_total: np.ndarray
    nb_mu: np.ndarray
    nb_phi: np.ndarray
    nb_attempts: np.ndarray
    truncation_fallbacks: int
    draws: dict[str, int]


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def draw_outlet_counts(merchants: MerchantDraws, policy: Policy1A, keys: KeySource) -> OutletCounts:
    """Hurdle, then the truncated NB2 count of every multi-site merchant."""
    ids = merchants.merchant_id
    n = ids.shape[0]
    u, hurdle_words = merchant_uniforms(keys, _HURDLE, ids, 1)
    pi = _logistic(policy.hurdle.predictor(merchants.sector, merchants.channel, merchants.gdp_band))
    is_multi = u[:, 0] < pi

    multi = np.flatnonzero(is_multi)
    args = (merchants.sector[multi], merchants.channel[multi], merchants.gdp_band[multi])
    mu = np.exp(policy.nb_mean.predictor(*args))
    phi = np.exp(policy.nb_dispersion.predictor(*args))
    nb_keys = merchant_keys(keys, _NB, ids[multi])

    count = np.zeros(multi.shape[0], np.int64)
    attempts = np.zeros(multi.shape[0], np.int16)
    pending = np.arange(multi.shape[0])
    nb_words = 0
    for attempt in range(policy.nb_max_attempts):
        if pending.size == 0:
            break
        words = np.zeros(pending.shape[0], np.int64)
        k = sample_negative_binomial(
            nb_keys[pending], mu[pending], phi[pending], counter=attempt * _ATTEMPT_STRIDE, words_out=words
        )
        nb_words += int(words.sum())
        attempts[pending] = attempt + 1
        accepted = k >= 2
        count[pending[accepted]] = k[accepted]
        pending = pending[~accepted]
    count[pending] = 2

    n_total = np.ones(n, np.int64)
    n_total[multi] = count
    nb_mu = np.full(n, np.nan)
    nb_mu[multi] = mu
    nb_phi = np.full(n, np.nan)
    nb_phi[multi] = phi
    nb_attempts = np.zeros(n, np.int16)
    nb_attempts[multi] = attempts
    return OutletCounts(
        is_multi_site=is_multi,
        n_total=n_total,
        nb_mu=nb_mu,
        nb_phi=nb_phi,
        nb_attempts=nb_attempts,
        truncation_fallbacks=int(pending.shape[0]),
        draws={_HURDLE: hurdle_words, _NB: nb_words},
    )
