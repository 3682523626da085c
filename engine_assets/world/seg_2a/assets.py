"""Segment 2A: the time zone of every site, and the table of UTC offsets that is the engine's clock.

`tz_transitions` comes from the pinned tzdata wheel only (engine_kernels.civil_time.tzdb resets
zoneinfo's search path before any zone is read) and covers every zone the active countries may
use over the horizon plus and minus the policy margin; later segments convert UTC to local time
by binary search in it.
"""


import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.partitions import per_country
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import Reader, upstream
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_assets.world.seg_2a.clock import labelled_cells, transition_window, transitions_table, zones_in_world
from engine_kernels.civil_time.site_zones import SOURCES, site_zones
from engine_kernels.civil_time.transitions import zones_transitions

GROUP = "seg_2a"
ZONE_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "site_order": pl.Int32,
               "site_id": pl.UInt64, "tzid": pl.String, "tz_source": pl.String}


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
        tuple(sorted(world.country_zones.get(country, ()))),
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
