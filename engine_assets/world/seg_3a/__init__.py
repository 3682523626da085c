"""Segment 3A: how a merchant's sites split across its countries' time zones."""

from engine_assets.world.seg_3a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba",)
