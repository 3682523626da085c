"""Segment 5B: burst fields and arrivals, day by day."""

from engine_assets.clock.seg_5b import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba",)
