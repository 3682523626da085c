"""The reference world as one in-memory object, loaded once per process from published datasets."""

from pathlib import Path

import polars as pl

from engine_assets.quality.contracts import load_contract
from engine_assets.run.identity import RunIdentity
from engine_assets.world.reference.assets import read_grids
from engine_assets.storage.datasets import load_dataset
from engine_kernels.reference.timezones import zone_of_points
from engine_kernels.reference.world import ReferenceWorld


_LOADED: dict[Path, ReferenceWorld] = {}


def reference_world(identity: RunIdentity) -> ReferenceWorld:
    """Populated cells, polygons and zones of the reference world of this identity.

    Loaded once per process and reference key: reference datasets are immutable under their key.
    """
    if identity.reference_root not in _LOADED:
        _LOADED[identity.reference_root] = _load(identity)
    return _LOADED[identity.reference_root]


def _load(identity: RunIdentity) -> ReferenceWorld:
    def load(name: str):
        return load_dataset(identity, load_contract(f"reference/{name}"), None)

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
