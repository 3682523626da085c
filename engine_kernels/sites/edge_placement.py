"""Segment 3B: each CDN edge of engine_kernels.sites.virtual.draw_edges put on the map and given a zone.

An edge is placed like a single-site outlet of its country (engine_kernels.sites.placement: a
populated cell by population, then a point of the cell inside the country) and time-zoned like a
site (engine_kernels.civil_time.site_zones), keyed on (merchant, edge index) under the caller's
labels, so edges never share draws with the sites of the same merchant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine_kernels.civil_time.site_zones import site_zones
from engine_kernels.ids import edge_ids
from engine_kernels.reference.world import ReferenceWorld
from engine_kernels.sites.placement import PlacementPolicy, SiteGroups, place_sites
from engine_kernels.sites.virtual import Edges

__all__ = ["PlacedEdges", "place_edges"]


@dataclass(frozen=True)
class PlacedEdges:
    """One entry per edge, in the order of `Edges` (merchant, then edge index)."""

    edge_id: np.ndarray  # uint64 (engine_kernels/ids.py)
    merchant_id: np.ndarray
    edge_index: np.ndarray  # 0-based within the merchant
    profile: np.ndarray  # the merchant's profile, index into engine_kernels.sites.virtual.PROFILES
    lat: np.ndarray
    lon: np.ndarray
    tzid: np.ndarray  # object (str)


def _no_fallback() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """No populated cell centres to fall back on: an edge whose cell holds no land samples the country."""
    return np.empty(0), np.empty(0), np.empty(0, np.int64)


def place_edges(
    edges: Edges, merchant_id: np.ndarray, countries: Sequence[str], world: ReferenceWorld,
    labelled_cells: Callable[[str], tuple[np.ndarray, np.ndarray, np.ndarray]], placement: PlacementPolicy,
    nudge_deg: float, overrides: Mapping[str, str], keys: Callable[[str], int],
) -> PlacedEdges:
    """Point and zone of every edge: merchant_id[i] owns edges.offsets[i]:offsets[i+1]; country c of
    `edges` is countries[c]; labelled_cells(code) gives (lat, lon, tzid) of the country's populated
    cells labelled with one of its zones (asked only for an edge the polygons cannot place)."""
    owner = np.repeat(np.arange(len(merchant_id)), np.diff(edges.offsets))
    merchant = np.asarray(merchant_id)[owner]
    index = np.arange(edges.offsets[-1]) - edges.offsets[owner]
    lat, lon, tzid = np.empty(index.size), np.empty(index.size), np.empty(index.size, dtype=object)
    for c in np.unique(edges.country):
        code, rows = countries[c], np.flatnonzero(edges.country == c)
        sites = place_sites(SiteGroups(merchant[rows], np.ones(rows.size, np.int64), np.ones(rows.size, np.int64),
                                       index[rows] + 1), world.populated_cells(code),
                            (np.empty(0), np.empty(0), np.empty(0)), world.polygon(code), _no_fallback, placement, keys)
        lat[rows], lon[rows] = sites.lat, sites.lon
        zones = site_zones(sites.lat, sites.lon, lambda a, b: world.zones_at(code, a, b),
                           lambda: labelled_cells(code), nudge_deg, overrides.get(code))
        tzid[rows] = zones.tzid
    return PlacedEdges(edge_ids(merchant, index), merchant, index, edges.profile[owner], lat, lon, tzid)
