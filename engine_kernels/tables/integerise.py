"""Largest-remainder (Hamilton) integerisation of shares into whole units.

For shares s_1..s_k (not all zero) and a total T, the quota of i is
q_i = T·s_i / Σ s.  Each i first gets floor(q_i); the R = T - Σ floor(q_i)
units left over (0 <= R <= k) go one each to the R largest fractional
remainders q_i - floor(q_i), equal remainders going to the lower index.
The result sums to T exactly and never moves an entry by a whole unit away
from its quota.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .alias import as_offsets

__all__ = ["largest_remainder", "largest_remainder_groups", "largest_remainder_into"]

# Quotas are computed in float64; with T·(k + 2) below 2^52 the rounding in
# Σ q_i stays under one unit, which is what guarantees 0 <= R <= k.
_PRECISION_LIMIT = 2**52


@njit(cache=True)
def _largest_remainder_into(shares, total, out):
    k = shares.shape[0]
    # Dividing by the largest share first keeps Σ finite for huge shares and
    # makes the result exactly invariant to rescaling by powers of two.
    top = shares.max()
    norm = 0.0
    for i in range(k):
        norm += shares[i] / top
    remainders = np.empty(k, np.float64)
    assigned = 0
    for i in range(k):
        quota = total * (shares[i] / top) / norm
        whole = math.floor(quota)
        out[i] = whole
        remainders[i] = quota - whole
        assigned += whole
    left = total - assigned
    if left <= 0:
        return
    if left >= k:
        for i in range(k):
            out[i] += 1
        return
    # The `left` largest remainders, ties to the lower index, found in linear time: every
    # remainder above the left-th largest value v gets a unit, then the first ones equal to v
    # take the rest (the same units as a stable sort of the negated remainders would give).
    v = np.partition(remainders, k - left)[k - left]
    need = left
    for i in range(k):
        if remainders[i] > v:
            out[i] += 1
            need -= 1
    for i in range(k):
        if need == 0:
            break
        if remainders[i] == v:
            out[i] += 1
            need -= 1


# Numba-callable for kernels that integerise inside their own loops (no argument checks).
largest_remainder_into = _largest_remainder_into


@njit(cache=True, parallel=True)
def _groups_kernel(shares, offsets, totals, out):
    for g in prange(offsets.shape[0] - 1):
        lo, hi = offsets[g], offsets[g + 1]
        _largest_remainder_into(shares[lo:hi], totals[g], out[lo:hi])


def _as_shares(shares) -> np.ndarray:
    arr = np.asarray(shares)
    if arr.ndim != 1 or arr.dtype.kind not in "iuf":
        raise ValueError(f"shares must be a 1-D numeric array, got {arr.dtype}{list(arr.shape)}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~(np.isfinite(arr) & (arr >= 0.0))
    if bad.any():
        first = int(np.argmax(bad))
        raise ValueError(
            f"shares must be finite and >= 0: {int(bad.sum())} values are not (first: {arr[first]!r} at index {first})"
        )
    return arr


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Split the integer `total` into int64[k] proportional to `shares` (largest remainder).

    shares must be finite, >= 0 and not all zero; total a non-negative
    integer with total·(k + 2) < 2^52.
    """
    arr = _as_shares(shares)
    if not (arr > 0.0).any():
        raise ValueError(f"shares must not be all zero (got {arr.shape[0]} entries)")
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < 0:
        raise ValueError(f"total must be a non-negative integer, got {total!r}")
    if int(total) * (arr.shape[0] + 2) >= _PRECISION_LIMIT:
        raise ValueError(f"total={total} is too large for {arr.shape[0]} shares: total·(k + 2) must be < 2^52")
    out = np.empty(arr.shape[0], np.int64)
    _largest_remainder_into(arr, np.int64(total), out)
    return out


def largest_remainder_groups(shares_flat: np.ndarray, offsets: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Batched largest_remainder: group g splits totals[g] over shares_flat[offsets[g]:offsets[g+1]].

    Returns int64 with the layout of shares_flat.  Every group must have a
    positive share; the result of each group equals largest_remainder on
    that group alone.
    """
    arr = _as_shares(shares_flat)
    totals = np.asarray(totals)
    if totals.ndim != 1 or totals.dtype.kind not in "iu":
        raise ValueError(f"totals must be a 1-D integer array, got {totals.dtype}{list(totals.shape)}")
    totals = np.ascontiguousarray(totals, dtype=np.int64)
    offsets = as_offsets(offsets, totals.shape[0], arr.shape[0])
    sizes = np.diff(offsets)
    positive = np.concatenate(([0], np.cumsum(arr > 0.0)))
    bad = np.flatnonzero(positive[offsets[1:]] == positive[offsets[:-1]])
    if bad.size:
        raise ValueError(f"shares of group {int(bad[0])} are all zero ({bad.size} such groups)")
    bad = np.flatnonzero(totals < 0)
    if bad.size:
        raise ValueError(f"totals must be >= 0: {bad.size} are not (first: {totals[bad[0]]} in group {int(bad[0])})")
    bad = np.flatnonzero(totals.astype(np.float64) * (sizes + 2) >= _PRECISION_LIMIT)
    if bad.size:
        raise ValueError(f"totals[{int(bad[0])}]={totals[bad[0]]} is too large: total·(k + 2) must be < 2^52")
    out = np.empty(arr.shape[0], np.int64)
    _groups_kernel(arr, offsets, totals, out)
    return out
