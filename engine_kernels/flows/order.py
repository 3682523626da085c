"""A day's flows in rank order: the permutation, and every column gathered through it on all cores.

numpy's fancy indexing gathers on one core; a day of the reference profile carries ~25 columns
of ~2M flows through the ranking, so the gather is a parallel numba loop, compiled per dtype.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

__all__ = ["put", "rank_order", "take"]


@njit(cache=True, parallel=True, nogil=True)
def _take(values, order, out):
    for i in prange(order.shape[0]):
        out[i] = values[order[i]]


def take(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """values[order], gathered in parallel."""
    values = np.ascontiguousarray(values)
    out = np.empty(order.shape[0], values.dtype)
    _take(values, order, out)
    return out


@njit(cache=True, parallel=True, nogil=True)
def _put(values, order, out):
    for i in prange(order.shape[0]):
        out[order[i]] = values[i]


def put(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The inverse of take: out[order] = values, scattered in parallel (order a permutation)."""
    values = np.ascontiguousarray(values)
    out = np.empty(order.shape[0], values.dtype)
    _put(values, order, out)
    return out


def rank_order(ts: np.ndarray, unit_a: np.ndarray, unit_b: np.ndarray) -> np.ndarray:
    """The permutation that ranks flows by (ts, unit_a, unit_b): a flow's unit breaks ties, so the
    rank never depends on the order flows were built in."""
    return np.lexsort((unit_b, unit_a, ts))
