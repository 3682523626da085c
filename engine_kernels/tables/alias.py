"""Walker alias tables (Vose's construction) for many small categorical laws.

A table for weights w_0..w_{L-1} stores, per column j, a threshold prob[j]
and an alias alias[j] such that picking a column uniformly and then keeping
j with probability prob[j] (else taking alias[j]) returns i with probability

    P(i) = (prob[i] + Σ_{j: alias[j] = i} (1 - prob[j])) / L = w_i / Σ w.

Tables for many groups share flat arrays: group g owns positions
offsets[g]:offsets[g+1], and alias entries are indices local to the group.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = [
    "alias_pick",
    "alias_pick_many",
    "as_offsets",
    "build_alias_tables",
    "reconstruct_probabilities",
]


def as_offsets(offsets, groups: int | None, length: int, name: str = "offsets") -> np.ndarray:
    """Validate ragged-group offsets and return them as contiguous int64.

    Requires offsets[0] = 0, offsets[-1] = length, non-decreasing entries
    and, when `groups` is given, exactly groups + 1 entries.
    """
    arr = np.asarray(offsets)
    if arr.ndim != 1 or arr.dtype.kind not in "iu" or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D integer array, got {arr.dtype}{list(arr.shape)}")
    if groups is not None and arr.shape[0] != groups + 1:
        raise ValueError(f"{name} must have {groups + 1} entries, got {arr.shape[0]}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr[0] != 0 or arr[-1] != length:
        raise ValueError(f"{name} must start at 0 and end at {length}, got {arr[0]}..{arr[-1]}")
    decreasing = np.flatnonzero(np.diff(arr) < 0)
    if decreasing.size:
        raise ValueError(
            f"{name} must be non-decreasing; {decreasing.size} steps decrease (first at {int(decreasing[0])})"
        )
    return arr


@njit(cache=True)
def _build_one(w, prob, alias):
    n = w.shape[0]
    # Scaling by the largest weight keeps the sum finite for weights near the
    # float maximum and makes the table invariant to rescaling by powers of 2.
    top = w.max()
    total = 0.0
    for i in range(n):
        total += w[i] / top
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    n_small = 0
    n_large = 0
    for i in range(n):
        prob[i] = (w[i] / top) / total * n
        alias[i] = i
        if prob[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        lo = small[n_small]
        hi = large[n_large - 1]
        alias[lo] = hi
        # Vose: (p_hi + p_lo) - 1 loses less than p_hi - (1 - p_lo) when
        # p_lo is tiny.
        prob[hi] = (prob[hi] + prob[lo]) - 1.0
        if prob[hi] < 1.0:
            n_large -= 1
            small[n_small] = hi
            n_small += 1
    # Leftovers are columns whose residual mass is 1 up to rounding.  A
    # zero-weight column is never among them: while one is unpaired the
    # unpaired masses sum to their count, so some column still exceeds 1.
    for j in range(n_large):
        prob[large[j]] = 1.0
    for j in range(n_small):
        prob[small[j]] = 1.0


@njit(cache=True, parallel=True)
def _build_kernel(weights, offsets, prob, alias):
    for g in prange(offsets.shape[0] - 1):
        lo, hi = offsets[g], offsets[g + 1]
        _build_one(weights[lo:hi], prob[lo:hi], alias[lo:hi])


def build_alias_tables(weights: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Alias tables for every group g = weights[offsets[g]:offsets[g+1]].

    Weights must be finite and >= 0 with at least one positive weight per
    group; zero-weight entries are never picked.  Returns (prob: float64[m],
    alias: int32[m]) with alias indices local to each group.
    """
    weights = np.asarray(weights)
    if weights.ndim != 1 or weights.dtype.kind not in "iuf":
        raise ValueError(f"weights must be a 1-D numeric array, got {weights.dtype}{list(weights.shape)}")
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    offsets = as_offsets(offsets, None, weights.shape[0])
    invalid = np.concatenate(([0], np.cumsum(~(np.isfinite(weights) & (weights >= 0.0)))))
    positive = np.concatenate(([0], np.cumsum(weights > 0.0)))
    bad = (invalid[offsets[1:]] > invalid[offsets[:-1]]) | (positive[offsets[1:]] == positive[offsets[:-1]])
    if bad.any():
        groups = np.flatnonzero(bad)
        g = int(groups[0])
        raise ValueError(
            f"weights of group {g} must be finite, >= 0 and not all zero "
            f"({groups.size} bad groups; group {g} spans {offsets[g]}:{offsets[g + 1]})"
        )
    prob = np.empty(weights.shape[0], np.float64)
    alias = np.empty(weights.shape[0], np.int32)
    _build_kernel(weights, offsets, prob, alias)
    return prob, alias


@njit(cache=True)
def alias_pick(prob, alias, start, length, u):
    """Index (local to the group) drawn from the table at prob/alias[start:start+length].

    One uniform u in [0, 1) gives both decisions: the column is
    floor(u·length) and the fractional part of u·length, itself uniform and
    independent of the column, is compared with the column's threshold.
    fl(u·length) < length for every double u < 1, so the column is in range.
    """
    x = u * length
    column = np.int64(x)
    if x - column < prob[start + column]:
        return column
    return np.int64(alias[start + column])


@njit(cache=True, parallel=True)
def _pick_kernel(prob, alias, offsets, groups, u):
    n = groups.shape[0]
    out = np.empty(n, np.int64)
    for i in prange(n):
        g = groups[i]
        out[i] = alias_pick(prob, alias, offsets[g], offsets[g + 1] - offsets[g], u[i])
    return out


def alias_pick_many(prob, alias, offsets, groups, u) -> np.ndarray:
    """out[i] = alias_pick on table groups[i] with uniform u[i]; local indices, int64[n]."""
    prob = np.ascontiguousarray(prob, dtype=np.float64)
    alias = np.ascontiguousarray(alias, dtype=np.int32)
    if prob.shape != alias.shape or prob.ndim != 1:
        raise ValueError(f"prob and alias must be 1-D of equal length, got {prob.shape} and {alias.shape}")
    offsets = as_offsets(offsets, None, prob.shape[0])
    groups = np.ascontiguousarray(groups, dtype=np.int64)
    u = np.ascontiguousarray(u, dtype=np.float64)
    if groups.ndim != 1 or groups.shape != u.shape:
        raise ValueError(f"groups and u must be 1-D of equal length, got {groups.shape} and {u.shape}")
    n_groups = offsets.shape[0] - 1
    bad = (groups < 0) | (groups >= n_groups)
    if bad.any():
        raise ValueError(f"groups must be in [0, {n_groups}); {int(bad.sum())} are not (first: {groups[bad][0]})")
    empty = np.diff(offsets)[groups] == 0
    if empty.any():
        raise ValueError(f"groups: {int(empty.sum())} picks refer to an empty group (first: {groups[empty][0]})")
    bad = ~((u >= 0.0) & (u < 1.0))
    if bad.any():
        raise ValueError(f"u must be in [0, 1); {int(bad.sum())} values are not (first: {u[bad][0]!r})")
    return _pick_kernel(prob, alias, offsets, groups, u)


@njit(cache=True, parallel=True)
def _reconstruct_kernel(prob, alias, offsets):
    out = np.zeros(prob.shape[0], np.float64)
    for g in prange(offsets.shape[0] - 1):
        lo, hi = offsets[g], offsets[g + 1]
        n = hi - lo
        for j in range(n):
            out[lo + j] += prob[lo + j] / n
            out[lo + alias[lo + j]] += (1.0 - prob[lo + j]) / n
    return out


def reconstruct_probabilities(prob, alias, offsets) -> np.ndarray:
    """Probabilities implied by alias tables: P(i) = (prob[i] + Σ_{alias[j]=i} (1 - prob[j])) / L."""
    prob = np.ascontiguousarray(prob, dtype=np.float64)
    alias = np.ascontiguousarray(alias, dtype=np.int32)
    if prob.shape != alias.shape or prob.ndim != 1:
        raise ValueError(f"prob and alias must be 1-D of equal length, got {prob.shape} and {alias.shape}")
    return _reconstruct_kernel(prob, alias, as_offsets(offsets, None, prob.shape[0]))
