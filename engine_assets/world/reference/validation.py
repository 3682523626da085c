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

from engine_assets.quality.gates import CheckOutcome, ValidationCheck, validation_asset
from engine_assets.quality.realism import corridor, expectation, invariant
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import Reader
from engine_assets.world.reference.assets import GROUP
from engine_assets.world.reference.tables import read_grids
from engine_kernels.civil_time.tzdb import use_pinned_tzdata
from engine_kernels.reference.countries import iso_alpha2_codes
from engine_kernels.reference.population import country_totals, dense_share


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


READS = [f"{GROUP}/{name}" for name in ("countries", "absent_countries", "population_grid", "tz_grid", "tz_zones")]


def load_population_data(read: Reader) -> ReferenceData:
    """Countries and grids only: what the population checks need."""
    grids = read.artefact(f"{GROUP}/population_grid")
    population, index, codes = read_grids(grids)
    return ReferenceData(
        countries=read.scan(f"{GROUP}/countries").drop("geometry_wkb", "geometry_simplified_wkb").collect(),
        absent=read.scan(f"{GROUP}/absent_countries").collect(),
        population=population,
        country_index=index,
        codes=codes,
        tz_zones=pl.DataFrame(),
        tzids=[],
        preview=grids["preview.png"].read_bytes(),
    )


def load_reference_data(read: Reader) -> ReferenceData:
    data = load_population_data(read)
    tzids = read.scan(f"{GROUP}/tz_grid").select(pl.col("tzid").cast(pl.String).unique()).collect()["tzid"].to_list()
    return replace(data, tz_zones=read.scan(f"{GROUP}/tz_zones").collect(), tzids=tzids)


def _grid_totals(data: ReferenceData) -> dict[str, float]:
    totals = country_totals(data.population, data.country_index, len(data.codes))
    return {code: float(total) for code, total in zip(data.codes, totals)}


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
    use_pinned_tzdata()
    unresolved = sorted(set(data.tzids) - zoneinfo.available_timezones())
    return [
        invariant("active_countries_have_polygons", len(missing_polygon), "active countries without a polygon",
                  {"missing": missing_polygon}),
        invariant("active_countries_have_populated_cells", len(no_cells), "populated active countries without cells",
                  {"missing": no_cells}),
        invariant("active_countries_have_zones", len(no_zone), "populated active countries without a zone",
                  {"missing": no_zone}),
        corridor("world_population_matches_table", world_error, high=0.01, digits=6),
        invariant("iso_codes_present_or_absent_with_reason", len(known ^ listed),
                  "ISO codes unaccounted for or unknown to ISO 3166-1",
                  {"unaccounted": sorted(known - listed), "unknown": sorted(listed - known)}),
        invariant("zones_resolve_in_pinned_tzdata", len(unresolved), "zones missing from the pinned tzdata",
                  {"unresolved": unresolved}),
    ]


def population_realism(data: ReferenceData) -> list[CheckOutcome]:
    """People live where the table says, and about a third of them in dense cells."""
    table = dict(zip(data.countries["country_iso"], data.countries["population"]))
    grid = _grid_totals(data)
    largest = sorted(data.codes, key=lambda c: -table[c])[:10]
    errors = {c: round(abs(grid[c] - table[c]) / table[c], 6) for c in largest}
    return [
        corridor("largest_countries_within_2pct", max(errors.values()), high=0.02, details={"relative_error": errors}),
        corridor("dense_cell_population_share", dense_share(data.population, 1000), 0.20, 0.45, digits=4,
                 details={"threshold_per_km2": 1000}),
    ]


def zone_realism(tz_zones: pl.DataFrame) -> list[CheckOutcome]:
    """Zones as the US, China and India actually use them."""

    def shares(country: str) -> dict[str, float]:
        part = tz_zones.filter((pl.col("country_iso") == country) & (pl.col("population") > 0))
        return dict(zip(part["tzid"], part["population_share"]))

    us, cn, india = shares("US"), shares("CN"), shares("IN")
    us_largest = max(us, key=us.get) if us else None
    cn_ok = bool(cn) and max(cn, key=cn.get) == "Asia/Shanghai" and set(cn) <= {"Asia/Shanghai", "Asia/Urumqi"}
    return [
        # The figure counts populated zones; that New York's is the largest is the side condition.
        corridor("us_zones", len(us), low=6, holds=us_largest == "America/New_York", details={
            "largest": us_largest, "shares": {k: round(v, 4) for k, v in sorted(us.items(), key=lambda kv: -kv[1])}}),
        expectation("cn_zones", cn_ok, round(cn.get("Asia/Shanghai", 0.0), 4),
                    "Asia/Shanghai largest, only Asia/Urumqi besides", details={"shares": cn}),
        expectation("in_zones", set(india) == {"Asia/Kolkata"}, len(india), "Asia/Kolkata only",
                    details={"shares": india}),
    ]


def _as_check_result(outcomes: list[CheckOutcome]) -> dg.AssetCheckResult:
    metadata = {o.name: dg.MetadataValue.json({"passed": o.passed, "figure": o.figure, "corridor": o.corridor,
                                                **o.details}) for o in outcomes}
    return dg.AssetCheckResult(passed=all(o.passed for o in outcomes), severity=dg.AssetCheckSeverity.ERROR,
                               metadata=metadata)


@dg.asset_check(asset=dg.AssetKey(["reference", "population_grid"]), name="realism", blocking=True,
                description="Largest countries within 2% of the table; 20-45% of people in cells of >= 1000/km2.")
def population_grid_realism(engine: EngineResource) -> dg.AssetCheckResult:
    return _as_check_result(population_realism(load_population_data(Reader(engine.identity(), GROUP, READS))))


@dg.asset_check(asset=dg.AssetKey(["reference", "tz_zones"]), name="realism", blocking=True,
                description="US has >= 6 populated zones led by New York; CN Shanghai (and Urumqi); IN Kolkata only.")
def tz_zones_realism(engine: EngineResource) -> dg.AssetCheckResult:
    return _as_check_result(zone_realism(Reader(engine.identity(), GROUP, READS).scan(f"{GROUP}/tz_zones").collect()))


def evaluate(read: Reader) -> tuple[list[CheckOutcome], dict[str, bytes]]:
    data = load_reference_data(read)
    active = list(read.identity.profile.countries or data.codes)
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
    reads=READS,
    evaluate=evaluate,
    description="Coverage, totals and realism of the reference world; writes the bundle and _passed.flag.",
    checks=CHECKS,
)
