"""Queries on the reference world that later segments ask millions of times.

Built once from the published reference arrays and kept in memory: populated cells of a
country (optionally of one zone) with their population weights and bounds, point-in-country
for arrays of points, and zone lookup for arrays of points restricted to a country's zones.
Nothing here reads files per call.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping

import numpy as np
import shapely

from engine_kernels.geography.geodesy import RESOLUTION, cell_lat, cell_lon, cell_rows_cols, grid_shape, unit_vectors


@dataclass(frozen=True)
class CountryCells:
    """Populated grid cells of one country (or of one of its zones), population-weighted.

    `cumulative` is the normalised cumulative population, so a uniform u picks cell
    `searchsorted(cumulative, u)` with probability proportional to its population.
    """

    country: str
    tzid: str | None
    rows: np.ndarray
    cols: np.ndarray
    population: np.ndarray
    cumulative: np.ndarray
    resolution: float

    @property
    def lat(self) -> np.ndarray:
        return cell_lat(self.rows, self.resolution)

    @property
    def lon(self) -> np.ndarray:
        return cell_lon(self.cols, self.resolution)

    def bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(south, west, north, east) in degrees of every cell."""
        half = self.resolution / 2
        return self.lat - half, self.lon - half, self.lat + half, self.lon + half

    def pick(self, u: np.ndarray) -> np.ndarray:
        """Cell positions for open-interval uniforms u, population-weighted."""
        return np.minimum(np.searchsorted(self.cumulative, u, side="right"), len(self.cumulative) - 1)

    def sample_points(self, u_cell: np.ndarray, u_lat: np.ndarray, u_lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Population-weighted points: a cell per uniform, then a uniform position inside it."""
        i = self.pick(u_cell)
        half = self.resolution / 2
        return self.lat[i] + (u_lat - 0.5) * 2 * half, self.lon[i] + (u_lon - 0.5) * 2 * half


def centres_of_population(
    lat: np.ndarray, lon: np.ndarray, weight: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) in degrees of each group's centre of population.

    The weighted mean of the points' unit vectors, projected back to the sphere: averaging
    longitudes directly would put Fiji or Russia on the wrong side of the antimeridian, and a
    polygon centroid puts the United States in Canada (Alaska). A group without weight gets NaN.
    """
    x, y, z = [np.bincount(group, weights=weight * v, minlength=n_groups) for v in unit_vectors(lat, lon).T]
    empty = np.bincount(group, weights=weight, minlength=n_groups) <= 0
    centre_lat = np.where(empty, np.nan, np.degrees(np.arctan2(z, np.hypot(x, y))))
    return centre_lat, np.where(empty, np.nan, np.degrees(np.arctan2(y, x)))


class ReferenceWorld:
    """In-memory index over the population grid, country grid, zone labels and polygons."""

    def __init__(
        self,
        population: np.ndarray,
        country_index: np.ndarray,
        codes: list[str],
        cell_zone: Mapping[str, np.ndarray],
        polygons: Mapping[str, bytes],
        country_zones: Mapping[str, list[str]],
        zone_lookup: Callable[[np.ndarray, np.ndarray], np.ndarray],
        resolution: float = RESOLUTION,
        full_polygons: Mapping[str, bytes] | None = None,
    ):
        """`cell_zone` maps tzid -> flat indices of the populated cells labelled with it;
        `polygons` maps country -> simplified WKB for fast tests, `full_polygons` -> full detail;
        `zone_lookup(lats, lons)` answers IANA names or None."""
        if population.shape != grid_shape(resolution):
            raise ValueError(f"population grid of shape {population.shape} is not the {resolution}-degree grid "
                             f"{grid_shape(resolution)}")
        self.resolution = resolution
        self.codes = list(codes)
        self._code_index = {c: i + 1 for i, c in enumerate(self.codes)}
        flat_pop = population.ravel()
        populated = np.flatnonzero(flat_pop > 0)
        owner = country_index.ravel()[populated]
        order = np.argsort(owner, kind="stable")
        self._cells = populated[order]
        self._weights = flat_pop[self._cells].astype(np.float64)
        self._offsets = np.searchsorted(owner[order], np.arange(len(self.codes) + 2))
        self._zone_of_cell = np.full(flat_pop.size, -1, np.int32)
        self.zone_names = sorted(cell_zone)
        for z, name in enumerate(self.zone_names):
            self._zone_of_cell[cell_zone[name]] = z
        self._wkb = {False: dict(polygons), True: dict(full_polygons or polygons)}
        self.country_zones = {c: list(z) for c, z in country_zones.items()}
        self._zone_lookup = zone_lookup

    def _slice(self, country: str) -> slice:
        if country not in self._code_index:
            raise KeyError(f"country {country!r} is not in the reference world")
        i = self._code_index[country]
        return slice(self._offsets[i], self._offsets[i + 1])

    @lru_cache(maxsize=1024)
    def populated_cells(self, country: str, tzid: str | None = None) -> CountryCells:
        cells = self._cells[self._slice(country)]
        weights = self._weights[self._slice(country)]
        if tzid is not None:
            z = self.zone_names.index(tzid) if tzid in self.zone_names else -2
            keep = self._zone_of_cell[cells] == z
            cells, weights = cells[keep], weights[keep]
        if cells.size == 0:
            where = f" in zone {tzid}" if tzid else ""
            raise ValueError(f"country {country} has no populated cells{where} in the reference world")
        cumulative = np.cumsum(weights)
        cumulative /= cumulative[-1]
        rows, cols = cell_rows_cols(cells, self.resolution)
        return CountryCells(country, tzid, rows.astype(np.int32), cols.astype(np.int32), weights, cumulative,
                            self.resolution)

    @lru_cache(maxsize=512)
    def _prepared(self, country: str, full: bool):
        if country not in self._wkb[full]:
            raise KeyError(f"country {country!r} has no polygon in the reference world")
        geometry = shapely.from_wkb(self._wkb[full][country])
        shapely.prepare(geometry)
        return geometry

    def population_centroid(self, country: str) -> tuple[float, float]:
        """(lat, lon) of the country's centre of population, in degrees (see `centres_of_population`)."""
        cells = self.populated_cells(country)
        lat, lon = centres_of_population(cells.lat, cells.lon, cells.population, np.zeros(cells.lat.size, np.int64), 1)
        return float(lat[0]), float(lon[0])

    def polygon(self, country: str, full: bool = True):
        """The country's polygon (prepared for fast point tests); `full=False` for the simplified one."""
        return self._prepared(country, full)

    def contains(self, country: str, lats: np.ndarray, lons: np.ndarray, full: bool = False) -> np.ndarray:
        """Which points lie inside the country's polygon (boundary points count as inside).

        The simplified polygon (0.02 degrees) is fast; `full=True` uses the 10m detail, for final checks.
        """
        geometry = self._prepared(country, full)
        return shapely.intersects_xy(geometry, np.asarray(lons, float), np.asarray(lats, float))

    def zones_at(self, country: str, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
        """IANA zone of each point if it is one of the country's zones, else None."""
        answers = self._zone_lookup(np.asarray(lats, float), np.asarray(lons, float))
        valid = set(self.country_zones.get(country, ()))
        return np.array([z if z in valid else None for z in answers], dtype=object)
