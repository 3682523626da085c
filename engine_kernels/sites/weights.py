"""Segment 2B: how popular each site of a merchant is within a time zone, and its daily shocks.

A (merchant, zone) group of n sites takes one of three shapes, drawn by the group's size band:
  * hub:          one site holds h ~ U(hub_share) of the traffic, the others split the rest
                  Zipf-like (a flagship and its satellites);
  * heavy_tail:   w_k ∝ k^-s by a random ranking, s ~ U(zipf_exponent);
  * near_uniform: w = 1 + jitter·(u − 1/2) (a franchise of look-alike shops).
Then the top share is capped by band and the runner-up lifted to at least runner_up_floor × top,
both by moving mass between the top site and the others. Single-site groups weigh 1.

Day effects: γ = exp(σ z − σ²/2) per (merchant, zone, local day), σ by size band, clipped to
[clip_low, clip_high] and divided by its own mean over the horizon, so each merchant-zone's mean
is exactly one: a shock moves traffic between days, never adds or removes it.

Every draw is keyed on (label, merchant, country, zone) (and the site or the day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine_kernels.randomness import substreams
from engine_kernels.randomness.sampling import sample_normal
from engine_kernels.randomness.streams import text_id, unit_keys, unit_uniforms

__all__ = ["SHAPES", "SiteWeightPolicy", "day_effects", "site_weights"]

SHAPES = ("single", "hub", "heavy_tail", "near_uniform")
_SHAPE, _SITE, _DAY = substreams.WEIGHT_SHAPE, substreams.WEIGHT_SITE_NOISE, substreams.DAY_EFFECT


@dataclass(frozen=True)
class SiteWeightPolicy:
    band_max_sites: tuple[int, ...]  # band b holds groups with n <= band_max_sites[b]; the last band above
    mixture: np.ndarray  # [band, 3] probabilities of hub, heavy_tail, near_uniform
    hub_share: tuple[float, float]
    zipf_exponent: tuple[float, float]
    uniform_jitter: float
    top_share_cap: tuple[float, ...]
    runner_up_floor: float
    day_sigma: tuple[float, ...]
    clip: tuple[float, float]

    def band(self, n: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.band_max_sites), n, side="left")


def _group_units(merchant_id: np.ndarray, country: str, tzid: list[str]) -> np.ndarray:
    return np.column_stack([np.asarray(merchant_id, np.uint64), np.full(len(tzid), text_id(country), np.uint64),
                            np.array([text_id(z) for z in tzid], np.uint64)])


def _cap_top(w: np.ndarray, cap: float, floor: float) -> np.ndarray:
    """Weights of one group (sum 1) with the top share at most `cap` and the runner-up at least floor × top."""
    if w.size < 2:
        return w
    order = np.argsort(-w, kind="stable")
    top, rest = order[0], order[1:]
    if w[top] > cap:
        others = w[rest] / w[rest].sum()
        w = w.copy()
        w[top], w[rest] = cap, (1.0 - cap) * others
    if w[rest[0]] < floor * w[top]:
        # Move mass from the top to the runner-up until the ratio holds: r + t = s fixed, r = floor·t.
        s = w[top] + w[rest[0]]
        w = w.copy()
        w[top], w[rest[0]] = s / (1.0 + floor), s * floor / (1.0 + floor)
    return w


def site_weights(
    merchant_id: np.ndarray, tzid: list[str], offsets: np.ndarray, site_id: np.ndarray, country: str,
    policy: SiteWeightPolicy, keys: Callable[[str], int],
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """(weights summing to 1 per group, shape index per group into SHAPES, words per label).

    Group g is sites offsets[g]:offsets[g+1] of merchant merchant_id[g] in zone tzid[g]; site_id
    keys each site's own draws.
    """
    sizes = np.diff(offsets)
    units = _group_units(merchant_id, country, tzid)
    u_group = unit_uniforms(unit_keys(keys(_SHAPE), units), 2)
    u_site = unit_uniforms(unit_keys(keys(_SITE), np.asarray(site_id, np.uint64).reshape(-1, 1)), 1)[:, 0]
    band = policy.band(sizes)
    cdf = np.cumsum(policy.mixture, axis=1)[band]
    shape = 1 + np.minimum((u_group[:, :1] > cdf).sum(axis=1), 2)
    shape[sizes == 1] = 0

    weights = np.ones(offsets[-1])
    for g in np.flatnonzero(sizes > 1):
        a, b = offsets[g], offsets[g + 1]
        u, n = u_site[a:b], b - a
        if shape[g] == 3:
            w = 1.0 + policy.uniform_jitter * (u - 0.5)
        else:
            # A random ranking of the sites: by their own uniforms, so a site's rank is keyed.
            rank = np.empty(n)
            rank[np.argsort(u, kind="stable")] = np.arange(1, n + 1)
            if shape[g] == 2:
                s = policy.zipf_exponent[0] + u_group[g, 1] * (policy.zipf_exponent[1] - policy.zipf_exponent[0])
                w = rank ** -s
            else:
                h = policy.hub_share[0] + u_group[g, 1] * (policy.hub_share[1] - policy.hub_share[0])
                satellites = (rank[rank > 1] - 1) ** -1.0
                w = np.empty(n)
                w[rank == 1] = h
                w[rank > 1] = (1.0 - h) * satellites / satellites.sum()
        weights[a:b] = _cap_top(w / w.sum(), policy.top_share_cap[band[g]], policy.runner_up_floor)
    return weights, shape, {_SHAPE: int(u_group.size), _SITE: int(u_site.size)}


def day_effects(
    merchant_id: np.ndarray, tzid: list[str], n_sites: np.ndarray, first_day: int, n_days: int, country: str,
    policy: SiteWeightPolicy, keys: Callable[[str], int],
) -> tuple[np.ndarray, dict[str, int]]:
    """float64[groups, n_days] of mean-one day shocks, one row per (merchant, zone) group, for the
    local days first_day .. first_day + n_days − 1 (proleptic Gregorian ordinals key the draws)."""
    units = _group_units(merchant_id, country, tzid)
    days = np.arange(first_day, first_day + n_days, dtype=np.uint64)
    grid = np.column_stack([np.repeat(units, n_days, axis=0), np.tile(days, units.shape[0])])
    words = np.zeros(grid.shape[0], np.int64)
    z = sample_normal(unit_keys(keys(_DAY), grid), words_out=words).reshape(-1, n_days)
    sigma = np.asarray(policy.day_sigma)[policy.band(np.asarray(n_sites))][:, None]
    gamma = np.clip(np.exp(sigma * z - sigma**2 / 2), *policy.clip)
    return gamma / gamma.mean(axis=1, keepdims=True), {_DAY: int(words.sum())}
