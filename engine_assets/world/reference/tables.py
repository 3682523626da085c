"""The published reference tables, assembled from what the kernels read out of the pinned packages.

Column names and Arrow types follow contracts/reference/*.yaml; the kernels
(engine_kernels/reference/{countries,cities,mcc,holidays_table,timezones}.py) know the data, not
the columns.
"""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from engine_kernels.geography.geodesy import flat_cell
from engine_kernels.reference import population, timezones
from engine_kernels.reference.cities import Places
from engine_kernels.reference.countries import AbsentCodes, CountryColumns
from engine_kernels.reference.holidays_table import Holiday
from engine_kernels.reference.mcc import MerchantCategory


def weekend_mask(days: list[int]) -> int:
    """Bit d set for each weekend day d (0 = Monday)."""
    return sum(1 << d for d in days)


def countries_table(countries: CountryColumns) -> pa.Table:
    return pa.table({
        "country_iso": pa.array(countries.iso, pa.string()),
        "country_iso3": pa.array(countries.iso3, pa.string()),
        "name": pa.array(countries.name, pa.string()),
        "region": pa.array(countries.region, pa.string()),
        "subregion": pa.array(countries.subregion, pa.string()),
        "currency": pa.array(countries.currency, pa.string()),
        "population": pa.array(countries.population, pa.int64()),
        "gdp_usd": pa.array(countries.gdp_usd, pa.float64()),
        "gdp_per_capita": pa.array(countries.gdp_per_capita, pa.float64()),
        "gdp_imputed": pa.array(countries.gdp_imputed, pa.bool_()),
        "income_group": pa.array(countries.income_group, pa.string()),
        "geometry_wkb": pa.array(countries.geometry_wkb, pa.binary()),
        "geometry_simplified_wkb": pa.array(countries.simplified_wkb, pa.binary()),
        "is_populated_world": pa.array(countries.populated, pa.bool_()),
        "weekend_mask": pa.array([weekend_mask(days) for days in countries.weekend_days], pa.uint8()),
    })


def absent_countries_table(absent: AbsentCodes) -> pa.Table:
    return pa.table({
        "country_iso": pa.array(absent.iso, pa.string()),
        "name": pa.array(absent.name, pa.string()),
        "reason": pa.array(absent.reason, pa.string()),
        "merged_into": pa.array(absent.merged_into, pa.string()),
    })


def cities_table(places: Places) -> pa.Table:
    return pa.table({
        "city_id": pa.array(places.geonameid, pa.int64()),
        "name": pa.array(places.name, pa.string()),
        "country_iso": pa.array(places.country, pa.string()),
        "lat_deg": pa.array(places.lat, pa.float64()),
        "lon_deg": pa.array(places.lon, pa.float64()),
        "population": pa.array(places.population, pa.int64()),
        "tzid": pa.array(places.tzid, pa.string()),
    })


def mcc_table(categories: list[MerchantCategory]) -> pa.Table:
    return pa.table({
        "mcc": pa.array([c.mcc for c in categories], pa.int16()),
        "description": pa.array([c.description for c in categories], pa.string()),
        "iso_description": pa.array([c.iso_description for c in categories], pa.string()),
        "range_group": pa.array([c.range_group for c in categories], pa.string()),
        "demand_sector": pa.array([c.demand_sector for c in categories], pa.string()),
    })


def holidays_table(holidays: list[Holiday]) -> pa.Table:
    return pa.table({
        "country_iso": pa.array([h.country for h in holidays], pa.string()),
        "date": pa.array([h.day for h in holidays], pa.date32()),
        "name": pa.array([h.name for h in holidays], pa.string()),
        "kind": pa.array([h.kind for h in holidays], pa.string()),
    })


def tz_grid_table(labelled: timezones.TzGrid, grid: np.ndarray) -> pa.Table:
    """Every labelled cell in cell order, with its country, zone, population and label source."""
    cells = flat_cell(labelled.rows, labelled.cols, 360 / grid.shape[1])
    order = np.argsort(cells, kind="stable")
    return pa.table({
        "cell": pa.array(cells[order].astype(np.int32)),
        "country_iso": pa.array(labelled.country_iso[order].astype(str)).dictionary_encode(),
        "tzid": pa.array(labelled.tzid[order].astype(str)).dictionary_encode(),
        "population": pa.array(grid.ravel()[cells[order]].astype(np.float32)),
        "source": pa.array(np.asarray(timezones.LABEL_SOURCES, dtype=object)[labelled.source[order]].astype(str)).dictionary_encode(),
    })


def tz_zones_table(shares: timezones.ZoneShares, zones: dict[str, list[str]], codes: list[str]) -> pa.Table:
    """Every listed zone of every country in the grid, with its population (0 if none lives there)."""
    populated = {(c, z): (p, s) for c, z, p, s in zip(shares.country_iso, shares.tzid, shares.population, shares.share)}
    rows = sorted({(c, z) for c in codes for z in zones.get(c, [])} | set(populated))
    return pa.table({
        "country_iso": [c for c, _ in rows],
        "tzid": [z for _, z in rows],
        "population": [float(populated.get(r, (0.0, 0.0))[0]) for r in rows],
        "population_share": [float(populated.get(r, (0.0, 0.0))[1]) for r in rows],
    })


def read_grids(files: dict[str, Path]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Population grid, country-index grid and codes from a published population_grid (local or object store)."""
    return (
        population.read_geotiff(files["population.tif"].read_bytes()),
        population.read_geotiff(files["country_index.tif"].read_bytes()),
        json.loads(files["country_codes.json"].read_text()),
    )
