"""Who shops where: each card-active party's favourite site per sector, and the homes nearest each site.

A party picks its favourite among the `candidates` nearest sites of a sector with a Huff gravity
weight, the site's weekly volume x (1 + km / distance_km)^-exponent, so big stores draw from
farther and a party far from every store still has one. A site's neighbours are the card-active
homes nearest to it, as many as its walk-in volume needs. Distances are great-circle kilometres
from 3-D unit vectors (a k-d tree over chords is exact for nearest-neighbour order).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["EARTH_KM", "favourites", "great_circle_km", "huff_choice", "neighbours", "unit_vectors"]

EARTH_KM = 6371.0088


def unit_vectors(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _chord_km(chord: np.ndarray) -> np.ndarray:
    return 2 * EARTH_KM * np.arcsin(np.clip(chord / 2, 0, 1))


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    return _chord_km(np.linalg.norm(unit_vectors(lat1, lon1) - unit_vectors(lat2, lon2), axis=1))


def favourites(homes: np.ndarray, sites: np.ndarray, volume: np.ndarray, u: np.ndarray, candidates: int,
               distance_km: float, exponent: float, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(site index, km) of each home's favourite among `sites` (unit vectors) by Huff weight; `u` is
    one uniform per home."""
    return huff_choice(cKDTree(sites), homes, volume, u, candidates, distance_km, exponent, workers)


def huff_choice(tree: cKDTree, homes: np.ndarray, volume: np.ndarray, u: np.ndarray, candidates: int,
                distance_km: float, exponent: float, workers: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(index into the tree's points, km) of each home's pick among its `candidates` nearest points
    by Huff weight, volume x (1 + km / distance_km)^-exponent; `u` is one uniform per home."""
    k = min(candidates, tree.n)
    chord, index = tree.query(homes, k=k, workers=workers)
    chord, index = chord.reshape(homes.shape[0], k), index.reshape(homes.shape[0], k)
    km = _chord_km(chord)
    weight = volume[index] * (1.0 + km / distance_km) ** -exponent
    cumulative = np.cumsum(weight, axis=1)
    pick = np.minimum((u[:, None] * cumulative[:, -1:] >= cumulative).sum(axis=1), k - 1)
    rows = np.arange(homes.shape[0])
    return index[rows, pick], km[rows, pick]


def neighbours(sites: np.ndarray, homes: np.ndarray, counts: np.ndarray,
               workers: int = 2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets, home index, km): the counts[s] homes nearest each site s, nearest first, as a CSR
    over sites. Sites are queried in groups of equal power-of-two k so big sites cost one query."""
    counts = np.minimum(counts, homes.shape[0]).astype(np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    home = np.empty(offsets[-1], np.int64)
    km = np.empty(offsets[-1], np.float64)
    if offsets[-1] == 0:
        return offsets, home, km
    tree = cKDTree(homes)
    group = np.ceil(np.log2(np.maximum(counts, 1))).astype(np.int64)
    for g in np.unique(group[counts > 0]):
        members = np.flatnonzero((group == g) & (counts > 0))
        k = int(min(1 << g, homes.shape[0]))
        chord, index = tree.query(sites[members], k=k, workers=workers)
        chord, index = chord.reshape(members.size, k), index.reshape(members.size, k)
        take = np.arange(k)[None, :] < counts[members][:, None]
        at = offsets[members][:, None] + np.arange(k)[None, :]
        home[at[take]] = index[take]
        km[at[take]] = _chord_km(chord[take])
    return offsets, home, km
