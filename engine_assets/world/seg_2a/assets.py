"""Segment 2A: the time zone of every site, and the table of UTC offsets that is the engine's clock.

`tz_transitions` comes from the pinned tzdata wheel only (engine_kernels.civil_time.tzdb resets
zoneinfo's search path before any zone is read) and covers every zone the active countries may
use over the horizon plus and minus the policy margin; later segments convert UTC to local time
by binary search in it.
"""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import per_country
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import Reader, upstream
from engine_kernels.civil_time.transitions import Transitions, zones_transitions
from engine_kernels.geography.geodesy import cell_centres, cell_rows_cols
from engine_kernels.civil_time.site_zones import SOURCES, site_zones

GROUP = "seg_2a"
ZONE_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "site_order": pl.Int32,
               "site_id": pl.UInt64, "tzid": pl.String, "tz_source": pl.String}


def labelled_cells(tz_grid: pl.DataFrame, zones: set[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, tzid) of a country's populated cells (`tz_grid` holds only them) labelled with one of its zones."""
    cells = tz_grid.filter(pl.col("tzid").is_in(sorted(zones)))
    lat, lon = cell_centres(*cell_rows_cols(cells["cell"].to_numpy()))
    return lat, lon, np.asarray(cells["tzid"].to_list(), dtype=object)


def zone_country(read: Reader, country: str, sites: pl.DataFrame, tz_grid: pl.DataFrame) -> pl.DataFrame:
    """Zones of one country's sites with their source; `tz_grid` holds the country's labelled cells."""
    if sites.height == 0:
        return pl.DataFrame(schema=ZONE_SCHEMA)
    identity = read.identity
    world = reference_world(read)
    zones = site_zones(
        sites["lat_deg"].to_numpy(), sites["lon_deg"].to_numpy(),
        lambda lat, lon: world.zones_at(country, lat, lon),
        lambda: labelled_cells(tz_grid, set(world.country_zones.get(country, ()))),
        identity.policies.civil_time.model.nudge_deg, identity.policies.civil_time.model.overrides.get(country),
    )
    return sites.select("merchant_id", "legal_country_iso", "site_order", "site_id").with_columns(
        tzid=pl.Series(zones.tzid.tolist(), dtype=pl.String),
        tz_source=pl.Series(np.asarray(SOURCES, dtype=object)[zones.source].tolist(), dtype=pl.String),
    )


@dg.asset(
    key=[GROUP, "site_timezones"],
    **upstream(GROUP, ins={"site_locations": "seg_1b/site_locations", "tz_grid": "reference/tz_grid"},
               reads=WORLD_DATASETS),
    **per_country(GROUP),
)
def site_timezones(context: dg.AssetExecutionContext, engine: EngineResource, site_locations: dict[str, pl.LazyFrame],
                   tz_grid: pl.LazyFrame):
    """The IANA zone of every site: polygon, a nudge, the nearest labelled cell, or the country's override."""
    read = Reader.of(context, engine.identity())
    return {c: zone_country(read, c, lf.collect(), grid) for c, lf, grid in _with_cells(site_locations, tz_grid)}


def _with_cells(frames: dict[str, pl.LazyFrame], tz_grid: pl.LazyFrame):
    """(country, frame, the country's labelled cells) for each country, the grid split once."""
    grid = tz_grid.select("cell", pl.col("country_iso").cast(pl.String), pl.col("tzid").cast(pl.String)).filter(
        pl.col("country_iso").is_in(list(frames))).collect()
    by_country = {c: part for (c,), part in grid.partition_by("country_iso", as_dict=True).items()}
    return [(c, lf, by_country.get(c, grid.clear())) for c, lf in frames.items()]


def transition_window(identity: RunIdentity) -> tuple[dt.datetime, dt.datetime]:
    """[horizon start − margin, horizon end + 1 day + margin) in UTC."""
    margin = dt.timedelta(days=identity.policies.civil_time.model.margin_days)
    horizon = identity.profile.horizon
    start = dt.datetime.combine(horizon.start, dt.time(), dt.timezone.utc) - margin
    return start, dt.datetime.combine(horizon.end + dt.timedelta(days=1), dt.time(), dt.timezone.utc) + margin


def zones_in_world(identity: RunIdentity, tz_zones: pl.DataFrame) -> list[str]:
    """Every zone a site of the active countries may end up in: their listed zones and overrides."""
    active = identity.profile.countries
    rows = tz_zones if active is None else tz_zones.filter(pl.col("country_iso").is_in(list(active)))
    return sorted(set(rows["tzid"].to_list()) | set(identity.policies.civil_time.model.overrides.values()) | {"UTC"})


def transitions_table(table: Transitions) -> pl.DataFrame:
    counts = np.diff(table.offsets)
    return pl.DataFrame({
        "tzid": np.repeat(np.asarray(table.tzids, dtype=object), counts).tolist(),
        "utc_start": pl.Series(table.utc_start * 1_000_000).cast(pl.Datetime("us", "UTC")),
        "offset_seconds": table.offset_seconds,
        "is_dst": table.is_dst,
        "abbreviation": table.abbreviation.tolist(),
    })


def read_transitions(frame: pl.DataFrame) -> Transitions:
    """The published table back as a Transitions (zones sorted, periods in time order)."""
    frame = frame.with_columns(pl.col("tzid").cast(pl.String)).sort("tzid", "utc_start")
    names = frame["tzid"].unique(maintain_order=True).to_list()
    counts = frame.group_by("tzid", maintain_order=True).len()["len"].to_numpy()
    return Transitions(
        tzids=tuple(names), offsets=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        utc_start=frame["utc_start"].dt.epoch("s").to_numpy().astype(np.int64),
        offset_seconds=frame["offset_seconds"].to_numpy().astype(np.int32),
        is_dst=frame["is_dst"].to_numpy(), abbreviation=np.asarray(frame["abbreviation"].to_list(), dtype=object),
    )


@dg.asset(
    key=[GROUP, "tz_transitions"],
    **upstream(GROUP, ins={"tz_zones": "reference/tz_zones"}),
    io_manager_key="shards",
    group_name=GROUP,
)
def tz_transitions(engine: EngineResource, tz_zones: pl.LazyFrame):
    """Every UTC offset change of every zone the world may use, over the horizon ± the margin."""
    identity = engine.identity()
    start, end = transition_window(identity)
    return transitions_table(zones_transitions(zones_in_world(identity, tz_zones.collect()), start, end))


ASSETS = [site_timezones, tz_transitions]
