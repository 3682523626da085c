"""Segment 5A: intensity surfaces (weekly volumes, weekly shapes and calendars)."""

from engine_assets.clock.seg_5a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
