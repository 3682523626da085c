"""The run's identity card, published before anything else."""

from engine_assets.world.engine import assets

ASSETS = [*assets.ASSETS]
