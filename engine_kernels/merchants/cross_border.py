"""Steps 5–7 of 1A: how many foreign countries, which ones, and how N is split across them.

5. A merchant with foreign candidates crosses borders when U < p_open, with
   p_open = logistic(γ0 + γ_o·o_s + γ_c + γ_N·ln N) (o_s the sector's openness); then
   K ~ ZeroTruncatedPoisson(λ), λ = exp(θ0 + θ_N·ln N + θ_o·o_s), realised as
   min(K, #candidates, N − 1) so every chosen country can hold an outlet.
6. The K countries are a Gumbel-top-K draw over the foreign candidates' gravity weights
   (successive sampling without replacement, one double per candidate).
7. Target shares: home h(N) (the policy's floor by size), foreign c ∝ weight_c with total 1 − h.
   Every one of the K + 1 countries first gets one outlet; the other R = N − K − 1 follow the
   excess quotas e_i = max(N·s_i − 1, 0) by largest remainder (ties to the lower rank), so
   Σ n_i = N exactly and n_i >= 1. Because Σ e_i >= R no country gets more than ceil(N·s_i) (or
   its one outlet), and the home keeps n_home > h·N − K − 1: the floor, less at most one outlet
   per foreign country lifted to its first. e_home > 0 because h > 1/2 and N >= 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.randomness.sampling import sample_gumbel_top_k, sample_zero_truncated_poisson
from engine_kernels.tables.integerise import largest_remainder_groups

from .candidates import Candidates
from .outlets import OutletCounts
from .policy import CrossBorderPolicy, HomeShareFloor
from .streams import KeySource, merchant_keys, merchant_uniforms
from .universe import MerchantDraws

__all__ = ["Membership", "foreign_membership"]

_OPEN, _COUNT, _PICK = substreams.CROSS_BORDER, substreams.FOREIGN_COUNT, substreams.FOREIGN_PICK
# λ beyond this only ever hits the min(K, #candidates, N − 1) cap; bounding it keeps the
# sampler inside its domain whatever the coefficients.
_LAMBDA_MAX = 1e6


@dataclass(frozen=True)
class Membership:
    """Countries each merchant operates in, sorted by (merchant, country).

    merchant indexes the MerchantDraws arrays; country indexes the ISO-ordered countries.
    """

    merchant: np.ndarray
    country: np.ndarray
    n_country: np.ndarray
    is_home: np.ndarray
    draws: dict[str, int]


def _foreign_counts(
    merchants: MerchantDraws, counts: OutletCounts, n_candidates: np.ndarray, policy: CrossBorderPolicy,
    keys: KeySource,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Merchants that cross borders (indices) and their realised foreign count K."""
    eligible = np.flatnonzero(n_candidates >= 1)
    ids = merchants.merchant_id[eligible]
    log_n = np.log(counts.n_total[eligible])
    openness = np.asarray(policy.openness)[merchants.sector[eligible]]
    logit = (
        policy.p_intercept + policy.p_openness * openness
        + np.asarray(policy.p_channel)[merchants.channel[eligible]] + policy.p_log_outlets * log_n
    )
    u, open_words = merchant_uniforms(keys, _OPEN, ids, 1)
    crosses = u[:, 0] < 1.0 / (1.0 + np.exp(-logit))

    opened = eligible[crosses]
    lam = np.minimum(
        np.exp(policy.theta0 + policy.theta_log_outlets * log_n[crosses] + policy.theta_openness * openness[crosses]),
        _LAMBDA_MAX,
    )
    words = np.zeros(opened.shape[0], np.int64)
    k = sample_zero_truncated_poisson(merchant_keys(keys, _COUNT, ids[crosses]), lam, words_out=words)
    k = np.minimum(np.minimum(k, n_candidates[opened]), counts.n_total[opened] - 1)
    return opened, k, {_OPEN: open_words, _COUNT: int(words.sum())}


def _chosen_rows(
    merchants: MerchantDraws, candidates: Candidates, opened: np.ndarray, k: np.ndarray, keys: KeySource
) -> tuple[np.ndarray, np.ndarray, int]:
    """Candidate rows of each crossing merchant's countries (home first, then the chosen foreign
    countries by rank), their group offsets, and the words the Gumbel draw consumed."""
    first = candidates.offsets[opened] + 1  # rank 1 of each merchant
    sizes = np.diff(candidates.offsets)[opened] - 1
    pick_offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    rows = np.repeat(first - pick_offsets[:-1], sizes) + np.arange(pick_offsets[-1])
    words = np.zeros(opened.shape[0], np.int64)
    picked, picked_offsets = sample_gumbel_top_k(
        merchant_keys(keys, _PICK, merchants.merchant_id[opened]), candidates.weight[rows], pick_offsets, k,
        words_out=words,
    )
    # Every gravity weight is positive, so each merchant receives all K of its picks.
    group_of_pick = np.repeat(np.arange(opened.shape[0]), np.diff(picked_offsets))
    foreign = first[group_of_pick] + picked[np.lexsort((picked, group_of_pick))]

    group_offsets = np.concatenate(([0], np.cumsum(k + 1))).astype(np.int64)
    is_home = np.zeros(group_offsets[-1], bool)
    is_home[group_offsets[:-1]] = True
    cand_row = np.empty(group_offsets[-1], np.int64)
    cand_row[is_home] = candidates.offsets[opened]
    cand_row[~is_home] = foreign
    return cand_row, group_offsets, int(words.sum())


def _split(n_total: np.ndarray, k: np.ndarray, weight: np.ndarray, is_home: np.ndarray, group_offsets: np.ndarray,
           home_share: HomeShareFloor) -> np.ndarray:
    """Outlets per chosen country (groups laid out home first): 1 + largest remainder of the excess quotas."""
    group = np.repeat(np.arange(n_total.shape[0]), k + 1)
    h = home_share.of(n_total)[group]
    foreign_mass = np.add.reduceat(np.where(is_home, 0.0, weight), group_offsets[:-1])[group]
    share = np.where(is_home, h, (1.0 - h) * weight / foreign_mass)
    excess = np.maximum(n_total[group] * share - 1.0, 0.0)
    return 1 + largest_remainder_groups(excess, group_offsets, n_total - k - 1)


def foreign_membership(
    merchants: MerchantDraws, counts: OutletCounts, candidates: Candidates, policy: CrossBorderPolicy,
    home_share: HomeShareFloor, keys: KeySource,
) -> Membership:
    """Countries and outlets per country of every merchant (home only unless it crosses borders)."""
    n = merchants.merchant_id.shape[0]
    opened, k, draws = _foreign_counts(merchants, counts, np.diff(candidates.offsets) - 1, policy, keys)
    cand_row, group_offsets, draws[_PICK] = _chosen_rows(merchants, candidates, opened, k, keys)
    is_home = np.zeros(cand_row.shape[0], bool)
    is_home[group_offsets[:-1]] = True
    n_country = _split(counts.n_total[opened], k, candidates.weight[cand_row], is_home, group_offsets, home_share)

    # Merchants that stay at home keep all N outlets there.
    stays = np.ones(n, bool)
    stays[opened] = False
    home_rows = np.flatnonzero(stays)
    merchant = np.concatenate((home_rows, np.repeat(opened, k + 1)))
    country = np.concatenate((candidates.country[candidates.offsets[home_rows]], candidates.country[cand_row]))
    n_out = np.concatenate((counts.n_total[home_rows], n_country))
    home_flag = np.concatenate((np.ones(home_rows.shape[0], bool), is_home))
    order = np.lexsort((country, merchant))
    return Membership(
        merchant=merchant[order], country=country[order], n_country=n_out[order], is_home=home_flag[order],
        draws=draws,
    )
