"""The one allocator of segment 6A: how many accounts, instruments or devices each owner holds.

Owners are grouped in cells (a country × segment × party type, say), each with a whole number of
items T to hand out. Within a cell:

1. eligibility (zero inflation): owner i is eligible when its keyed uniform u_i < p; the others
   hold nothing, whatever T;
2. floor: every eligible owner first gets `floor` items (so every retail party holds an account),
   as far as T allows;
3. propensity: the rest is shared in proportion to a mean-one log-normal weight
   w_i = exp(σ z_i − σ²/2), z_i a keyed standard normal, by largest remainder, so the cell holds
   exactly T (engine_kernels/tables/integerise.py). When the rest is under one item per owner,
   it goes to the highest weights, so σ shapes the tail (who holds two or more), not the mean;
4. cap: no owner holds more than `cap`. What a capped owner would have held beyond it goes to the
   eligible owners below the cap, again by largest remainder over their weights, until nothing is
   over it. When every eligible owner is full, the rest is left unplaced and reported: the cap is
   never loosened to place it.

The draws come in as arrays (u and z per owner), so the kernel is a pure function of its inputs and
a cell computed alone equals the same cell inside any batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from engine_kernels.tables.alias import as_offsets
from engine_kernels.tables.integerise import largest_remainder_into

__all__ = ["Allocation", "allocate"]


@dataclass(frozen=True)
class Allocation:
    counts: np.ndarray  # int64 per owner
    unplaced: np.ndarray  # int64 per cell: items the caps left without an owner


@njit(cache=True)
def _share_below_cap(weight, counts, cap, total):
    """Add `total` items to the owners with weight > 0, by largest remainder over their weights,
    moving anything above `cap` on to the owners still below it; returns what could not be placed."""
    open_ = weight > 0.0
    left = total
    while left > 0:
        idx = np.flatnonzero(open_)
        if idx.shape[0] == 0:
            return left
        add = np.empty(idx.shape[0], np.int64)
        largest_remainder_into(weight[idx], left, add)
        left = 0
        for j in range(idx.shape[0]):
            i = idx[j]
            counts[i] += add[j]
            if counts[i] >= cap:
                left += counts[i] - cap
                counts[i] = cap
                open_[i] = False
    return 0


# nogil: the entity world publishes one country on a writer thread while it allocates the next.
@njit(cache=True, parallel=True, nogil=True)
def _allocate(offsets, totals, u, z, p, sigma, floor, cap, counts, unplaced):
    for c in prange(offsets.shape[0] - 1):
        lo, hi = offsets[c], offsets[c + 1]
        n = hi - lo
        weight = np.zeros(n, np.float64)
        eligible = 0
        for k in range(n):
            if u[lo + k] < p[c]:
                weight[k] = np.exp(sigma[c] * z[lo + k] - 0.5 * sigma[c] * sigma[c])
                eligible += 1
        mine = np.zeros(n, np.int64)
        left = totals[c]
        if eligible > 0:
            base = min(floor[c], cap[c], left // eligible)
            for k in range(n):
                if weight[k] > 0.0:
                    mine[k] = base
            left -= base * eligible
            if base >= cap[c]:
                weight[:] = 0.0  # everyone is full already
            left = _share_below_cap(weight, mine, cap[c], left)
        unplaced[c] = left
        counts[lo:hi] = mine


def _per_cell(values, n_cells: int, name: str, dtype) -> np.ndarray:
    arr = np.asarray(values, dtype=dtype)
    arr = np.full(n_cells, arr, dtype) if arr.ndim == 0 else arr
    if arr.shape != (n_cells,):
        raise ValueError(f"{name} must be a scalar or one value per cell ({n_cells}), got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def allocate(offsets: np.ndarray, totals: np.ndarray, u: np.ndarray, z: np.ndarray, p_eligible, sigma,
             floor=0, cap=np.iinfo(np.int64).max) -> Allocation:
    """Items per owner: cell c holds owners offsets[c]:offsets[c+1] and totals[c] items.

    `u` (uniforms in [0, 1)) and `z` (standard normals) are the owners' keyed draws; `p_eligible`,
    `sigma`, `floor` and `cap` are scalars or one value per cell.
    """
    totals = np.asarray(totals)
    if totals.ndim != 1 or totals.dtype.kind not in "iu" or (totals < 0).any():
        raise ValueError("totals must be a 1-D array of non-negative integers, one per cell")
    n_cells = totals.shape[0]
    u = np.ascontiguousarray(u, np.float64)
    z = np.ascontiguousarray(z, np.float64)
    offsets = as_offsets(offsets, n_cells, u.shape[0])
    if z.shape != u.shape:
        raise ValueError(f"u and z need one draw per owner: {u.shape} and {z.shape}")
    p = _per_cell(p_eligible, n_cells, "p_eligible", np.float64)
    s = _per_cell(sigma, n_cells, "sigma", np.float64)
    f = _per_cell(floor, n_cells, "floor", np.int64)
    k = _per_cell(cap, n_cells, "cap", np.int64)
    if ((p < 0) | (p > 1)).any() or (s < 0).any() or (f < 0).any() or (k < 1).any():
        raise ValueError("p_eligible must lie in [0, 1], sigma and floor be >= 0 and cap >= 1")
    counts = np.empty(u.shape[0], np.int64)
    unplaced = np.empty(n_cells, np.int64)
    _allocate(offsets, np.ascontiguousarray(totals, np.int64), u, z, p, s, f, k, counts, unplaced)
    return Allocation(counts, unplaced)
