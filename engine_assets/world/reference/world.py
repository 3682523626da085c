"""The reference world as one in-memory object, loaded once per process from published datasets."""

from pathlib import Path

import polars as pl

from engine_assets.storage.reader import Reader
from engine_assets.world.reference.tables import read_grids
from engine_kernels.reference.timezones import zone_of_points
from engine_kernels.reference.world import ReferenceWorld

_LOADED: dict[Path, ReferenceWorld] = {}
# What the reference world is built from: an asset that asks for it declares these (`reads=WORLD_DATASETS`).
WORLD_DATASETS = ("reference/population_grid", "reference/countries", "reference/tz_grid", "reference/tz_zones")


def reference_world(read: Reader) -> ReferenceWorld:
    """Populated cells, polygons and zones of the reference world of the reader's identity.

    Loaded once per process and reference key: reference datasets are immutable under their key.
    Every call is a read of WORLD_DATASETS, declared and gated, even when the world is cached.
    """
    read.require(*WORLD_DATASETS)
    root = read.identity.reference_root
    if root not in _LOADED:
        _LOADED[root] = _load(read)
    return _LOADED[root]


def _load(read: Reader) -> ReferenceWorld:
    def load(name: str):
        return read.scan(f"reference/{name}")

    population, index, codes = read_grids(load("population_grid"))
    countries = load("countries").select("country_iso", "geometry_wkb", "geometry_simplified_wkb").collect()
    cells = (
        load("tz_grid").select(pl.col("tzid").cast(pl.String), "cell").collect()
        .group_by("tzid").agg(pl.col("cell")).sort("tzid")
    )
    zones = load("tz_zones").select("country_iso", "tzid").collect().group_by("country_iso").agg("tzid")
    return ReferenceWorld(
        population=population,
        country_index=index,
        codes=codes,
        cell_zone={t: c.to_numpy() for t, c in zip(cells["tzid"], cells["cell"])},
        polygons=dict(zip(countries["country_iso"], countries["geometry_simplified_wkb"])),
        full_polygons=dict(zip(countries["country_iso"], countries["geometry_wkb"])),
        country_zones={c: list(z) for c, z in zip(zones["country_iso"], zones["tzid"])},
        zone_lookup=zone_of_points,
    )
