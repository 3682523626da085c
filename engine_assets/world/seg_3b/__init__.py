"""Segment 3B: virtual merchants, settlement clocks and CDN edges."""

from engine_assets.world.seg_3b import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba", "shapely")
