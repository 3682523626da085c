"""Segment 6A: the entity world, per country and scenario-free."""

from engine_assets.behaviour.seg_6a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("numba", "shapely")
