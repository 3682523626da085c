"""Pictures of the world for validation reports: PNG encoding and sites over population.

No plotting library: a PNG is a header and zlib-compressed scanlines, and a map here is a
raster the engine already has (the population grid) with sites burnt in.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

__all__ = ["encode_png", "grey_density", "sites_map"]


def encode_png(image: np.ndarray) -> bytes:
    """PNG of an 8-bit image: (H, W) greyscale or (H, W, 3) RGB; filter type 0, one IDAT chunk."""
    image = np.ascontiguousarray(image, np.uint8)
    if image.ndim == 2:
        colour, channels = 0, 1
    elif image.ndim == 3 and image.shape[2] == 3:
        colour, channels = 2, 3
    else:
        raise ValueError(f"encode_png: need (H, W) or (H, W, 3), got {image.shape}")
    height, width = image.shape[:2]
    scanlines = np.zeros((height, width * channels + 1), np.uint8)
    scanlines[:, 1:] = image.reshape(height, width * channels)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(scanlines.tobytes(), 9))
            + chunk(b"IEND", b""))


def grey_density(density: np.ndarray) -> np.ndarray:
    """uint8 grey: black where nobody lives, log10(density) 0.1..10,000 per km² onto 48..255."""
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.clip((np.log10(density) + 1.0) / 5.0, 0.0, 1.0)
    return np.where(density > 0, 48 + np.round(207 * level), 0).astype(np.uint8)


def sites_map(density: np.ndarray, bounds: tuple[float, float, float, float], lat: np.ndarray, lon: np.ndarray,
              scale: int = 1, dot: int = 1) -> bytes:
    """PNG of a density raster covering bounds (south, west, north, east) in grey, each site a red
    dot x dot square (each raster cell drawn as scale x scale pixels)."""
    grey = np.repeat(np.repeat(grey_density(density), scale, axis=0), scale, axis=1)
    rgb = np.stack([grey, grey, grey], axis=2)
    south, west, north, east = bounds
    height, width = grey.shape
    lat, lon = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    shown = (lat >= south) & (lat <= north) & (lon >= west) & (lon <= east)  # sites off the frame are left out
    row = np.clip(((north - lat[shown]) / (north - south) * height).astype(np.int64), 0, height - 1)
    col = np.clip(((lon[shown] - west) / (east - west) * width).astype(np.int64), 0, width - 1)
    for dr in range(dot):
        for dc in range(dot):
            rgb[np.minimum(row + dr, height - 1), np.minimum(col + dc, width - 1)] = (255, 40, 40)
    return encode_png(rgb)
