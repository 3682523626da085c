"""Segment 6B: payments per scenario and day (part 1: legitimate behaviour, its flows, events and sessions)."""

from engine_assets.behaviour.seg_6b import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba", "scipy")
