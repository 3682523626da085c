"""Segment 5B kernels: latent bursts, overdispersed bucket counts, and arrivals with exact times and routes.

Randomness is keyed, never sequential across units:
  * latent path of a group: stream fold(latent_key, group id), one normal per bucket in order;
  * count of a (row, bucket): the row's stream from block (global bucket number) · 2^16;
  * arrival k of that (row, bucket): the cell key fold(row_key, global bucket number) at block
    ARRIVAL_BLOCK + k, whose four words are the time in the bucket, the site pick, the hybrid
    coin and the edge pick.
A row key folds (scenario, merchant, country, zone) once; the bucket number is the count of
buckets since 1970-01-01 UTC, so a day computed alone equals the same day inside any batch.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, parallel_chunksize, prange

from engine_kernels.civil_time.transitions import offset_period
from engine_kernels.randomness.sampling import negative_binomial_by_inversion, normal
from engine_kernels.randomness.streams import STATE_SIZE, fold_id, seed_state, stream_block, words_used
from engine_kernels.tables.routing import pick_item

__all__ = ["ARRIVAL_BLOCK", "ARRIVAL_WORDS", "Arrivals", "bucket_counts", "expand_arrivals", "latent_paths", "modulated_intensity",
           "row_columns"]

ARRIVAL_BLOCK = np.uint64(1 << 32)
ARRIVAL_WORDS = 4  # one Philox block per arrival: time, site pick, hybrid coin, edge pick
_TO_UNIT = 2.3283064365386963e-10  # 2^-32
_DAY_US = 86_400 * 1_000_000
# A count reads its row's stream from block bucket · 2^16: one Philox block per quiet bucket, and
# room for 65,536 blocks before the next bucket's, far more than any NB2 draw takes.
_COUNT_SHIFT = np.uint64(16)


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
def _counts(row_keys, first_bucket, lam, kappa, floor, out, words):
    for r in prange(lam.shape[0]):
        state = np.zeros(STATE_SIZE, np.uint64)
        used = np.int64(0)
        for b in range(lam.shape[1]):
            m = lam[r, b]
            if m <= floor:
                out[r, b] = 0  # no draw: a quiet bucket costs nothing and shifts nothing
                continue
            seed_state(state, row_keys[r], np.uint64(first_bucket + b) << _COUNT_SHIFT)
            out[r, b] = negative_binomial_by_inversion(state, m, kappa[r])
            used += words_used(state)
        words[r] = used


def bucket_counts(row_keys: np.ndarray, first_bucket: int, lam: np.ndarray, kappa: np.ndarray,
                  floor: float = 1e-9, words: np.ndarray | None = None) -> np.ndarray:
    """int32[rows, buckets]: NB2 counts (Gamma–Poisson, dispersion κ per row) around λ; λ ≤ floor
    gives 0 without a draw. first_bucket is the global number of the first bucket. `words`, if
    given (int64[rows]), receives the 32-bit words each row's counts drew, for the RNG accounts."""
    lam = np.ascontiguousarray(lam, np.float64)
    kappa = np.ascontiguousarray(kappa, np.float64)
    if lam.ndim != 2 or lam.shape[0] != kappa.size or np.asarray(row_keys).size != kappa.size:
        raise ValueError("lam must be [rows, buckets] with one key and one kappa per row")
    if not np.isfinite(lam).all() or (lam < 0).any():
        raise ValueError("λ must be finite and >= 0")
    if (kappa <= 0).any():
        raise ValueError("κ must be > 0")
    out = np.empty(lam.shape, np.int32)
    if words is None:
        words = np.empty(kappa.size, np.int64)
    elif words.shape != (kappa.size,) or words.dtype != np.int64:
        raise ValueError("words must be int64[rows]")
    _counts(np.ascontiguousarray(row_keys, np.uint64), np.int64(first_bucket), lam, kappa, float(floor), out, words)
    return out


class Arrivals:
    """Columns of one UTC day's arrivals, sorted by ts_utc; see expand_arrivals."""

    def __init__(self, n: int):
        self.ts_utc = np.empty(n, np.int64)  # µs since the epoch
        self.row = np.empty(n, np.int32)
        self.bucket = np.empty(n, np.int32)  # bucket of the day
        self.site_id = np.empty(n, np.uint64)  # 0: routed to an edge
        self.edge = np.empty(n, np.int64)  # index into the edge arrays, -1: a site
        self.zone = np.empty(n, np.int32)  # clock of the arrival: the site's zone or the edge's
        self.offset_s = np.empty(n, np.int32)
        self.settlement_offset_s = np.empty(n, np.int32)  # 0 for a site


@njit(cache=True)
def _stable_order(values, bits):
    """Stable argsort of values in [0, 2^bits). A bucket's arrival offsets are uniform, so one
    counting pass on the top bits leaves about one value per bin and an insertion pass finishes:
    linear where a comparison sort is not."""
    m = values.size
    top = 0
    while (1 << top) < m:
        top += 1
    shift = max(bits - top, 0)
    count = np.zeros((1 << top) + 1, np.int64)
    for i in range(m):
        count[(values[i] >> shift) + 1] += 1
    for d in range(1 << top):
        count[d + 1] += count[d]
    order = np.empty(m, np.int64)
    for i in range(m):
        d = values[i] >> shift
        order[count[d]] = i
        count[d] += 1
    for i in range(1, m):  # strict comparison: equal values keep their order
        x = order[i]
        v = values[x]
        j = i - 1
        while j >= 0 and values[order[j]] > v:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = x
    return order


@njit(parallel=True, cache=True)
def _expand(day_start_us, bucket_us, counts, bucket_first, row_keys, first_bucket, row_zone, virtual_share, site_group,
            site_prob, site_alias, site_offsets, site_item, edge_group, edge_prob, edge_alias, edge_offsets,
            edge_item, edge_zone, settlement_zone, tz_offsets, tz_starts_us, tz_offset_s,
            ts_utc, row_out, bucket_out, site_out, edge_out, zone_out, offset_out, settle_out):
    rows, n_buckets = counts.shape
    bits = np.int64(math.ceil(math.log2(bucket_us)))
    for b in prange(n_buckets):
        # Buckets are disjoint in time, so sorting each bucket's arrivals sorts the day; the day's
        # arrivals are laid out bucket by bucket and every bucket is one thread's from start to end.
        # Arrivals are routed in row order (each row's tables stay in cache), then permuted.
        lo, m = bucket_first[b], bucket_first[b + 1] - bucket_first[b]
        t = np.empty(m, np.int64)
        who = np.empty(m, np.int32)
        site = np.empty(m, np.uint64)
        edge = np.empty(m, np.int64)
        clock = np.empty(m, np.int32)
        offset = np.empty(m, np.int32)
        settle = np.empty(m, np.int32)
        t0 = day_start_us + b * bucket_us
        j = 0
        for r in range(rows):
            n = counts[r, b]
            if n == 0:
                continue
            key = fold_id(row_keys[r], np.uint64(first_bucket + b), np.uint64(4))
            share = virtual_share[r]
            for k in range(n):
                w = stream_block(key, ARRIVAL_BLOCK + np.uint64(k))
                dt_us = np.int64(np.float64(w[0]) * _TO_UNIT * bucket_us)  # µs-uniform in the bucket
                ti = t0 + dt_us
                online = share >= 1.0 or (share > 0.0 and (np.float64(w[2]) + 0.5) * _TO_UNIT < share)
                if online and edge_group[r] >= 0:
                    e = np.int64(pick_item(edge_prob, edge_alias, edge_offsets, edge_item, edge_group[r],
                                           (np.float64(w[3]) + 0.5) * _TO_UNIT))
                    site[j] = 0
                    edge[j] = e
                    zone = edge_zone[e]
                    settle[j] = tz_offset_s[offset_period(tz_starts_us, tz_offsets, settlement_zone[r], ti)]
                else:
                    site[j] = pick_item(site_prob, site_alias, site_offsets, site_item, site_group[r],
                                        (np.float64(w[1]) + 0.5) * _TO_UNIT)
                    edge[j] = -1
                    zone = row_zone[r]
                    settle[j] = 0
                t[j] = dt_us
                who[j] = r
                clock[j] = zone
                offset[j] = tz_offset_s[offset_period(tz_starts_us, tz_offsets, zone, ti)]
                j += 1
        order = _stable_order(t, bits)  # ties keep (row, k) order
        for q in range(m):
            s, i = order[q], lo + q
            ts_utc[i] = t0 + t[s]
            row_out[i] = who[s]
            bucket_out[i] = b
            site_out[i] = site[s]
            edge_out[i] = edge[s]
            zone_out[i] = clock[s]
            offset_out[i] = offset[s]
            settle_out[i] = settle[s]


def expand_arrivals(day_start_utc_us: int, bucket_minutes: int, counts: np.ndarray, row_keys: np.ndarray,
                    first_bucket: int, row_zone: np.ndarray, virtual_share: np.ndarray, site_group: np.ndarray,
                    sites, edge_group: np.ndarray, edges, edge_zone: np.ndarray, settlement_zone: np.ndarray,
                    table) -> Arrivals:
    """Every arrival of the day's counts, sorted by time: a µs-uniform time in its bucket; a site
    of the row's (merchant, zone) alias table, or for the virtual share an edge of the merchant's
    edge table (hybrid: a coin with p = virtual_share); the UTC offset of its clock (the site's
    zone or the edge's), and of the settlement zone for edge arrivals. Arrivals at the same µs
    keep (row, k) order. `sites` and `edges` are RoutingTables (edges' items index edge_zone);
    `table` the Transitions of every zone."""
    counts = np.ascontiguousarray(counts, np.int32)
    bucket_first = np.concatenate(([0], np.cumsum(counts.sum(axis=0, dtype=np.int64))))
    out = Arrivals(int(bucket_first[-1]))
    with parallel_chunksize(1):  # buckets differ in size: hand them out one at a time
        _expand(np.int64(day_start_utc_us), np.int64(bucket_minutes * 60_000_000), counts, bucket_first,
                np.ascontiguousarray(row_keys, np.uint64), np.int64(first_bucket),
                np.ascontiguousarray(row_zone, np.int64), np.ascontiguousarray(virtual_share, np.float64),
                np.ascontiguousarray(site_group, np.int64), sites.prob, sites.alias, sites.offsets, sites.item,
                np.ascontiguousarray(edge_group, np.int64), edges.prob, edges.alias, edges.offsets, edges.item,
                np.ascontiguousarray(edge_zone, np.int64), np.ascontiguousarray(settlement_zone, np.int64),
                table.offsets, table.utc_start * 1_000_000, table.offset_seconds, out.ts_utc, out.row, out.bucket,
                out.site_id, out.edge, out.zone, out.offset_s, out.settlement_offset_s)
    return out


@njit(parallel=True, cache=True)
def _modulate(lam_5a, zone, day_start_us, bucket_us, first_day, gamma, latent_day, group, tz_offsets, tz_starts_us,
              tz_offset_s, out):
    rows, n_buckets = lam_5a.shape
    last = gamma.shape[1] - 1
    for r in prange(rows):
        for b in range(n_buckets):
            middle = day_start_us + b * bucket_us + bucket_us // 2
            local = middle + np.int64(tz_offset_s[offset_period(tz_starts_us, tz_offsets, zone[r], middle)]) * 1_000_000
            d = min(max(local // _DAY_US - first_day, 0), last)
            out[r, b] = lam_5a[r, b] * np.float64(gamma[r, d]) * np.float64(latent_day[b, group[r]])


def modulated_intensity(lam_5a: np.ndarray, day_start_utc_us: int, bucket_minutes: int, zone: np.ndarray, table,
                        gamma: np.ndarray, first_day_utc_us: int, latent_day: np.ndarray,
                        group: np.ndarray) -> np.ndarray:
    """float64[rows, buckets]: λ₅ₐ × γ × ξ. γ[row, d] is the row's day effect of horizon day d,
    taken for the local day at each bucket's middle in the row's zone (clamped to the horizon);
    ξ = latent_day[bucket, group[row]] the burst factor of the row's group."""
    lam_5a = np.ascontiguousarray(lam_5a, np.float64)
    if gamma.shape[0] != lam_5a.shape[0] or latent_day.shape[0] != lam_5a.shape[1]:
        raise ValueError("gamma needs a row per λ row and latent_day a bucket per λ bucket")
    out = np.empty(lam_5a.shape)
    _modulate(lam_5a, np.ascontiguousarray(zone, np.int64), np.int64(day_start_utc_us),
              np.int64(bucket_minutes * 60_000_000), np.int64(first_day_utc_us // _DAY_US),
              np.ascontiguousarray(gamma), np.ascontiguousarray(latent_day), np.ascontiguousarray(group, np.int64),
              table.offsets, table.utc_start * 1_000_000, table.offset_seconds, out)
    return out


@njit(parallel=True, cache=True)
def _row_columns(row, edge, merchant, attributes, edge_id, merchant_out, attributes_out, edge_id_out):
    for i in prange(row.size):
        r = row[i]
        merchant_out[i] = merchant[r]
        for a in range(attributes.shape[0]):
            attributes_out[a, i] = attributes[a, r]
        edge_id_out[i] = edge_id[edge[i]] if edge[i] >= 0 else 0


def row_columns(arrivals: Arrivals, merchant: np.ndarray, attributes: np.ndarray,
                edge_id: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per arrival: its row's merchant (uint64), its row's int32 attributes[a, row] as [a, arrival],
    and the edge id of its edge (0 for a site): one parallel pass instead of a gather per column."""
    n = arrivals.row.size
    merchant_out = np.empty(n, np.uint64)
    attributes = np.ascontiguousarray(attributes, np.int32)
    attributes_out = np.empty((attributes.shape[0], n), np.int32)
    edge_id_out = np.empty(n, np.uint64)
    _row_columns(arrivals.row, arrivals.edge, np.ascontiguousarray(merchant, np.uint64), attributes,
                 np.ascontiguousarray(edge_id, np.uint64), merchant_out, attributes_out, edge_id_out)
    return merchant_out, attributes_out, edge_id_out
