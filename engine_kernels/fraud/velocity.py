"""Authorisation-time features over a party's or a card's recent history: how many payments and
how much money in the last hour, day and week, and whether a device or address is new to it.

The history is a `Trail`: one kind of key's payments since a cutoff, sorted by (key, time, flow
id), with the items (device, address) each used. It rolls from day to day, each day merged in and
the oldest left behind, so the windows run across midnight and a day costs a merge rather than a
sort of the whole week. A trail is a function of the payments it holds, whatever order or batches
the days are built in. Only strictly earlier payments count: what a fraud team can compute when
the payment asks for authorisation, without peeking at it or at anything later.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["Trail", "extend", "first_uses", "trail_order", "window_features"]


class Trail(NamedTuple):
    """Payments sorted by (key, ts, flow)."""

    key: np.ndarray  # int64
    ts: np.ndarray  # int64 microseconds
    flow: np.ndarray  # uint64, breaks ties so the order is total
    amount: np.ndarray  # float64
    items: np.ndarray  # int64 (rows, kinds of item), -1 for none

    @staticmethod
    def empty(kinds: int = 0) -> Trail:
        return Trail(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.uint64), np.empty(0),
                     np.empty((0, kinds), np.int64))


@njit(cache=True, nogil=True)
def _merge(key, ts, flow, amount, items, cutoff, new_key, new_ts, new_flow, new_amount, new_items, out_key, out_ts,
           out_flow, out_amount, out_items, placed):
    """Merge sorted new rows into the trail's rows from the cutoff on; `placed[r]` is where new row r lands."""
    n, m = key.shape[0], new_key.shape[0]
    i = j = k = 0
    while i < n or j < m:
        if i < n and ts[i] < cutoff:  # what the window has left behind
            i += 1
            continue
        if j >= m or (i < n and (key[i] < new_key[j] or (key[i] == new_key[j] and (
                ts[i] < new_ts[j] or (ts[i] == new_ts[j] and flow[i] < new_flow[j]))))):
            out_key[k], out_ts[k], out_flow[k], out_amount[k] = key[i], ts[i], flow[i], amount[i]
            for c in range(items.shape[1]):
                out_items[k, c] = items[i, c]
            i += 1
        else:
            out_key[k], out_ts[k], out_flow[k], out_amount[k] = new_key[j], new_ts[j], new_flow[j], new_amount[j]
            for c in range(items.shape[1]):
                out_items[k, c] = new_items[j, c]
            placed[j] = k
            j += 1
        k += 1
    return k


def extend(trail: Trail, key: np.ndarray, ts: np.ndarray, flow: np.ndarray, amount: np.ndarray, items: np.ndarray,
           cutoff_us: int) -> tuple[Trail, np.ndarray]:
    """The trail's payments from the cutoff on with the rows added, and where each added row (in
    the given order) now lies. `items` is (rows, kinds), as the trail's."""
    order = np.lexsort((flow, ts, key))
    size = trail.key.size + order.size
    out = Trail(np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.uint64), np.empty(size),
                np.empty((size, trail.items.shape[1]), np.int64))
    placed = np.empty(order.size, np.int64)
    kept = _merge(*trail, np.int64(cutoff_us), key[order].astype(np.int64), ts[order].astype(np.int64),
                  flow[order].astype(np.uint64), amount[order].astype(np.float64),
                  np.ascontiguousarray(items[order], np.int64), *out, placed)
    at = np.empty(order.size, np.int64)
    at[order] = placed
    return Trail(*(column[:kept] for column in out)), at


@njit(cache=True, nogil=True)
def _group_start(key, i) -> int:
    lo, hi = 0, i
    while lo < hi:
        mid = (lo + hi) // 2
        if key[mid] < key[i]:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _windows(key, ts, amount, at, order, windows, counts, sums):
    for j in range(order.shape[0]):
        r = order[j]
        i = at[r]
        start = _group_start(key, i)
        first_same = i  # rows at the same instant do not count each other
        while first_same > start and ts[first_same - 1] == ts[i]:
            first_same -= 1
        for k in range(windows.shape[0]):
            lo, hi = start, first_same
            edge = ts[i] - windows[k]
            while lo < hi:  # the first row after the window opens
                mid = (lo + hi) // 2
                if ts[mid] <= edge:
                    lo = mid + 1
                else:
                    hi = mid
            counts[r, k] = first_same - lo
            total = 0.0
            for q in range(lo, first_same):
                total += amount[q]
            sums[r, k] = total


def trail_order(at: np.ndarray) -> np.ndarray:
    """The rows at `at` by their place in the trail. The kernels below visit rows in this order and
    write each result at its own row, so each key's rows are read together from memory (~6x faster
    on a reference week of ~16M rows than in the rows' own order); every row's result is the same
    in any order."""
    return np.argsort(at, kind="stable")


def window_features(trail: Trail, at: np.ndarray, windows_us, order: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """For the trail's rows at `at` and each window w: how many rows of the same key lie in
    (ts - w, ts), and the sum of their amounts. `order` is `trail_order(at)` when the caller has it."""
    windows = np.asarray(windows_us, np.int64)
    counts, sums = np.zeros((at.size, windows.size), np.int32), np.zeros((at.size, windows.size))
    if at.size:
        order = trail_order(at) if order is None else order
        _windows(trail.key, trail.ts, trail.amount, at.astype(np.int64, copy=False), order, windows, counts, sums)
    return counts, sums


@njit(cache=True, nogil=True)
def _first_uses(key, items, at, order, first):
    for j in range(order.shape[0]):
        r = order[j]
        i = at[r]
        start = _group_start(key, i)
        for c in range(items.shape[1]):
            first[r, c] = items[i, c] >= 0
            for q in range(start, i):
                if items[q, c] == items[i, c]:
                    first[r, c] = False
                    break


def first_uses(trail: Trail, at: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """For the trail's rows at `at` and each kind of item: whether no earlier row of the same key
    (by time, then flow id) used the item. Missing items (-1) are never new. `order` is
    `trail_order(at)` when the caller has it."""
    first = np.zeros((at.size, trail.items.shape[1]), bool)
    if at.size:
        order = trail_order(at) if order is None else order
        _first_uses(trail.key, trail.items, at.astype(np.int64, copy=False), order, first)
    return first
