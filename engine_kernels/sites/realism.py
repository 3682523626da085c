"""Realism figures of placed sites and edges (segment 1B and 3B validations).

distinct_share        sites with a distinct (lat, lon) rounded to 4 decimals / sites
density_correlation   Pearson correlation, over the 1° cells where the country has people, of
                      sites per cell and persons per cell
neighbour_ratio       median over sites of multi-site (merchant, country) groups of
                      d_nn / m_country: d_nn the great-circle distance to the nearest site of the
                      same merchant, m_country the median distance between random pairs of the
                      country's sites
jensen_shannon        JS(p, q) = ½ KL(p ‖ m) + ½ KL(q ‖ m), m = (p + q) / 2, base 2 (0 log 0 = 0):
                      0 for equal distributions, 1 for disjoint ones
median_pair_divergence  median JS over a fixed sample of pairs of distinct rows (3B: how much
                      two merchants' edge-country mixes differ)
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from engine_kernels.geography.geodesy import cell_of, chord_km, flat_cell, grid_shape, unit_vectors

__all__ = [
    "density_correlation", "distinct_share", "jensen_shannon", "median_pair_divergence", "neighbour_distances",
    "random_pair_median_km",
]


def distinct_share(lat: np.ndarray, lon: np.ndarray) -> float:
    if lat.size == 0:
        return 1.0
    keys = np.round(np.asarray(lat) * 1e4).astype(np.int64) * 10_000_000 + np.round(np.asarray(lon) * 1e4).astype(np.int64)
    return float(np.unique(keys).size / lat.size)


def _degree_cell(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return flat_cell(*cell_of(lat, lon, 1.0), 1.0)


def density_correlation(site_lat, site_lon, cell_lat, cell_lon, cell_population) -> float:
    """Correlation of sites and people per 1° cell, over the cells where people live."""
    n_cells = np.prod(grid_shape(1.0))
    people = np.bincount(_degree_cell(cell_lat, cell_lon), weights=cell_population, minlength=n_cells)
    sites = np.bincount(_degree_cell(site_lat, site_lon), minlength=n_cells).astype(np.float64)
    used = people > 0
    if used.sum() < 3 or sites[used].std() == 0:
        return float("nan")
    return float(np.corrcoef(sites[used], people[used])[0, 1])


def neighbour_distances(group: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance (km) of each site of a group with >= 2 sites to the nearest other site of its group;
    `group` labels sites (sorted or not). Sites alone in their group are left out."""
    group = np.asarray(group)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.concatenate(([True], group[order][1:] != group[order][:-1])))
    ends = np.append(starts[1:], order.size)
    points = unit_vectors(np.asarray(lat)[order], np.asarray(lon)[order])
    out = []
    for a, b in zip(starts, ends):
        if b - a >= 2:
            chord, _ = cKDTree(points[a:b]).query(points[a:b], k=2)
            out.append(chord[:, 1])
    return chord_km(np.concatenate(out)) if out else np.empty(0)


def random_pair_median_km(lat: np.ndarray, lon: np.ndarray, pairs: int = 20_000, seed: int = 0) -> float:
    """Median distance between random pairs of distinct sites (a fixed sample, reproducible)."""
    n = lat.shape[0]
    if n < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, pairs)
    j = (i + rng.integers(1, n, pairs)) % n
    points = unit_vectors(lat, lon)
    return float(np.median(chord_km(np.linalg.norm(points[i] - points[j], axis=1))))


def _kl_bits(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, x * np.log2(x / y), 0.0).sum(axis=1)


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon divergence (base 2) between each row of `p` and the same row of `q`."""
    m = (p + q) / 2
    return (_kl_bits(p, m) + _kl_bits(q, m)) / 2


def median_pair_divergence(rows: np.ndarray, pairs: int = 2000, seed: int = 7) -> float:
    """Median Jensen-Shannon divergence over `pairs` random pairs of distinct rows of `rows`
    (distributions, one a row); a fixed sample, so the figure is reproducible. NaN below two rows."""
    if rows.shape[0] < 2:
        return float("nan")
    rng = np.random.default_rng(seed)
    i = rng.integers(0, rows.shape[0], pairs)
    j = (i + rng.integers(1, rows.shape[0], pairs)) % rows.shape[0]
    return float(np.median(jensen_shannon(rows[i], rows[j])))
