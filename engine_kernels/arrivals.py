"""Segment 5B kernels: latent bursts, overdispersed bucket counts, and arrivals with exact times and routes.

Randomness is keyed, never sequential across units:
  * latent path of a group: stream fold(latent_key, group id), one normal per bucket in order;
  * count of a (row, bucket): stream fold(row_key, global bucket number) from block 0;
  * arrival k of that (row, bucket): the same cell key at block ARRIVAL_BLOCK + k, whose four
    words are the time in the bucket, the site pick, the hybrid coin and the edge pick.
A row key folds (scenario, merchant, country, zone) once; the bucket number is the count of
buckets since 1970-01-01 UTC, so a day computed alone equals the same day inside any batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine_kernels.intensity import _period
from engine_kernels.rng import STATE_SIZE, fold_id, seed_state, stream_block
from engine_kernels.routing import pick_item
from engine_kernels.sampling import negative_binomial, normal

__all__ = ["ARRIVAL_BLOCK", "Arrivals", "bucket_counts", "expand_arrivals", "latent_paths"]

ARRIVAL_BLOCK = np.uint64(1 << 32)
_TO_UNIT = 2.3283064365386963e-10  # 2^-32


@njit(parallel=True, cache=True)
def _latent(keys, n_buckets, phi, sigma, lo, hi, out):
    for g in prange(keys.shape[0]):
        state = np.zeros(STATE_SIZE, np.uint64)
        seed_state(state, keys[g], np.uint64(0))
        s = sigma[g]
        innovation = s * math.sqrt(1.0 - phi[g] * phi[g])
        z = s * normal(state)  # the stationary law: the path has no warm-up
        for t in range(n_buckets):
            out[g, t] = min(max(math.exp(z - 0.5 * s * s), lo), hi)
            z = phi[g] * z + innovation * normal(state)


def latent_paths(keys: np.ndarray, n_buckets: int, sigma: np.ndarray, length_buckets: np.ndarray,
                 clip: tuple[float, float]) -> np.ndarray:
    """float32[groups, n_buckets]: exp(Z − σ²/2) clipped, Z an Ornstein–Uhlenbeck path per group,
    Z_t = φ Z_{t−1} + σ√(1−φ²) ε_t with φ = exp(−1 / L), started from its stationary N(0, σ²)."""
    keys = np.ascontiguousarray(keys, np.uint64)
    sigma = np.ascontiguousarray(sigma, np.float64)
    length = np.ascontiguousarray(length_buckets, np.float64)
    if not (keys.shape == sigma.shape == length.shape):
        raise ValueError("keys, sigma and length_buckets need one entry per group")
    if (sigma < 0).any() or (length <= 0).any():
        raise ValueError("latent sigma must be >= 0 and correlation lengths > 0")
    out = np.empty((keys.size, n_buckets), np.float32)
    _latent(keys, np.int64(n_buckets), np.exp(-1.0 / length), sigma, float(clip[0]), float(clip[1]), out)
    return out


@njit(parallel=True, cache=True)
def _counts(row_keys, first_bucket, lam, kappa, floor, out):
    for r in prange(lam.shape[0]):
        state = np.zeros(STATE_SIZE, np.uint64)
        for b in range(lam.shape[1]):
            m = lam[r, b]
            if m <= floor:
                out[r, b] = 0  # no draw: a quiet bucket costs nothing and shifts nothing
                continue
            seed_state(state, fold_id(row_keys[r], np.uint64(first_bucket + b), np.uint64(4)), np.uint64(0))
            out[r, b] = negative_binomial(state, m, kappa[r])


def bucket_counts(row_keys: np.ndarray, first_bucket: int, lam: np.ndarray, kappa: np.ndarray,
                  floor: float = 1e-9) -> np.ndarray:
    """int32[rows, buckets]: NB2 counts (Gamma–Poisson, dispersion κ per row) around λ; λ ≤ floor
    gives 0 without a draw. first_bucket is the global number of the first bucket."""
    lam = np.ascontiguousarray(lam, np.float64)
    kappa = np.ascontiguousarray(kappa, np.float64)
    if lam.ndim != 2 or lam.shape[0] != kappa.size or np.asarray(row_keys).size != kappa.size:
        raise ValueError("lam must be [rows, buckets] with one key and one kappa per row")
    if not np.isfinite(lam).all() or (lam < 0).any():
        raise ValueError("λ must be finite and >= 0")
    if (kappa <= 0).any():
        raise ValueError("κ must be > 0")
    out = np.empty(lam.shape, np.int32)
    _counts(np.ascontiguousarray(row_keys, np.uint64), np.int64(first_bucket), lam, kappa, float(floor), out)
    return out


class Arrivals:
    """Columns of one day's arrivals, in (row, bucket, k) order; see expand_arrivals."""

    def __init__(self, n: int):
        self.ts_utc = np.empty(n, np.int64)  # µs since the epoch
        self.row = np.empty(n, np.int32)
        self.bucket = np.empty(n, np.int32)  # bucket of the day
        self.site_id = np.zeros(n, np.uint64)  # 0: routed to an edge
        self.edge = np.full(n, -1, np.int64)  # index into the edge arrays, -1: a site
        self.zone = np.empty(n, np.int32)  # clock of the arrival: the site's zone or the edge's
        self.offset_s = np.empty(n, np.int32)
        self.settlement_offset_s = np.zeros(n, np.int32)


@njit(parallel=True, cache=True)
def _expand(day_start_us, bucket_us, counts, starts, row_keys, first_bucket, row_zone, virtual_share, site_group,
            site_prob, site_alias, site_offsets, site_item, edge_group, edge_prob, edge_alias, edge_offsets,
            edge_item, edge_zone, settlement_zone, tz_offsets, tz_starts_us, tz_offset_s,
            ts_utc, row_out, bucket_out, site_out, edge_out, zone_out, offset_out, settle_out):
    rows, n_buckets = counts.shape
    for r in prange(rows):
        for b in range(n_buckets):
            n = counts[r, b]
            if n == 0:
                continue
            key = fold_id(row_keys[r], np.uint64(first_bucket + b), np.uint64(4))
            t0 = day_start_us + b * bucket_us
            for k in range(n):
                i = starts[r, b] + k
                w = stream_block(key, ARRIVAL_BLOCK + np.uint64(k))
                t = t0 + np.int64(np.float64(w[0]) * _TO_UNIT * bucket_us)  # µs-uniform in the bucket
                online = virtual_share[r] >= 1.0 or (
                    virtual_share[r] > 0.0 and (np.float64(w[2]) + 0.5) * _TO_UNIT < virtual_share[r])
                if online and edge_group[r] >= 0:
                    e = np.int64(pick_item(edge_prob, edge_alias, edge_offsets, edge_item, edge_group[r],
                                           (np.float64(w[3]) + 0.5) * _TO_UNIT))
                    edge_out[i] = e
                    zone = edge_zone[e]
                    settle_out[i] = tz_offset_s[_period(settlement_zone[r], t, tz_offsets, tz_starts_us)]
                else:
                    site_out[i] = pick_item(site_prob, site_alias, site_offsets, site_item, site_group[r],
                                            (np.float64(w[1]) + 0.5) * _TO_UNIT)
                    zone = row_zone[r]
                ts_utc[i] = t
                row_out[i] = r
                bucket_out[i] = b
                zone_out[i] = zone
                offset_out[i] = tz_offset_s[_period(zone, t, tz_offsets, tz_starts_us)]


def expand_arrivals(day_start_utc_us: int, bucket_minutes: int, counts: np.ndarray, row_keys: np.ndarray,
                    first_bucket: int, row_zone: np.ndarray, virtual_share: np.ndarray, site_group: np.ndarray,
                    sites, edge_group: np.ndarray, edges, edge_zone: np.ndarray, settlement_zone: np.ndarray,
                    table) -> Arrivals:
    """Every arrival of the day's counts: a µs-uniform time in its bucket; a site of the row's
    (merchant, zone) alias table, or for the virtual share an edge of the merchant's edge table
    (hybrid: a coin with p = virtual_share); the UTC offset of its clock (the site's zone or
    the edge's), and of the settlement zone for edge arrivals. `sites` and `edges` are
    RoutingTables (edges' items index edge_zone); `table` the Transitions of every zone."""
    counts = np.ascontiguousarray(counts, np.int32)
    flat = counts.ravel().astype(np.int64)
    starts = (np.cumsum(flat) - flat).reshape(counts.shape)
    out = Arrivals(int(flat.sum()))
    _expand(np.int64(day_start_utc_us), np.int64(bucket_minutes * 60_000_000), counts, starts,
            np.ascontiguousarray(row_keys, np.uint64), np.int64(first_bucket), np.ascontiguousarray(row_zone, np.int64),
            np.ascontiguousarray(virtual_share, np.float64), np.ascontiguousarray(site_group, np.int64), sites.prob,
            sites.alias, sites.offsets, sites.item, np.ascontiguousarray(edge_group, np.int64), edges.prob,
            edges.alias, edges.offsets, edges.item, np.ascontiguousarray(edge_zone, np.int64),
            np.ascontiguousarray(settlement_zone, np.int64), table.offsets, table.utc_start * 1_000_000,
            table.offset_seconds, out.ts_utc, out.row, out.bucket, out.site_id, out.edge, out.zone, out.offset_s,
            out.settlement_offset_s)
    return out
