"""Segment 1A: merchants and their outlets per country."""

from engine_assets.world.seg_1a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba",)
