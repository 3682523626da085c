"""The routing API 5B calls per arrival: a site of a (merchant, zone), an edge of a merchant.

A routing table is the flat alias arrays of many groups with the item each slot stands for
(a site id, an edge id). `pick_item` is numba-callable from inside an arrival kernel; `pick_items`
is its vectorised form. One uniform decides the pick (see engine_kernels.tables.alias.alias_pick).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from engine_kernels.tables.alias import alias_pick, as_offsets, build_alias_tables

__all__ = ["RoutingTable", "build_routing_table", "pick_item", "pick_items"]


@dataclass(frozen=True)
class RoutingTable:
    """Group g owns slots offsets[g]:offsets[g+1]; slot s picks item[s] (e.g. a site id)."""

    prob: np.ndarray  # float64
    alias: np.ndarray  # int32, local to the group
    offsets: np.ndarray  # int64[groups + 1]
    item: np.ndarray  # uint64


def build_routing_table(weights: np.ndarray, offsets: np.ndarray, item: np.ndarray) -> RoutingTable:
    """Alias tables of every group's weights, with the item of each slot."""
    offsets = as_offsets(offsets, None, np.asarray(weights).shape[0])
    prob, alias = build_alias_tables(np.asarray(weights, np.float64), offsets)
    return RoutingTable(prob, alias.astype(np.int32), offsets, np.ascontiguousarray(item, np.uint64))


@njit(cache=True)
def pick_item(prob, alias, offsets, item, group, u):
    """The item of group `group` chosen by the uniform u in [0, 1)."""
    start = offsets[group]
    return item[start + alias_pick(prob, alias, start, offsets[group + 1] - start, u)]


@njit(cache=True, parallel=True)
def _pick_items(prob, alias, offsets, item, groups, u, out):
    for i in prange(groups.shape[0]):
        out[i] = pick_item(prob, alias, offsets, item, groups[i], u[i])


def pick_items(table: RoutingTable, groups: np.ndarray, u: np.ndarray) -> np.ndarray:
    """uint64 items for each (group, uniform) pair."""
    groups = np.ascontiguousarray(groups, np.int64)
    u = np.ascontiguousarray(u, np.float64)
    if groups.shape != u.shape:
        raise ValueError(f"groups and u must have one shape, got {groups.shape} and {u.shape}")
    if groups.size and (groups.min() < 0 or groups.max() >= table.offsets.shape[0] - 1):
        raise ValueError(f"groups must lie in 0..{table.offsets.shape[0] - 2}")
    out = np.empty(groups.shape[0], np.uint64)
    _pick_items(table.prob, table.alias, table.offsets, table.item, groups, u, out)
    return out
