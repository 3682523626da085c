"""Segment 1B: every outlet on the map of its country, clustered around its merchant.

Per (merchant, country, planned zone) group with n_z of the merchant's n sites in the country:
  * n = 1: one cell drawn by population (a single shop sits where people are);
  * n > 1: an anchor city drawn by population among the zone's cities (a population-weighted
    cell if the zone has none), then each site's cell drawn with weight
    population × exp(−d / L) for d <= 12 L (0 beyond), d the straight-line distance to the
    anchor and L = min(base_km · n^exponent, max_km): a 3-site chain is local, a 300-site chain
    covers the country.
Each site then takes a uniform point inside its cell, accepted only inside the country polygon
(full detail). After `max_attempts` rejections (a cell that is mostly sea) it samples the same
distribution, uniform on cell ∩ country, through that region's bounding box; a cell with no part
of the country falls back to the nearest populated cell centre inside the country and samples
that cell's part of the country (counted as `is_fallback`).

Draws are keyed on (label, merchant, country, site_order) (the anchor on the zone), so sites
never depend on which other merchants or countries are placed in the same run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numba import njit, prange

from engine_kernels.geography.geodesy import EARTH_RADIUS_KM, flat_cell, haversine_km, unit_vectors
from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import text_id, unit_keys, unit_uniforms
from engine_kernels.reference.world import CountryCells

__all__ = ["PlacementPolicy", "SiteGroups", "Sites", "place_sites"]

_ANCHOR, _CELL, _JITTER = substreams.SITE_ANCHOR, substreams.SITE_CELL, substreams.SITE_JITTER


@dataclass(frozen=True)
class PlacementPolicy:
    base_km: float
    exponent: float
    max_km: float
    max_attempts: int

    def spread_km(self, n: np.ndarray) -> np.ndarray:
        return np.minimum(self.base_km * np.asarray(n, np.float64) ** self.exponent, self.max_km)


@dataclass(frozen=True)
class SiteGroups:
    """The sites to place in one zone of one country: group g has n_zone[g] sites, site orders
    first_site[g] .. first_site[g] + n_zone[g] − 1, and n_country[g] sites of its merchant in the country."""

    merchant_id: np.ndarray
    n_zone: np.ndarray
    n_country: np.ndarray
    first_site: np.ndarray


@dataclass(frozen=True)
class Sites:
    """One row per site, in group order then site order."""

    merchant_id: np.ndarray
    site_order: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    cell: np.ndarray  # flat cell index of the grid
    is_fallback: np.ndarray
    draws: dict[str, int]


@njit(parallel=True, cache=True)
def _clustered_cells(cell_xyz, cell_pop, anchor_xyz, spread, first, last, site_offsets, u, out):
    """For group g: cells ∝ pop · exp(−d/L_g) around its anchor (d <= 12 L_g), one per uniform.

    d is the straight-line (chord) distance R·|p − a| between unit vectors: within 1% of the
    great-circle distance up to 1,600 km, and needing no trigonometry per cell. Cells
    first[g]:last[g] are those whose latitude is within reach of the anchor's (cells come
    sorted by grid row); beyond 12 L (weight below e^-12 of a cell at the anchor) a cell gets 0.
    """
    n_cells = cell_xyz.shape[0]
    for g in prange(anchor_xyz.shape[0]):
        lo, hi = first[g], last[g]
        cumulative = np.empty(n_cells)
        chord_max = 12.0 * spread[g] / EARTH_RADIUS_KM
        scale = EARTH_RADIUS_KM / spread[g]
        total = 0.0
        for c in range(lo, hi):
            dx = cell_xyz[c, 0] - anchor_xyz[g, 0]
            dy = cell_xyz[c, 1] - anchor_xyz[g, 1]
            dz = cell_xyz[c, 2] - anchor_xyz[g, 2]
            chord = np.sqrt(dx * dx + dy * dy + dz * dz)
            if chord <= chord_max:
                total += cell_pop[c] * np.exp(-chord * scale)
            cumulative[c] = total
        if total <= 0.0:  # no people within reach of the anchor: fall back to people weighted by closeness
            lo, hi = 0, n_cells
            for c in range(n_cells):
                dx = cell_xyz[c, 0] - anchor_xyz[g, 0]
                dy = cell_xyz[c, 1] - anchor_xyz[g, 1]
                dz = cell_xyz[c, 2] - anchor_xyz[g, 2]
                total += cell_pop[c] / (1.0 + EARTH_RADIUS_KM * np.sqrt(dx * dx + dy * dy + dz * dz))
                cumulative[c] = total
        for s in range(site_offsets[g], site_offsets[g + 1]):
            out[s] = lo + min(np.searchsorted(cumulative[lo:hi], u[s] * total, side="right"), hi - lo - 1)


def _latitude_band(cells: CountryCells, anchor_lat: np.ndarray, spread_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[first, last) cell positions whose row lies within 12 L of each anchor's latitude
    (a chord of 12 L spans at least as many degrees of latitude as an arc of 12 L)."""
    if (np.diff(cells.rows) < 0).any():
        raise ValueError(f"cells of {cells.country} must come sorted by grid row")
    reach_deg = np.degrees(np.minimum(12.0 * spread_km / EARTH_RADIUS_KM, np.pi) * 1.1)
    top = np.floor((90.0 - np.minimum(anchor_lat + reach_deg, 90.0)) / cells.resolution)
    bottom = np.floor((90.0 - np.maximum(anchor_lat - reach_deg, -90.0)) / cells.resolution)
    first = np.searchsorted(cells.rows, top, side="left").astype(np.int64)
    last = np.searchsorted(cells.rows, bottom, side="right").astype(np.int64)
    return first, last


def _unit(merchant_id: np.ndarray, country: str, third: np.ndarray) -> np.ndarray:
    return np.column_stack([merchant_id.astype(np.uint64), np.full(merchant_id.shape[0], text_id(country), np.uint64),
                            third.astype(np.uint64)])


def _anchors(groups: SiteGroups, cells: CountryCells, cities: tuple[np.ndarray, np.ndarray, np.ndarray],
             keys: Callable[[str], int]) -> tuple[np.ndarray, np.ndarray]:
    """Anchor (lat, lon) per group: a city by population, or a cell by population if the zone has none."""
    u = unit_uniforms(unit_keys(keys(_ANCHOR), _unit(groups.merchant_id, cells.country,
                                                      np.full(groups.merchant_id.shape[0], text_id(cells.tzid or "")))), 1)[:, 0]
    city_lat, city_lon, city_pop = cities
    if city_pop.size and city_pop.sum() > 0:
        cdf = np.cumsum(city_pop)
        i = np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), city_pop.size - 1)
        return city_lat[i], city_lon[i]
    i = cells.pick(u)
    return cells.lat[i], cells.lon[i]


def place_sites(
    groups: SiteGroups, cells: CountryCells, cities: tuple[np.ndarray, np.ndarray, np.ndarray],
    country: shapely.Geometry, fallback: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]],
    policy: PlacementPolicy, keys: Callable[[str], int],
) -> Sites:
    """Place every site of `groups` on `cells` (the populated cells of one country's zone).

    `cities` are (lat, lon, population) of the zone's cities; `country` is its polygon (points on
    the boundary count as inside); `fallback()` gives (lat, lon, flat cell) of the country's populated
    cell centres that lie inside it (asked only if some site needs it). A country so small that no cell centre lies inside (an atoll)
    falls back to a point of the polygon within the site's cell, else to one anywhere in it.
    """

    def inside(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return shapely.intersects_xy(country, lon, lat)

    sizes = groups.n_zone.astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    group_of = np.repeat(np.arange(sizes.shape[0]), sizes)
    site_order = groups.first_site[group_of] + np.arange(offsets[-1]) - offsets[group_of]
    merchant = groups.merchant_id[group_of]
    unit = _unit(merchant, cells.country, site_order)
    u_cell = unit_uniforms(unit_keys(keys(_CELL), unit), 1)[:, 0]

    cell = cells.pick(u_cell)
    clustered = groups.n_country > 1
    if clustered.any():
        chosen = np.flatnonzero(clustered)
        sub = SiteGroups(groups.merchant_id[chosen], groups.n_zone[chosen], groups.n_country[chosen],
                         groups.first_site[chosen])
        anchor_lat, anchor_lon = _anchors(sub, cells, cities, keys)
        sub_offsets = np.concatenate(([0], np.cumsum(sizes[chosen])))
        rows = np.concatenate([np.arange(offsets[g], offsets[g + 1]) for g in chosen])
        picked = np.empty(rows.shape[0], np.int64)
        spread = policy.spread_km(groups.n_country[chosen])
        first, last = _latitude_band(cells, anchor_lat, spread)
        _clustered_cells(unit_vectors(cells.lat, cells.lon), cells.population, unit_vectors(anchor_lat, anchor_lon),
                         spread, first, last, sub_offsets, u_cell[rows], picked)
        cell[rows] = picked

    half = cells.resolution / 2
    lat = np.empty(cell.shape[0])
    lon = np.empty(cell.shape[0])
    pending = np.arange(cell.shape[0])
    jitter_keys = unit_keys(keys(_JITTER), unit)
    jitter_words = 0
    for attempt in range(policy.max_attempts):
        if pending.size == 0:
            break
        u = unit_uniforms(jitter_keys[pending], 2, counter=attempt)  # block `attempt` of the site's stream
        jitter_words += u.size
        try_lat = cells.lat[cell[pending]] + (u[:, 0] - 0.5) * 2 * half
        try_lon = cells.lon[cell[pending]] + (u[:, 1] - 0.5) * 2 * half
        ok = inside(try_lat, try_lon)
        lat[pending[ok]], lon[pending[ok]] = try_lat[ok], try_lon[ok]
        pending = pending[~ok]

    flat = flat_cell(cells.rows[cell], cells.cols[cell], cells.resolution)
    is_fallback = np.zeros(cell.shape[0], bool)
    shapely.prepare(country)
    f_lat, f_lon, f_cell = fallback() if pending.size else (None, None, None)
    for s in pending:
        # The cell is mostly sea or a neighbour's: sample uniformly in (cell ∩ country) through
        # its bounding box, which has the same distribution as in-cell rejection but accepts far
        # more often. A cell that holds no part of the country moves the site to the nearest
        # populated cell centre inside it (or, in an atoll with none, anywhere in the country):
        # that is the fallback the figures count.
        c_lat, c_lon = cells.lat[cell[s]], cells.lon[cell[s]]
        region = shapely.clip_by_rect(country, c_lon - half, c_lat - half, c_lon + half, c_lat + half)
        if region.is_empty or region.area == 0:
            is_fallback[s] = True
            if f_lat.size:
                j = int(np.argmin(haversine_km(c_lat, c_lon, f_lat, f_lon)))
                c_lat, c_lon, flat[s] = f_lat[j], f_lon[j], f_cell[j]
                region = shapely.clip_by_rect(country, c_lon - half, c_lat - half, c_lon + half, c_lat + half)
            if region.is_empty or region.area == 0:
                region = country
        lat[s], lon[s], used = _point_in(region, jitter_keys[s:s + 1], policy.max_attempts)
        jitter_words += used
    return Sites(merchant, site_order, lat, lon, flat, is_fallback,
                 {_ANCHOR: int(clustered.sum()), _CELL: int(cell.shape[0]), _JITTER: int(jitter_words)})


def _point_in(region: shapely.Geometry, key: np.ndarray, first_block: int, attempts: int = 1000):
    """A uniform point of `region` by rejection in its bounding box, from the site's jitter stream
    after its in-cell attempts; the region's surface point if every attempt misses (a sliver)."""
    west, south, east, north = region.bounds
    u = unit_uniforms(key, 2 * attempts, counter=first_block)[0].reshape(-1, 2)
    lat = south + u[:, 0] * (north - south)
    lon = west + u[:, 1] * (east - west)
    hit = np.flatnonzero(shapely.intersects_xy(region, lon, lat))
    if hit.size:
        return float(lat[hit[0]]), float(lon[hit[0]]), int(2 * (hit[0] + 1))
    point = shapely.point_on_surface(region)
    return float(point.y), float(point.x), 2 * attempts
