"""The Earth as the engine measures it: one sphere, one distance, one grid and its cell ids.

sphere    radius R = 6371.0088 km, the IUGG mean radius.
distance  great-circle distance by the haversine formula, d = 2R·asin(√h) with
          h = sin²(Δφ/2) + cos φ1 · cos φ2 · sin²(Δλ/2); between unit vectors p and q the
          chord c = |p − q| gives the same arc, d = 2R·asin(c/2).
grid      regular latitude/longitude cells of `res` degrees (1/12 by default: 2160 rows by
          4320 columns), row 0 at the north pole, column 0 at 180° W. A cell's flat id is
          row · columns + col, the row-major position in the grid's arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EARTH_RADIUS_KM",
    "RESOLUTION",
    "cell_area_km2",
    "cell_centres",
    "cell_lat",
    "cell_lon",
    "cell_of",
    "cell_rows_cols",
    "chord_km",
    "flat_cell",
    "grid_shape",
    "haversine_km",
    "pairwise_haversine_km",
    "unit_vectors",
]

EARTH_RADIUS_KM = 6371.0088
RESOLUTION = 1 / 12


# --------------------------------------------------------------------------------------------
# Distances
# --------------------------------------------------------------------------------------------


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance (km) between points given in degrees, elementwise (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def pairwise_haversine_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """float64[n, n]: great-circle distance (km) between every pair of n points given in degrees."""
    phi = np.radians(lat)
    lam = np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi)[:, None] * np.cos(phi)[None, :] * np.sin(dlam / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def unit_vectors(lat, lon) -> np.ndarray:
    """float64[n, 3], C-contiguous: (x, y, z) on the unit sphere of points given in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])


def chord_km(chord: np.ndarray) -> np.ndarray:
    """Great-circle distance (km) spanned by chords |p − q| between unit vectors."""
    return 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


# --------------------------------------------------------------------------------------------
# Grid
# --------------------------------------------------------------------------------------------


def grid_shape(res: float = RESOLUTION) -> tuple[int, int]:
    """(rows, cols) of the global grid at `res` degrees: (180/res, 360/res)."""
    rows, cols = round(180 / res), round(360 / res)
    if not np.isclose(rows * res, 180.0):
        raise ValueError(f"resolution {res} does not divide 180 degrees into whole cells")
    return rows, cols


def cell_lat(rows: np.ndarray, res: float = RESOLUTION) -> np.ndarray:
    """Latitude of the centres of cells in `rows`: 90 - (row + 1/2) res."""
    return 90.0 - (np.asarray(rows, np.float64) + 0.5) * res


def cell_lon(cols: np.ndarray, res: float = RESOLUTION) -> np.ndarray:
    """Longitude of the centres of cells in `cols`: -180 + (col + 1/2) res."""
    return -180.0 + (np.asarray(cols, np.float64) + 0.5) * res


def cell_centres(rows: np.ndarray, cols: np.ndarray, res: float = RESOLUTION) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) of cell centres (`cell_lat`, `cell_lon`)."""
    return cell_lat(rows, res), cell_lon(cols, res)


def cell_of(lat: np.ndarray, lon: np.ndarray, res: float = RESOLUTION) -> tuple[np.ndarray, np.ndarray]:
    """(row, col) of the cells holding points: row = floor((90 - lat)/res), col = floor((lon + 180)/res).

    Rows are clipped to the grid (the poles belong to the first and last rows); columns wrap, so
    lon = 180 falls in column 0 together with lon = -180.
    """
    n_rows, n_cols = grid_shape(res)
    row = np.clip(np.floor((90.0 - np.asarray(lat, np.float64)) / res), 0, n_rows - 1).astype(np.int64)
    col = np.mod(np.floor((np.asarray(lon, np.float64) + 180.0) / res), n_cols).astype(np.int64)
    return row, col


def flat_cell(rows: np.ndarray, cols: np.ndarray, res: float = RESOLUTION) -> np.ndarray:
    """int64 flat ids of cells (row, col): row · columns + col."""
    return np.asarray(rows, np.int64) * grid_shape(res)[1] + np.asarray(cols, np.int64)


def cell_rows_cols(flat: np.ndarray, res: float = RESOLUTION) -> tuple[np.ndarray, np.ndarray]:
    """int64 (rows, cols) of flat cell ids, the inverse of `flat_cell`."""
    return np.divmod(np.asarray(flat, np.int64), grid_shape(res)[1])


def cell_area_km2(rows: np.ndarray, res: float = RESOLUTION) -> np.ndarray:
    """Spherical area of one cell in each row: R^2 · Δλ · (sin φ_north - sin φ_south), in km²."""
    north = np.radians(90.0 - np.asarray(rows, np.float64) * res)
    south = north - np.radians(res)
    return EARTH_RADIUS_KM**2 * np.radians(res) * (np.sin(north) - np.sin(south))
