"""Keyed samplers drawing from Philox substreams.

Scalar samplers are numba functions that take a stream state (see
`engine_kernels.randomness.streams`) and consume its words only through next_u32 /
next_uniform / next_double, so `words_used` accounts for every draw exactly.
The vectorised wrappers give each unit its own substream key: unit i reads
stream keys[i] from block `counter`, so its value is independent of every
other unit and of how units are spread over threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine_kernels.randomness.streams import STATE_SIZE, as_u64, next_double, seed_state, words_used
from engine_kernels.tables.alias import as_offsets

__all__ = [
    "dirichlet",
    "gamma",
    "gumbel_top_k",
    "log_gamma",
    "negative_binomial",
    "negative_binomial_by_inversion",
    "normal",
    "poisson",
    "sample_dirichlet",
    "sample_gamma",
    "sample_gumbel_top_k",
    "sample_negative_binomial",
    "sample_normal",
    "sample_poisson",
    "sample_zero_truncated_poisson",
    "zero_truncated_poisson",
]

_TWO_PI = 2.0 * math.pi
# Below this mean Poisson and zero-truncated Poisson use sequential inversion
# (expected lam + 1 steps); above it PTRS has a bounded expected cost.
_INVERSION_LIMIT = 10.0
# Largest mean accepted, keeping variates far inside int64.
_LAM_MAX = 1e15
# Units handled per work item: one state array is allocated per chunk
# rather than per unit.
_CHUNK = 512

_NORMAL, _GAMMA = 0, 1
_POISSON, _NEG_BINOMIAL, _ZT_POISSON = 0, 1, 2


# --------------------------------------------------------------------------
# Scalar samplers
# --------------------------------------------------------------------------


# Words of the stream one `normal` consumes (two doubles), for RNG accounting.
NORMAL_WORDS = 4


@njit(cache=True)
def normal(state):
    """Standard normal by Box–Muller: sqrt(-2 ln U1)·cos(2π U2).

    Always consumes four words (two doubles); the sine partner is discarded
    so that the word count per variate is fixed.
    """
    u1 = next_double(state)
    u2 = next_double(state)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True)
def _gamma_ge1(state, shape):
    # Marsaglia & Tsang (2000): with d = shape - 1/3, c = 1/sqrt(9d) and
    # X ~ N(0,1), V = (1 + cX)^3, accept d·V when
    # ln U < X²/2 + d(1 - V + ln V); the squeeze U < 1 - 0.0331·X⁴ accepts
    # most proposals without a logarithm.
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = normal(state)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = next_double(state)
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:
            return d * v
        if math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v


@njit(cache=True)
def gamma(state, shape):
    """Gamma(shape, 1) variate, shape > 0.

    For shape < 1 uses G·U^(1/shape) with G ~ Gamma(shape + 1), which is
    Gamma(shape) distributed (Marsaglia & Tsang's boost).
    """
    if shape >= 1.0:
        return _gamma_ge1(state, shape)
    g = _gamma_ge1(state, shape + 1.0)
    return g * math.exp(math.log(next_double(state)) / shape)


@njit(cache=True)
def log_gamma(state, shape):
    """ln of a Gamma(shape, 1) variate, finite even when the variate underflows.

    For shape < 1: ln G(shape + 1) + ln(U)/shape.  U^(1/shape) underflows to
    0 for tiny shapes, its logarithm does not.  Consumes exactly the words
    that gamma(state, shape) would.
    """
    if shape >= 1.0:
        return math.log(_gamma_ge1(state, shape))
    g = _gamma_ge1(state, shape + 1.0)
    return math.log(g) + math.log(next_double(state)) / shape


@njit(cache=True)
def _walk_poisson_cdf(u, k, p, lam):
    # Smallest k' >= k whose cumulative mass from k reaches u, where p is the
    # probability of k and each next term is p·lam/k'.  Once further terms no
    # longer change the running sum, u sits in the rounding gap below 1 and
    # the current k' is the answer.
    s = p
    while u > s:
        k += 1
        p *= lam / k
        s_next = s + p
        if s_next == s:
            break
        s = s_next
    return k


@njit(cache=True)
def _poisson_inversion(state, lam):
    return _walk_poisson_cdf(next_double(state), 0, math.exp(-lam), lam)


@njit(cache=True)
def _poisson_ptrs(state, lam):
    # Hörmann (1993), "The transformed rejection method for generating
    # Poisson random variables", algorithm PTRS, valid for lam >= 10.
    slam = math.sqrt(lam)
    log_lam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = next_double(state) - 0.5
        v = next_double(state)
        us = 0.5 - abs(u)
        # np.floor keeps k a float: for us near 0 the value can exceed int64.
        k = np.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= v_r:
            return np.int64(k)
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if math.log(v * inv_alpha / (a / (us * us) + b)) <= -lam + k * log_lam - math.lgamma(k + 1.0):
            return np.int64(k)


@njit(cache=True)
def poisson(state, lam):
    """Poisson(lam) variate, lam >= 0: inversion below 10, PTRS from 10 up."""
    if lam < _INVERSION_LIMIT:
        return np.int64(_poisson_inversion(state, lam))
    return _poisson_ptrs(state, lam)


@njit(cache=True)
def negative_binomial(state, mean, phi):
    """NB2 variate as a Gamma–Poisson mixture.

    G ~ Gamma(phi, 1), K | G ~ Poisson(mean·G/phi), so E K = mean and
    Var K = mean + mean²/phi.
    """
    g = gamma(state, phi)
    return poisson(state, mean * g / phi)


@njit(cache=True)
def negative_binomial_by_inversion(state, mean, phi):
    """NB2 variate with E K = mean and Var K = mean + mean²/phi, for hot loops of small means.

    Below mean 10 one double inverts the pmf walked from P(0) = (phi / (phi + mean))^phi with
    P(k + 1) / P(k) = (k + phi) / (k + 1) · mean / (phi + mean): about mean + 1 steps, against
    a Gamma and a Poisson variate for the mixture, which is used from 10 up.
    """
    if mean >= _INVERSION_LIMIT:
        return negative_binomial(state, mean, phi)
    u = next_double(state)
    q = mean / (phi + mean)
    p = math.exp(-phi * math.log1p(mean / phi))
    s = p
    k = 0
    while u > s:
        p *= (k + phi) / (k + 1.0) * q
        k += 1
        s_next = s + p
        if s_next == s:  # u sits in the rounding gap below 1
            break
        s = s_next
    return np.int64(k)


@njit(cache=True)
def zero_truncated_poisson(state, lam):
    """Poisson(lam) conditioned on K >= 1, lam > 0.

    P(K = k) = lam^k e^-lam / (k! (1 - e^-lam)), k >= 1.  Below 10 the
    truncated CDF is inverted directly, starting from
    P(K = 1) = lam / (e^lam - 1); from 10 up P(K = 0) < 5e-5, so plain
    Poisson draws with zeros rejected cost almost nothing extra.
    """
    if lam < _INVERSION_LIMIT:
        # P(K = 1 | K > 0) = lam·e^-lam / (1 − e^-lam) = lam / expm1(lam)
        return np.int64(_walk_poisson_cdf(next_double(state), 1, lam / math.expm1(lam), lam))
    while True:
        k = _poisson_ptrs(state, lam)
        if k > 0:
            return k


@njit(cache=True)
def dirichlet(state, alpha, out):
    """Dirichlet(alpha) variate written into out (same length as alpha).

    With L_i = ln G_i, G_i ~ Gamma(alpha_i), x_i = exp(L_i - max L) / Σ_j exp(L_j - max L),
    which equals G_i / Σ G_j but cannot underflow to an all-zero vector:
    the largest component contributes exactly 1 to the denominator.
    """
    top = -np.inf
    for i in range(alpha.shape[0]):
        out[i] = log_gamma(state, alpha[i])
        top = max(top, out[i])
    total = 0.0
    for i in range(alpha.shape[0]):
        out[i] = math.exp(out[i] - top)
        total += out[i]
    for i in range(alpha.shape[0]):
        out[i] /= total


@njit(cache=True)
def gumbel_top_k(state, log_weights, k, out_idx):
    """Weighted sampling of k distinct indices without replacement.

    Each candidate i gets the key ln w_i - ln(-ln U_i) (a Gumbel perturbation,
    one double per candidate, consumed for every candidate so the word count
    is 2·len); the indices of the k largest keys, in decreasing key order,
    are a successive-sampling draw with probabilities proportional to w.
    Candidates with ln w = -inf are never chosen; equal keys go to the lower
    index.  Writes the indices into out_idx[:s] and returns
    s = min(k, number of finite log-weights).
    """
    n = log_weights.shape[0]
    neg_keys = np.empty(n, np.float64)
    finite = 0
    for i in range(n):
        u = next_double(state)
        if log_weights[i] == -np.inf:
            neg_keys[i] = np.inf
        else:
            neg_keys[i] = math.log(-math.log(u)) - log_weights[i]
            finite += 1
    selected = min(k, finite)
    # A stable sort of the negated keys puts equal keys in index order.
    order = np.argsort(neg_keys, kind="mergesort")
    for j in range(selected):
        out_idx[j] = order[j]
    return selected


# --------------------------------------------------------------------------
# Vectorised kernels (parallel over chunks of units)
# --------------------------------------------------------------------------


@njit(cache=True, parallel=True)
def _continuous_kernel(keys, param, kind, counter, out, words_out):
    n = keys.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        state = np.empty(STATE_SIZE, np.uint64)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            seed_state(state, keys[i], counter)
            if kind == _NORMAL:
                out[i] = normal(state)
            else:
                out[i] = gamma(state, param[i])
            if words_out.shape[0] > 0:
                words_out[i] = words_used(state)


@njit(cache=True, parallel=True)
def _discrete_kernel(keys, p1, p2, kind, counter, out, words_out):
    n = keys.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        state = np.empty(STATE_SIZE, np.uint64)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            seed_state(state, keys[i], counter)
            if kind == _POISSON:
                out[i] = poisson(state, p1[i])
            elif kind == _NEG_BINOMIAL:
                out[i] = negative_binomial(state, p1[i], p2[i])
            else:
                out[i] = zero_truncated_poisson(state, p1[i])
            if words_out.shape[0] > 0:
                words_out[i] = words_used(state)


@njit(cache=True, parallel=True)
def _dirichlet_kernel(keys, alpha, offsets, counter, out, words_out):
    n = keys.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        state = np.empty(STATE_SIZE, np.uint64)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            seed_state(state, keys[i], counter)
            lo, hi = offsets[i], offsets[i + 1]
            dirichlet(state, alpha[lo:hi], out[lo:hi])
            if words_out.shape[0] > 0:
                words_out[i] = words_used(state)


@njit(cache=True, parallel=True)
def _gumbel_kernel(keys, log_weights, offsets, k, out_offsets, counter, out, words_out):
    n = keys.shape[0]
    for c in prange((n + _CHUNK - 1) // _CHUNK):
        state = np.empty(STATE_SIZE, np.uint64)
        for i in range(c * _CHUNK, min(n, (c + 1) * _CHUNK)):
            seed_state(state, keys[i], counter)
            gumbel_top_k(
                state, log_weights[offsets[i] : offsets[i + 1]], k[i], out[out_offsets[i] : out_offsets[i + 1]]
            )
            if words_out.shape[0] > 0:
                words_out[i] = words_used(state)


# --------------------------------------------------------------------------
# Boundary validation
# --------------------------------------------------------------------------


def _as_keys(keys) -> np.ndarray:
    keys = np.asarray(keys)
    if keys.ndim != 1 or keys.dtype != np.uint64:
        raise ValueError(f"keys must be a 1-D uint64 array, got {keys.dtype}{list(keys.shape)}")
    return np.ascontiguousarray(keys)


def _as_param(value, n: int, name: str, ok, rule: str, dtype=np.float64) -> np.ndarray:
    """Broadcast a scalar or per-unit parameter to a contiguous array[n] and check ok(x)."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = np.full(n, arr, dtype=dtype)
    elif arr.shape == (n,):
        arr = np.ascontiguousarray(arr, dtype=dtype)
    else:
        raise ValueError(f"{name} must be a scalar or have shape ({n},), got shape {arr.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~ok(arr)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"{name} must be {rule}: {int(bad.sum())} of {n} values are not "
            f"(first: {arr[first]!r} at index {first})"
        )
    return arr


def _as_flat(values, name: str, ok, rule: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {arr.shape}")
    return _as_param(arr, arr.shape[0], name, ok, rule)


def _words_buffer(words_out, n: int) -> np.ndarray:
    if words_out is None:
        return np.empty(0, np.int64)
    if not isinstance(words_out, np.ndarray) or words_out.dtype != np.int64 or words_out.shape != (n,):
        raise ValueError(f"words_out must be an int64 array of shape ({n},)")
    if not words_out.flags.c_contiguous or not words_out.flags.writeable:
        raise ValueError("words_out must be a writeable contiguous array")
    return words_out


def _counter(value) -> np.uint64:
    return np.uint64(as_u64(value, "counter"))


def _positive(x):
    return np.isfinite(x) & (x > 0.0)


def _non_negative(x):
    return np.isfinite(x) & (x >= 0.0)


def _mean_like(x):
    return np.isfinite(x) & (x >= 0.0) & (x <= _LAM_MAX)


def _positive_mean(x):
    return _mean_like(x) & (x > 0.0)


# --------------------------------------------------------------------------
# Vectorised, keyed samplers
# --------------------------------------------------------------------------
# Each takes keys: uint64[n] (one substream per unit), an optional block
# offset `counter` applied to every unit, and an optional int64[n]
# `words_out` that receives the number of 32-bit words each unit consumed.


def sample_normal(keys, counter: int = 0, words_out: np.ndarray | None = None) -> np.ndarray:
    """float64[n] standard normals; every unit consumes 4 words."""
    keys = _as_keys(keys)
    n = keys.shape[0]
    out = np.empty(n, np.float64)
    _continuous_kernel(keys, np.empty(0), _NORMAL, _counter(counter), out, _words_buffer(words_out, n))
    return out


def sample_gamma(keys, shape, counter: int = 0, words_out: np.ndarray | None = None) -> np.ndarray:
    """float64[n] Gamma(shape, 1) variates; shape is a scalar or float[n], > 0."""
    keys = _as_keys(keys)
    n = keys.shape[0]
    shape = _as_param(shape, n, "shape", _positive, "finite and > 0")
    out = np.empty(n, np.float64)
    _continuous_kernel(keys, shape, _GAMMA, _counter(counter), out, _words_buffer(words_out, n))
    return out


def _discrete(keys, p1, p2, kind, counter, words_out) -> np.ndarray:
    n = keys.shape[0]
    out = np.empty(n, np.int64)
    _discrete_kernel(keys, p1, p2, kind, _counter(counter), out, _words_buffer(words_out, n))
    return out


def sample_poisson(keys, lam, counter: int = 0, words_out: np.ndarray | None = None) -> np.ndarray:
    """int64[n] Poisson(lam) variates; lam is a scalar or float[n] in [0, 1e15]."""
    keys = _as_keys(keys)
    lam = _as_param(lam, keys.shape[0], "lam", _mean_like, "finite and in [0, 1e15]")
    return _discrete(keys, lam, lam, _POISSON, counter, words_out)


def sample_negative_binomial(keys, mean, phi, counter: int = 0, words_out: np.ndarray | None = None) -> np.ndarray:
    """int64[n] NB2(mean, phi) variates: variance mean + mean²/phi.

    mean in [0, 1e15] and phi > 0, each a scalar or float[n].
    """
    keys = _as_keys(keys)
    n = keys.shape[0]
    mean = _as_param(mean, n, "mean", _mean_like, "finite and in [0, 1e15]")
    phi = _as_param(phi, n, "phi", _positive, "finite and > 0")
    return _discrete(keys, mean, phi, _NEG_BINOMIAL, counter, words_out)


def sample_zero_truncated_poisson(keys, lam, counter: int = 0, words_out: np.ndarray | None = None) -> np.ndarray:
    """int64[n] Poisson(lam) variates conditioned on >= 1; lam in (0, 1e15]."""
    keys = _as_keys(keys)
    lam = _as_param(lam, keys.shape[0], "lam", _positive_mean, "finite and in (0, 1e15]")
    return _discrete(keys, lam, lam, _ZT_POISSON, counter, words_out)


def sample_dirichlet(keys, alpha_flat, offsets, counter: int = 0, words_out: np.ndarray | None = None) -> np.ndarray:
    """Ragged Dirichlet draws: unit i samples Dirichlet(alpha_flat[offsets[i]:offsets[i+1]]).

    Returns float64 with the layout of alpha_flat; each unit's slice sums
    to 1.  Every alpha must be finite and > 0 and every unit non-empty.
    """
    keys = _as_keys(keys)
    n = keys.shape[0]
    alpha = _as_flat(alpha_flat, "alpha_flat", _positive, "finite and > 0")
    offsets = as_offsets(offsets, n, alpha.shape[0], "offsets")
    empty = np.flatnonzero(np.diff(offsets) == 0)
    if empty.size:
        raise ValueError(f"offsets: {empty.size} units have no categories (first: unit {int(empty[0])})")
    out = np.empty_like(alpha)
    _dirichlet_kernel(keys, alpha, offsets, _counter(counter), out, _words_buffer(words_out, n))
    return out


def sample_gumbel_top_k(
    keys, weights_flat, offsets, k, counter: int = 0, words_out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Ragged weighted sampling without replacement (Gumbel top-k).

    Unit i picks min(k_i, number of positive weights) distinct positions of
    weights_flat[offsets[i]:offsets[i+1]] with successive probabilities
    proportional to the weights; zero weights are never picked.  k is a
    non-negative scalar or int[n].  Returns (idx, idx_offsets): unit i's
    picks are idx[idx_offsets[i]:idx_offsets[i+1]], as positions within
    the unit's slice, in draw order.  Each unit consumes 2 words per
    candidate.
    """
    keys = _as_keys(keys)
    n = keys.shape[0]
    weights = _as_flat(weights_flat, "weights_flat", _non_negative, "finite and >= 0")
    offsets = as_offsets(offsets, n, weights.shape[0], "offsets")
    if np.asarray(k).dtype.kind not in "iu":
        raise ValueError(f"k must be an integer scalar or int[{n}], got {k!r}")
    k_arr = _as_param(k, n, "k", lambda x: x >= 0, ">= 0", dtype=np.int64)
    positive = np.concatenate(([0], np.cumsum(weights > 0.0)))
    counts = np.minimum(k_arr, positive[offsets[1:]] - positive[offsets[:-1]])
    out_offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    with np.errstate(divide="ignore"):
        log_weights = np.log(weights)
    out = np.empty(out_offsets[-1], np.int64)
    words = _words_buffer(words_out, n)
    _gumbel_kernel(keys, log_weights, offsets, k_arr, out_offsets, _counter(counter), out, words)
    return out, out_offsets
