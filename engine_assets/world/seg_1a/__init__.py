"""Segment 1A: merchants and their outlets per country."""

from engine_assets.world.seg_1a import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
