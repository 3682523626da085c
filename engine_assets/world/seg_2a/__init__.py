"""Segment 2A: the time zone of every site and the engine's clock."""

from engine_assets.world.seg_2a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("shapely",)
