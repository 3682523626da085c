"""Segment 5B: burst fields and arrivals, day by day."""

from engine_assets.clock.seg_5b import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
