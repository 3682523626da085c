"""Segment 2B: site weights, alias tables and daily shocks."""

from engine_assets.world.seg_2b import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba",)
