"""Segment-wide checks of the reference world, with the figures behind each verdict.

Blocking: every active country has a polygon, populated cells and a zone; grid totals match
the country table; every zone resolves in the pinned tzdata; every ISO code is present or
listed as absent. Realism (corridors from the design): largest countries within 2%, share of
people in dense cells, and the known zone structure of the US, China and India.
"""

import zoneinfo
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.contracts import load_contract
from engine_assets.gates import CheckOutcome, validation_asset
from engine_assets.identity import RunIdentity
from engine_assets.segments.reference import GROUP, read_grids
from engine_assets.storage import load_dataset
from engine_kernels.reference.countries import iso_alpha2_codes
from engine_kernels.reference.population import cell_area_km2


@dataclass(frozen=True)
class ReferenceData:
    countries: pl.DataFrame
    absent: pl.DataFrame
    population: np.ndarray
    country_index: np.ndarray
    codes: list[str]
    tz_zones: pl.DataFrame
    tzids: list[str]
    preview: bytes


def load_reference_data(identity: RunIdentity) -> ReferenceData:
    def load(name: str):
        return load_dataset(identity, load_contract(f"reference/{name}"), None)

    grids = load("population_grid")
    population, index, codes = read_grids(grids)
    return ReferenceData(
        countries=load("countries").drop("geometry_wkb", "geometry_simplified_wkb").collect(),
        absent=load("absent_countries").collect(),
        population=population,
        country_index=index,
        codes=codes,
        tz_zones=load("tz_zones").collect(),
        tzids=load("tz_grid").select(pl.col("tzid").cast(pl.String).unique()).collect()["tzid"].to_list(),
        preview=grids["preview.png"].read_bytes(),
    )


def _grid_totals(data: ReferenceData) -> dict[str, float]:
    sums = np.bincount(data.country_index.ravel(), weights=data.population.ravel(), minlength=len(data.codes) + 1)
    return {code: float(sums[i + 1]) for i, code in enumerate(data.codes)}


def coverage_outcomes(data: ReferenceData, active: list[str]) -> list[CheckOutcome]:
    """Blocking checks: the reference world covers every active country and adds up."""
    table = dict(zip(data.countries["country_iso"], data.countries["population"]))
    grid = _grid_totals(data)
    zoned = set(data.tz_zones.filter(pl.col("population") > 0)["country_iso"])
    missing_polygon = [c for c in active if c not in table]
    no_cells = [c for c in active if table.get(c, 0) > 0 and grid.get(c, 0) <= 0]
    no_zone = [c for c in active if table.get(c, 0) > 0 and c not in zoned]
    world_table = sum(table[c] for c in data.codes)
    world_error = abs(float(data.population.sum()) - world_table) / world_table
    known = set(iso_alpha2_codes())
    listed = set(table) | set(data.absent["country_iso"])
    unresolved = sorted(set(data.tzids) - zoneinfo.available_timezones())
    return [
        CheckOutcome("active_countries_have_polygons", not missing_polygon, len(missing_polygon), "== 0",
                     {"missing": missing_polygon}),
        CheckOutcome("active_countries_have_populated_cells", not no_cells, len(no_cells), "== 0", {"missing": no_cells}),
        CheckOutcome("active_countries_have_zones", not no_zone, len(no_zone), "== 0", {"missing": no_zone}),
        CheckOutcome("world_population_matches_table", world_error <= 0.01, round(world_error, 6), "<= 0.01"),
        CheckOutcome("iso_codes_present_or_absent_with_reason", listed == known, len(known ^ listed), "== 0",
                     {"unaccounted": sorted(known - listed), "unknown": sorted(listed - known)}),
        CheckOutcome("zones_resolve_in_pinned_tzdata", not unresolved, len(unresolved), "== 0", {"unresolved": unresolved}),
    ]


def realism_outcomes(data: ReferenceData) -> list[CheckOutcome]:
    """Realism corridors: population where people live, zones as the countries use them."""
    table = dict(zip(data.countries["country_iso"], data.countries["population"]))
    grid = _grid_totals(data)
    largest = sorted(data.codes, key=lambda c: -table[c])[:10]
    errors = {c: round(abs(grid[c] - table[c]) / table[c], 6) for c in largest}
    rows = np.arange(data.population.shape[0])
    density = data.population / cell_area_km2(rows)[:, None]
    dense_share = float(data.population[density >= 1000].sum() / data.population.sum())

    def shares(country: str) -> dict[str, float]:
        part = data.tz_zones.filter((pl.col("country_iso") == country) & (pl.col("population") > 0))
        return dict(zip(part["tzid"], part["population_share"]))

    us, cn, india = shares("US"), shares("CN"), shares("IN")
    us_ok = len(us) >= 6 and max(us, key=us.get) == "America/New_York"
    cn_ok = max(cn, key=cn.get) == "Asia/Shanghai" and set(cn) <= {"Asia/Shanghai", "Asia/Urumqi"}
    return [
        CheckOutcome("largest_countries_within_2pct", max(errors.values()) <= 0.02, max(errors.values()), "<= 0.02",
                     {"relative_error": errors}),
        CheckOutcome("dense_cell_population_share", 0.20 <= dense_share <= 0.45, round(dense_share, 4), "0.20-0.45",
                     {"threshold_per_km2": 1000}),
        CheckOutcome("us_zones", us_ok, len(us), ">= 6 populated zones, America/New_York largest",
                     {"shares": {k: round(v, 4) for k, v in sorted(us.items(), key=lambda kv: -kv[1])}}),
        CheckOutcome("cn_zones", cn_ok, round(cn.get("Asia/Shanghai", 0.0), 4), "Asia/Shanghai largest, only Urumqi besides",
                     {"shares": cn}),
        CheckOutcome("in_zones", set(india) == {"Asia/Kolkata"}, len(india), "Asia/Kolkata only", {"shares": india}),
    ]


def evaluate(identity: RunIdentity) -> tuple[list[CheckOutcome], dict[str, bytes]]:
    data = load_reference_data(identity)
    active = list(identity.profile.countries or data.codes)
    return coverage_outcomes(data, active) + realism_outcomes(data), {"population_preview.png": data.preview}


validation = validation_asset(
    GROUP,
    deps=[["reference", name] for name in ("countries", "absent_countries", "population_grid", "tz_grid", "tz_zones")],
    evaluate=evaluate,
    description="Coverage, totals and realism of the reference world; writes the bundle and _passed.flag.",
)
