"""Segment 1B: every outlet on the map of its country."""

from engine_assets.world.seg_1b import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba", "shapely")
