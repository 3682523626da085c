"""Global population grid derived from country polygons, national totals and city points.

No installed package ships a gridded population, so one is modelled on a regular lat/lon grid
(1/12 degree by default: 4320 x 2160 cells, row 0 at the north pole, column 0 at 180 W):

1. country polygons are rasterised to a country-index grid, which doubles as the land mask;
2. city populations are added to their cells and smoothed with a Gaussian whose width grows with
   city size, giving an *urban image*;
3. each country's total P is split into urban mass U = min(city sum, 0.85 P) shaped like the
   urban image, and rural mass R = P - U, 97% of it shaped like a wide halo of the urban image and
   3% spread evenly over the country's land area.

Every country's grid total therefore equals its population exactly (up to float32 rounding).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.transform import Affine
from scipy import fft
from scipy.ndimage import gaussian_filter1d

from engine_kernels.geography.geodesy import (
    EARTH_RADIUS_KM,
    RESOLUTION,
    cell_area_km2,
    cell_centres,
    cell_of,
    flat_cell,
    grid_shape,
)

__all__ = [
    "country_index_grid",
    "country_totals",
    "dense_share",
    "density_preview",
    "grid_transform",
    "population_grid",
    "read_geotiff",
    "write_geotiff",
]

# Countries covering fewer cells than this are re-burnt with every cell they touch, so that
# micro-states (Monaco, Vatican, Nauru) own at least a few cells.
MICROSTATE_CELLS = 4
# (exclusive upper city population, Gaussian sigma in km): bigger places sprawl further.
SIZE_CLASSES: tuple[tuple[float, float], ...] = ((2e4, 3.0), (2e5, 6.0), (2e6, 12.0), (np.inf, 25.0))
# GeoNames lists districts as well as the cities containing them, so city sums overstate the
# urban population; the cap keeps at least 15% of every country rural.
URBAN_CAP = 0.85
# Rural halo = sum of weight x Gaussian(sigma km) of the urban image.
HALO_TERMS: tuple[tuple[float, float], ...] = ((1.0, 40.0), (0.5, 150.0))
# Share of rural mass spread evenly over land area, so remote land is sparsely but truly populated.
UNIFORM_RURAL_SHARE = 0.03
# A city whose cell belongs to no country or another one (coast, border) moves to the nearest
# cell of its own country within this many cells (about 100 km at 1/12 degree).
RELOCATION_RADIUS_CELLS = 12


# --------------------------------------------------------------------------------------------
# Grid geometry (the grid itself: engine_kernels/geography/geodesy.py)
# --------------------------------------------------------------------------------------------


def grid_transform(res: float = RESOLUTION) -> Affine:
    """Affine transform of the global grid: origin (180 W, 90 N), square cells of `res` degrees.

    The same as rasterio's from_origin(-180, 90, res, res), built with `@` because from_origin
    still composes with the `*` operator that affine 3 deprecates.
    """
    return Affine.translation(-180.0, 90.0) @ Affine.scale(res, -res)


# --------------------------------------------------------------------------------------------
# Country index
# --------------------------------------------------------------------------------------------


def country_index_grid(codes: list[str], geometries: np.ndarray, res: float = RESOLUTION) -> np.ndarray:
    """uint16 grid holding i + 1 in cells whose centre lies in geometries[i], 0 elsewhere (sea).

    Polygons are burnt in the order of `codes`, which must be sorted and unique, so where two
    overlap the later code wins and the grid does not depend on input order. Countries that get
    fewer than MICROSTATE_CELLS cells are burnt again, on top, into every cell they touch.
    """
    if list(codes) != sorted(set(codes)):
        raise ValueError("country_index_grid: codes must be sorted and unique (index i + 1 is codes[i])")
    if len(codes) != len(geometries):
        raise ValueError(f"country_index_grid: {len(codes)} codes but {len(geometries)} geometries")
    if len(codes) >= np.iinfo(np.uint16).max:
        raise ValueError(f"country_index_grid: {len(codes)} countries do not fit a uint16 index")
    shape = grid_shape(res)
    transform = grid_transform(res)
    shapes = [(g, i + 1) for i, g in enumerate(geometries) if g is not None and not g.is_empty]
    grid = rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint16")
    counts = np.bincount(grid.ravel(), minlength=len(codes) + 1)
    small = [(g, value) for g, value in shapes if counts[value] < MICROSTATE_CELLS]
    if small:
        touched = rasterize(small, out_shape=shape, transform=transform, fill=0, dtype="uint16", all_touched=True)
        grid = np.where(touched > 0, touched, grid)
    return grid


# --------------------------------------------------------------------------------------------
# Population
# --------------------------------------------------------------------------------------------


def population_grid(
    country_index: np.ndarray,
    codes: list[str],
    populations: np.ndarray,
    city_lat: np.ndarray,
    city_lon: np.ndarray,
    city_pop: np.ndarray,
    city_country: np.ndarray,
    res: float = RESOLUTION,
) -> np.ndarray:
    """float32 persons per cell whose sum over each country's cells is populations[i].

    Per country c with population P_c, placed-city sum C_c, urban image u, halo h and cell
    area a (all restricted to c's cells):
        U_c = min(C_c, 0.85 P_c),  R_c = P_c - U_c
        pop = U_c · u/Σu + 0.97 R_c · h/Σh + 0.03 R_c · a/Σa
    A country with no placed city gets pop = P_c · a/Σa.

    Cities are placed by `_place_cities`: a city keeps its population even when its point falls
    on sea or on a neighbour's cell (it moves to the nearest cell of its own country), and a city
    whose code is not among `codes` (a territory drawn inside another country, e.g. Réunion in
    France) counts for the country of its cell.
    """
    n = len(codes)
    shape = grid_shape(res)
    if country_index.shape != shape:
        raise ValueError(f"population_grid: country_index has shape {country_index.shape}, expected {shape}")
    if n == 0 or list(codes) != sorted(set(codes)):
        raise ValueError("population_grid: codes must be non-empty, sorted and unique, as for country_index_grid")
    populations = np.asarray(populations, np.float64)
    if populations.shape != (n,) or not np.all(np.isfinite(populations)) or np.any(populations < 0):
        raise ValueError("population_grid: populations must be one finite, non-negative value per code")
    target = np.concatenate([[0.0], populations])
    if not len(city_lat) == len(city_lon) == len(city_pop) == len(city_country):
        raise ValueError("population_grid: city_lat, city_lon, city_pop and city_country differ in length")
    flat_index = country_index.ravel()
    cells = np.bincount(flat_index, minlength=n + 1)
    unmapped = [codes[i - 1] for i in range(1, n + 1) if target[i] > 0 and cells[i] == 0]
    if unmapped:
        raise ValueError(f"population_grid: countries with population but no grid cell: {unmapped}")

    rows, cols, pop, owner = _place_cities(country_index, codes, city_lat, city_lon, city_pop, city_country, res)
    land = country_index > 0
    terms, lower = [], 0.0
    for upper, sigma_km in SIZE_CLASSES:
        members = (pop >= lower) & (pop < upper)
        terms.append((1.0, _mass_image(rows[members], cols[members], pop[members], res), sigma_km))
        lower = upper
    urban_image = _smooth(terms, res)
    urban_image *= land

    city_sum = np.bincount(owner, weights=pop, minlength=n + 1)
    urban_weight = np.bincount(flat_index, weights=urban_image.ravel(), minlength=n + 1)
    has_cities = (city_sum > 0) & (urban_weight > 0)
    urban_total = np.where(has_cities, np.minimum(city_sum, URBAN_CAP * target), 0.0)
    urban = _scale_to_totals(urban_image, country_index, urban_total)
    del urban_image

    halo = _smooth([(w, urban, sigma_km) for w, sigma_km in HALO_TERMS], res)
    halo *= land
    rural = target - urban_total
    halo_total = np.where(has_cities, (1.0 - UNIFORM_RURAL_SHARE) * rural, 0.0)
    result = urban
    result += _scale_to_totals(halo, country_index, halo_total)
    del halo
    area = np.where(land, cell_area_km2(np.arange(shape[0]), res)[:, None], 0.0)
    result += _scale_to_totals(area, country_index, rural - halo_total)
    return result.astype(np.float32)


def _place_cities(
    country_index: np.ndarray,
    codes: list[str],
    lat: np.ndarray,
    lon: np.ndarray,
    pop: np.ndarray,
    country: np.ndarray,
    res: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, population, owner index) of every city that lands on its own country.

    Owner = the index of the city's code, or the index of its cell when the code is not among
    `codes`. A city on a cell of another owner (sea, a neighbour) moves to the nearest cell of
    its owner within RELOCATION_RADIUS_CELLS; cities still without a cell are dropped, which
    leaves their country's total unchanged (it is fixed by `populations`).
    """
    pop = np.asarray(pop, np.float64)
    code_array = np.asarray(codes, dtype=object)
    country = np.asarray(country, dtype=object)
    position = np.clip(np.searchsorted(code_array, country), 0, len(codes) - 1)
    known = code_array[position] == country
    rows, cols = cell_of(lat, lon, res)
    cell_owner = country_index[rows, cols].astype(np.int64)
    owner = np.where(known, position + 1, cell_owner)
    misplaced = np.flatnonzero((owner > 0) & (cell_owner != owner))
    found = np.ones(len(pop), bool)
    rows[misplaced], cols[misplaced], found[misplaced] = _nearest_cell_of(
        country_index, rows[misplaced], cols[misplaced], owner[misplaced], res
    )
    keep = found & (owner > 0) & np.isfinite(pop) & (pop > 0)
    return rows[keep], cols[keep], pop[keep], owner[keep]


def _nearest_cell_of(
    country_index: np.ndarray, rows: np.ndarray, cols: np.ndarray, owner: np.ndarray, res: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest cell with country_index == owner in a square window around each (row, col).

    Distance is measured in north-south cell units, d² = Δrow² + (Δcol · cos φ)², columns wrapping
    at the antimeridian; ties go to the first offset in row-major window order.
    Returns (rows, cols, found); rows and cols are unchanged where nothing was found.
    """
    n_rows, n_cols = country_index.shape
    k = RELOCATION_RADIUS_CELLS
    offsets = np.arange(-k, k + 1)
    d_row = np.repeat(offsets, offsets.size)
    d_col = np.tile(offsets, offsets.size)
    cand_rows = rows[:, None] + d_row[None, :]
    cand_cols = np.mod(cols[:, None] + d_col[None, :], n_cols)
    inside = (cand_rows >= 0) & (cand_rows < n_rows)
    match = inside & (country_index[np.clip(cand_rows, 0, n_rows - 1), cand_cols] == owner[:, None])
    coslat = np.cos(np.radians(cell_centres(rows, cols, res)[0]))
    distance = d_row[None, :] ** 2 + (d_col[None, :] * coslat[:, None]) ** 2
    best = np.argmin(np.where(match, distance, np.inf), axis=1)
    found = match[np.arange(len(rows)), best]
    pick = np.arange(len(rows)), best
    return np.where(found, cand_rows[pick], rows), np.where(found, cand_cols[pick], cols), found


def _mass_image(rows: np.ndarray, cols: np.ndarray, mass: np.ndarray, res: float) -> np.ndarray:
    """float64 grid holding the summed mass of the points in each cell."""
    shape = grid_shape(res)
    flat = np.bincount(flat_cell(rows, cols, res), weights=mass, minlength=shape[0] * shape[1])
    return flat.reshape(shape)


def _smooth(terms: list[tuple[float, np.ndarray, float]], res: float) -> np.ndarray:
    """Σ weight · G_σ * image over (weight, image, σ km) terms, with a separable Gaussian G_σ.

    North-south: a sampled Gaussian of σ_r = σ / (R · res in radians) rows (scipy, truncated at
    4σ, zero beyond the poles). East-west: a cell in row φ is cos φ times narrower, so σ_c = σ_r /
    cos φ columns, applied as the discrete Gaussian kernel e^{-t} I_n(t) with t = σ_c², whose
    transfer function is exp(t (cos ω - 1)). Multiplying each row's DFT by it is an exact circular
    convolution (wrapping at the antimeridian) with a kernel that is positive and of variance σ_c²
    at any width, and does every row at once. The terms share one inverse transform.
    """
    rows, cols = terms[0][1].shape
    km_per_row = EARTH_RADIUS_KM * np.radians(res)
    coslat = np.cos(np.radians(cell_centres(np.arange(rows), np.zeros(rows), res)[0]))[:, None]
    cos_omega_minus_1 = np.cos(2.0 * np.pi * np.arange(cols // 2 + 1) / cols)[None, :] - 1.0
    spectrum = np.zeros((rows, cols // 2 + 1), np.complex128)
    for weight, image, sigma_km in terms:
        sigma_rows = sigma_km / km_per_row
        north_south = gaussian_filter1d(image, sigma_rows, axis=0, mode="constant", truncate=4.0)
        transfer = np.exp((sigma_rows / coslat) ** 2 * cos_omega_minus_1)
        spectrum += fft.rfft(north_south, axis=1) * (weight * transfer)
    smoothed = fft.irfft(spectrum, n=cols, axis=1)
    # Round-off leaves values of order 1e-16 x the row maximum, some negative: not population.
    return np.maximum(smoothed, 0.0, out=smoothed)


def _scale_to_totals(weight: np.ndarray, country_index: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """weight · totals[c] / Σ_{cells of c} weight, cell by cell (0 where a country's weight is 0)."""
    sums = np.bincount(country_index.ravel(), weights=weight.ravel(), minlength=len(totals))
    factor = np.divide(totals, sums, out=np.zeros(len(totals)), where=sums > 0)
    factor[0] = 0.0
    return weight * factor[country_index]


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def write_geotiff(path: str | os.PathLike, array: np.ndarray, nodata: float | None = None) -> None:
    """Write a global grid as a tiled, DEFLATE-compressed single-band GeoTIFF in EPSG:4326.

    Floating-point predictor (3) for floats, horizontal differencing (2) for integers. GDAL
    writes no timestamp unless asked, so equal arrays give byte-identical files. The file is
    written under a temporary name and renamed, so a reader never sees half a grid.
    """
    n_rows, n_cols = array.shape
    res = 360.0 / n_cols
    if grid_shape(res) != array.shape:
        raise ValueError(f"write_geotiff: shape {array.shape} is not a global grid (cols must be 2 x rows)")
    if array.dtype.kind not in "fiu":
        raise ValueError(f"write_geotiff: dtype {array.dtype} is neither float nor integer")
    profile = {
        "driver": "GTiff", "width": n_cols, "height": n_rows, "count": 1, "dtype": array.dtype.name,
        "crs": "EPSG:4326", "transform": grid_transform(res), "nodata": nodata,
        "compress": "deflate", "zlevel": 6, "predictor": 3 if array.dtype.kind == "f" else 2,
        "tiled": True, "blockxsize": 256, "blockysize": 256,
    }
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with rasterio.open(partial, "w", **profile) as dst:
        dst.write(array, 1)
    os.replace(partial, path)


def read_geotiff(source: str | os.PathLike | bytes) -> np.ndarray:
    """The first band of a GeoTIFF (a file, or the file's bytes) as a numpy array."""
    if isinstance(source, bytes):
        with rasterio.MemoryFile(source) as memory, memory.open() as src:
            return src.read(1)
    with rasterio.open(source) as src:
        return src.read(1)


def country_totals(population: np.ndarray, country_index: np.ndarray, n_countries: int) -> np.ndarray:
    """Persons per country on the grid, in code order (index 0 of the country-index grid is no country)."""
    return np.bincount(country_index.ravel(), weights=population.ravel(), minlength=n_countries + 1)[1:]


def dense_share(population: np.ndarray, threshold_per_km2: float) -> float:
    """Share of the grid's people living in cells of at least `threshold_per_km2` persons per km²."""
    density = population / cell_area_km2(np.arange(population.shape[0]))[:, None]
    return float(population[density >= threshold_per_km2].sum() / population.sum())


def density_preview(population: np.ndarray, width: int = 1080) -> np.ndarray:
    """Persons per km² of the grid aggregated into f x f cells (f = cols / width)."""
    n_rows, n_cols = population.shape
    if n_cols % width or n_rows % (width // 2) or n_cols != 2 * n_rows:
        raise ValueError(f"density_preview: width {width} must divide the {n_cols} grid columns")
    f = n_cols // width
    persons = population.astype(np.float64).reshape(n_rows // f, f, width, f).sum(axis=(1, 3))
    area = cell_area_km2(np.arange(n_rows), 360.0 / n_cols).reshape(-1, f).sum(axis=1)[:, None] * f
    return persons / area
