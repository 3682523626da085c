"""Segment 5A: intensity surfaces (weekly volumes, weekly shapes and calendars)."""

from engine_assets.clock.seg_5a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba",)
