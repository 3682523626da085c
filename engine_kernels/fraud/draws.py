"""Keyed draws for the fraud kernels: a campaign's, a target's or an act's numbers come from the
stream of its own unit (engine_kernels/flows/draws.py), so they never depend on which other
campaigns, targets or acts there are."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine_kernels.flows.draws import block_uniforms, unit_key
from engine_kernels.flows.lifecycle import _normal

__all__ = ["between", "log_normal", "log_uniform_int", "pick", "uniforms"]


@njit(cache=True, parallel=True, nogil=True)
def _uniforms(label_key, a, b, blocks, out):
    for i in prange(a.shape[0]):
        key = unit_key(label_key, a[i], b[i])
        for blk in range(blocks):
            u = block_uniforms(key, blk)
            for j in range(4):
                out[i, 4 * blk + j] = u[j]


def uniforms(label_key: int, a, b, k: int) -> np.ndarray:
    """(n, k) uniforms on (0, 1) of the units (a[i], b[i]) under the label."""
    a = np.ascontiguousarray(a, np.uint64)
    b = np.ascontiguousarray(np.broadcast_to(np.asarray(b, np.uint64), a.shape))
    blocks = (k + 3) // 4
    out = np.empty((a.size, 4 * blocks))
    _uniforms(np.uint64(label_key), a, b, blocks, out)
    return out[:, :k]


def between(u, lo, hi) -> np.ndarray:
    """Integers uniform in [lo, hi] from uniforms u."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    return (lo + np.floor(np.asarray(u) * (hi - lo + 1))).astype(np.int64)


def log_uniform_int(u, lo, hi) -> np.ndarray:
    """Integers in [lo, hi] log-uniformly (most campaigns are small, a few large)."""
    x = np.exp(np.log(lo) + np.asarray(u) * (np.log(hi + 1) - np.log(lo)))
    return np.clip(np.floor(x), lo, hi).astype(np.int64)


@njit(cache=True)
def _normals(u, out):
    for i in range(u.shape[0]):
        out[i] = _normal(u[i])


def log_normal(u, median, sigma, cap=math.inf) -> np.ndarray:
    """Log-normal variates by inversion of uniforms u, capped."""
    u = np.ascontiguousarray(np.atleast_1d(u), np.float64)
    z = np.empty(u.size)
    _normals(u, z)
    return np.minimum(np.asarray(median) * np.exp(np.asarray(sigma) * z), cap)


def pick(u, pool: np.ndarray) -> np.ndarray:
    """An element of `pool` per uniform (-1 where the pool is empty)."""
    u = np.asarray(u)
    if pool.size == 0:
        return np.full(u.shape, -1, np.int64)
    return pool[np.minimum((u * pool.size).astype(np.int64), pool.size - 1)].astype(np.int64)
