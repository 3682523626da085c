"""Segment-wide checks of the reference world, with the figures behind each verdict.

Blocking (in the validation bundle): every active country has a polygon, populated cells and a zone; grid totals match
the country table; every zone resolves in the pinned tzdata; every ISO code is present or
listed as absent. Realism (corridors from the design): largest countries within 2%, share of
people in dense cells, and the known zone structure of the US, China and India; these are also
asset checks on population_grid and tz_zones, with their figures in the check metadata.
"""

import zoneinfo
from dataclasses import dataclass, replace

import dagster as dg

import numpy as np
import polars as pl

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import CheckOutcome, ValidationCheck, validation_asset
from engine_assets.run.identity import RunIdentity
from engine_assets.run.resources import EngineResource
from engine_assets.world.reference.assets import GROUP, read_grids
from engine_assets.storage.datasets import load_dataset
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


def _load(identity: RunIdentity, name: str):
    return load_dataset(identity, load_contract(f"reference/{name}"), None)


def load_population_data(identity: RunIdentity) -> ReferenceData:
    """Countries and grids only: what the population checks need."""
    grids = _load(identity, "population_grid")
    population, index, codes = read_grids(grids)
    return ReferenceData(
        countries=_load(identity, "countries").drop("geometry_wkb", "geometry_simplified_wkb").collect(),
        absent=_load(identity, "absent_countries").collect(),
        population=population,
        country_index=index,
        codes=codes,
        tz_zones=pl.DataFrame(),
        tzids=[],
        preview=grids["preview.png"].read_bytes(),
    )


def load_reference_data(identity: RunIdentity) -> ReferenceData:
    data = load_population_data(identity)
    tzids = _load(identity, "tz_grid").select(pl.col("tzid").cast(pl.String).unique()).collect()["tzid"].to_list()
    return replace(data, tz_zones=_load(identity, "tz_zones").collect(), tzids=tzids)


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


def population_realism(data: ReferenceData) -> list[CheckOutcome]:
    """People live where the table says, and about a third of them in dense cells."""
    table = dict(zip(data.countries["country_iso"], data.countries["population"]))
    grid = _grid_totals(data)
    largest = sorted(data.codes, key=lambda c: -table[c])[:10]
    errors = {c: round(abs(grid[c] - table[c]) / table[c], 6) for c in largest}
    rows = np.arange(data.population.shape[0])
    density = data.population / cell_area_km2(rows)[:, None]
    dense_share = float(data.population[density >= 1000].sum() / data.population.sum())
    return [
        CheckOutcome("largest_countries_within_2pct", max(errors.values()) <= 0.02, max(errors.values()), "<= 0.02",
                     {"relative_error": errors}),
        CheckOutcome("dense_cell_population_share", 0.20 <= dense_share <= 0.45, round(dense_share, 4), "0.20-0.45",
                     {"threshold_per_km2": 1000}),
    ]


def zone_realism(tz_zones: pl.DataFrame) -> list[CheckOutcome]:
    """Zones as the US, China and India actually use them."""

    def shares(country: str) -> dict[str, float]:
        part = tz_zones.filter((pl.col("country_iso") == country) & (pl.col("population") > 0))
        return dict(zip(part["tzid"], part["population_share"]))

    us, cn, india = shares("US"), shares("CN"), shares("IN")
    us_ok = len(us) >= 6 and max(us, key=us.get) == "America/New_York"
    cn_ok = bool(cn) and max(cn, key=cn.get) == "Asia/Shanghai" and set(cn) <= {"Asia/Shanghai", "Asia/Urumqi"}
    return [
        CheckOutcome("us_zones", us_ok, len(us), ">= 6 populated zones, America/New_York largest",
                     {"shares": {k: round(v, 4) for k, v in sorted(us.items(), key=lambda kv: -kv[1])}}),
        CheckOutcome("cn_zones", cn_ok, round(cn.get("Asia/Shanghai", 0.0), 4), "Asia/Shanghai largest, only Urumqi besides",
                     {"shares": cn}),
        CheckOutcome("in_zones", set(india) == {"Asia/Kolkata"}, len(india), "Asia/Kolkata only", {"shares": india}),
    ]


def _as_check_result(outcomes: list[CheckOutcome]) -> dg.AssetCheckResult:
    metadata = {o.name: dg.MetadataValue.json({"passed": o.passed, "figure": o.figure, "corridor": o.corridor,
                                                **o.details}) for o in outcomes}
    return dg.AssetCheckResult(passed=all(o.passed for o in outcomes), severity=dg.AssetCheckSeverity.ERROR,
                               metadata=metadata)


@dg.asset_check(asset=dg.AssetKey(["reference", "population_grid"]), name="realism", blocking=True,
                description="Largest countries within 2% of the table; 20-45% of people in cells of >= 1000/km2.")
def population_grid_realism(engine: EngineResource) -> dg.AssetCheckResult:
    return _as_check_result(population_realism(load_population_data(engine.identity())))


@dg.asset_check(asset=dg.AssetKey(["reference", "tz_zones"]), name="realism", blocking=True,
                description="US has >= 6 populated zones led by New York; CN Shanghai (and Urumqi); IN Kolkata only.")
def tz_zones_realism(engine: EngineResource) -> dg.AssetCheckResult:
    return _as_check_result(zone_realism(_load(engine.identity(), "tz_zones").collect()))


def evaluate(identity: RunIdentity) -> tuple[list[CheckOutcome], dict[str, bytes]]:
    data = load_reference_data(identity)
    active = list(identity.profile.countries or data.codes)
    outcomes = coverage_outcomes(data, active) + population_realism(data) + zone_realism(data.tz_zones)
    return outcomes, {"population_preview.png": data.preview}


CHECKS = [ValidationCheck(name, text) for name, text in (
    ("active_countries_have_polygons", "Every active country has a full-detail polygon."),
    ("active_countries_have_populated_cells", "Every active country has populated grid cells."),
    ("active_countries_have_zones", "Every active country has at least one time zone on its populated cells."),
    ("world_population_matches_table", "The grid's world population is within 1% of the country table."),
    ("iso_codes_present_or_absent_with_reason", "Every ISO 3166-1 code is a country row or an absent entry with a reason."),
    ("zones_resolve_in_pinned_tzdata", "Every zone of the grid resolves in the pinned tzdata."),
    ("largest_countries_within_2pct", "The ten largest countries' grid totals are within 2% of the table."),
    ("dense_cell_population_share", "20-45% of people live in cells of at least 1,000 per km²."),
    ("us_zones", "The US has six or more populated zones, New York's the largest."),
    ("cn_zones", "China runs on Shanghai time (Urumqi aside)."),
    ("in_zones", "India has one zone, Kolkata."),
)]


validation = validation_asset(
    GROUP,
    deps=[["reference", name] for name in ("countries", "absent_countries", "population_grid", "tz_grid", "tz_zones")],
    evaluate=evaluate,
    description="Coverage, totals and realism of the reference world; writes the bundle and _passed.flag.",
    checks=CHECKS,
)
