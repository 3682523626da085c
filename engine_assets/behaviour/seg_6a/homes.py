"""Homes on the map: customers live where people live, on the clock of where they live.

A home is placed like a single shop of 1B (engine_kernels/sites/placement.py): a populated cell
drawn by population, then a point inside the cell and the country's polygon, under 6A's own
substream labels. Its zone comes from 2A's rules (engine_kernels/civil_time/site_zones.py).
"""

from collections.abc import Callable

import numpy as np
import polars as pl

from engine_assets.storage.reader import Reader
from engine_assets.world.reference.world import reference_world
from engine_assets.world.seg_2a.clock import labelled_cells
from engine_kernels.civil_time.site_zones import site_zones
from engine_kernels.entities.country import Homes
from engine_kernels.entities.draws import Draws
from engine_kernels.geography.geodesy import flat_cell
from engine_kernels.randomness import substreams
from engine_kernels.sites.placement import SiteGroups, place_sites


def home_placer(read: Reader, country: str, tz_cells: pl.DataFrame, draws: Draws) -> Callable[[np.ndarray], Homes]:
    """Places the homes of `country` whose unit ids (households, or parties living alone in law) it is given."""
    identity = read.identity
    world = reference_world(read)
    civil_time = identity.policies.civil_time.model

    def keys(label: str) -> int:
        return identity.substream_key(substreams.HOME_PREFIX + label)

    def fallback() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        everywhere = world.populated_cells(country)
        inland = world.contains(country, everywhere.lat, everywhere.lon, full=True)
        flat = flat_cell(everywhere.rows, everywhere.cols, everywhere.resolution)
        return everywhere.lat[inland], everywhere.lon[inland], flat[inland]

    def place(units: np.ndarray) -> Homes:
        n = units.shape[0]
        if n == 0:
            return Homes(np.zeros(0), np.zeros(0), np.zeros(0, np.int32), np.zeros(0, dtype=object))
        one = np.ones(n, np.int64)
        sites = place_sites(SiteGroups(units, one, one, one), world.populated_cells(country), (np.zeros(0),) * 3,
                            world.polygon(country), fallback, identity.policies.placement.model, keys)
        for label, words in sites.draws.items():
            draws.words[substreams.HOME_PREFIX + label] = draws.words.get(substreams.HOME_PREFIX + label, 0) + words
        zones = site_zones(
            sites.lat, sites.lon, lambda lat, lon: world.zones_at(country, lat, lon),
            lambda: labelled_cells(tz_cells, set(world.country_zones.get(country, ()))),
            civil_time.nudge_deg, civil_time.overrides.get(country),
            tuple(sorted(world.country_zones.get(country, ()))),
        )
        return Homes(sites.lat, sites.lon, sites.cell.astype(np.int32), zones.tzid)

    return place
