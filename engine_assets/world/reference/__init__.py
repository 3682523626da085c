"""The reference world: countries, cities, MCCs, population and zone grids, holidays."""

from engine_assets.world.reference import assets, validation

ASSETS = [*assets.ASSETS, validation.validation]
CHECKS = [validation.population_grid_realism, validation.tz_zones_realism]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("rasterio", "shapely")
