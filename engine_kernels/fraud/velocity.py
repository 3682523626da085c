"""Authorisation-time features over a party's or a card's recent history: how many payments and
how much money in the last hour, day and week, and whether a device or address is new to it.

The history is the day's flows and the days before it (the training table reads a week back),
so the windows run across midnight. Only strictly earlier payments count: what a fraud team can
compute when the payment asks for authorisation, without peeking at it or at anything later.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["first_uses", "window_counts"]


@njit(cache=True, nogil=True)
def _windows(group, ts, amount, windows, counts, sums):
    n = group.shape[0]
    w = windows.shape[0]
    prefix = np.zeros(n + 1)
    for i in range(n):
        prefix[i + 1] = prefix[i] + amount[i]
    lo = np.zeros(w, np.int64)
    start = 0
    for i in range(n):
        if i > 0 and group[i] != group[i - 1]:
            start = i
            for k in range(w):
                lo[k] = i
        # earlier rows of the group strictly before this one's time
        first_same = i
        while first_same > start and ts[first_same - 1] == ts[i]:
            first_same -= 1
        for k in range(w):
            if lo[k] < start:
                lo[k] = start
            while lo[k] < first_same and ts[lo[k]] <= ts[i] - windows[k]:
                lo[k] += 1
            counts[i, k] = first_same - lo[k] if first_same > lo[k] else 0
            sums[i, k] = prefix[first_same] - prefix[lo[k]] if first_same > lo[k] else 0.0


def window_counts(group: np.ndarray, ts: np.ndarray, amount: np.ndarray, windows_us) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by (group, ts). For each row and window w: how many rows of its group lie in
    (ts - w, ts) and the sum of their amounts (rows at the same instant do not count each other)."""
    windows = np.asarray(windows_us, np.int64)
    n = group.size
    counts, sums = np.empty((n, windows.size), np.int32), np.empty((n, windows.size))
    if n:
        _windows(np.ascontiguousarray(group), np.ascontiguousarray(ts, np.int64),
                 np.ascontiguousarray(amount, np.float64), windows, counts, sums)
    return counts, sums


def first_uses(group: np.ndarray, item: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Whether each row is the first of its (group, item) pair by time (ties broken by row order):
    a device or address the party had not used before in the history given. Rows of a missing
    item (-1) are never new."""
    order = np.lexsort((np.arange(group.size), ts, item, group))
    g, it = group[order], item[order]
    first = np.ones(group.size, bool)
    first[1:] = (g[1:] != g[:-1]) | (it[1:] != it[:-1])
    out = np.empty(group.size, bool)
    out[order] = first
    return out & (item >= 0)
