"""Rasters of the world for pictures: population density in grey, sites burnt in red, a country's frame.

Pure numpy: a raster here is an (H, W) or (H, W, 3) uint8 array; engine_assets/quality/plots.py
turns it into a PNG. Bounds are (south, west, north, east) in degrees, row 0 at the north.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.geography.geodesy import cell_area_km2

__all__ = ["WORLD", "Frame", "country_frame", "grey_density", "sites_raster"]

WORLD = (-90.0, -180.0, 90.0, 180.0)
SITE_RGB = (255, 40, 40)


def grey_density(density: np.ndarray) -> np.ndarray:
    """uint8 grey: black where nobody lives, log10(density) 0.1..10,000 per km² onto 48..255."""
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.clip((np.log10(density) + 1.0) / 5.0, 0.0, 1.0)
    return np.where(density > 0, 48 + np.round(207 * level), 0).astype(np.uint8)


def sites_raster(density: np.ndarray, bounds: tuple[float, float, float, float], lat: np.ndarray, lon: np.ndarray,
                 scale: int = 1, dot: int = 1) -> np.ndarray:
    """RGB raster of a density grid covering `bounds` in grey (each cell scale x scale pixels), each
    site a red dot x dot square; sites outside the bounds are left out."""
    grey = np.repeat(np.repeat(grey_density(density), scale, axis=0), scale, axis=1)
    rgb = np.stack([grey, grey, grey], axis=2)
    south, west, north, east = bounds
    height, width = grey.shape
    lat, lon = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    shown = (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)
    row = np.clip(((north - lat[shown]) / (north - south) * height).astype(np.int64), 0, height - 1)
    col = np.clip(((lon[shown] - west) / (east - west) * width).astype(np.int64), 0, width - 1)
    for dr in range(dot):
        for dc in range(dot):
            rgb[np.minimum(row + dr, height - 1), np.minimum(col + dc, width - 1)] = SITE_RGB
    return rgb


@dataclass(frozen=True)
class Frame:
    """A window of the population grid: persons per km², its bounds, and the pixels per cell to draw it."""

    density: np.ndarray
    bounds: tuple[float, float, float, float]
    scale: int


def country_frame(population: np.ndarray, lat: np.ndarray, lon: np.ndarray, pixels: int = 900) -> Frame:
    """The window of the global grid around the bulk of a country's sites (1st-99th percentile of
    latitude and longitude, 2° margin), drawn about `pixels` wide: a country's far islands or an
    antimeridian crossing would otherwise shrink the mainland to a few pixels."""
    res = 360 / population.shape[1]
    (south, north), (west, east) = (np.percentile(np.asarray(x), [1, 99]) for x in (lat, lon))
    r0, r1 = int(max((90 - north - 2) / res, 0)), int(min((90 - south + 2) / res, population.shape[0]))
    c0, c1 = int(max((west + 178) / res, 0)), int(min((east + 182) / res, population.shape[1]))
    density = population[r0:r1, c0:c1].astype(np.float64) / cell_area_km2(np.arange(r0, r1))[:, None]
    bounds = (90 - r1 * res, -180 + c0 * res, 90 - r0 * res, -180 + c1 * res)
    return Frame(density, bounds, max(1, pixels // max(density.shape)))
