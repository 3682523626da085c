"""Segment 3B: virtual merchants, their settlement city and CDN edges.

World-scoped and small. Edges are placed with the 1B kernel (population-weighted cells, points
inside the country) and time-zoned with the 2A kernel, under substream labels of their own.
"""

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.resources import EngineResource
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import Reader, upstream
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_assets.world.seg_1a.inputs import active_countries
from engine_assets.world.seg_2a.clock import labelled_cells
from engine_assets.world.seg_2b.slots import slot_rows
from engine_kernels.randomness import substreams
from engine_kernels.sites.edge_placement import place_edges
from engine_kernels.sites.virtual import PROFILES, classify, draw_edges, settle
from engine_kernels.vocabulary import NON_VIRTUAL, VIRTUAL_CLASSES

GROUP = "seg_3b"


@dg.asset(key=[GROUP, "virtual_classification"], **upstream(GROUP, ins={"merchants": "seg_1a/merchants"}),
          io_manager_key="shards", group_name=GROUP)
def virtual_classification(engine: EngineResource, merchants: pl.LazyFrame):
    """VIRTUAL_ONLY, HYBRID or NON_VIRTUAL from each merchant's sector and channel."""
    identity = engine.identity()
    policy = identity.policies.virtual.model
    frame = merchants.select("merchant_id", pl.col("sector", "channel").cast(pl.String)).sort("merchant_id").collect()
    kind = classify(frame["sector"].to_numpy(), frame["channel"].to_numpy(), policy)
    share = np.array([0.0, 1.0, policy.hybrid_virtual_share])[kind]
    return frame.select("merchant_id").with_columns(
        virtual_class=pl.Series(np.asarray(VIRTUAL_CLASSES, dtype=object)[kind].tolist(), dtype=pl.String),
        virtual_share=pl.Series(share))


def settlement_table(read: Reader, online: pl.DataFrame, cities: pl.DataFrame) -> pl.DataFrame:
    """One settlement city per online merchant: `online` holds merchant_id and home_country_iso."""
    identity = read.identity
    ranked = cities.filter(pl.col("country_iso").is_in(online["home_country_iso"].unique().to_list())).sort(
        ["country_iso", "population", "city_id"], descending=[False, True, False])
    online = online.sort("home_country_iso", "merchant_id")
    homes = ranked.group_by("country_iso", maintain_order=True).agg(n=pl.len())
    starts = dict(zip(homes["country_iso"], np.concatenate(([0], np.cumsum(homes["n"].to_numpy()[:-1])))))
    counts = dict(zip(homes["country_iso"], homes["n"]))
    home = online["home_country_iso"].to_list()
    # Homes without a listed city (small territories) settle at their most populated cell.
    missing = sorted({h for h in home if h not in counts})
    for i, h in enumerate(missing):
        starts[h], counts[h] = ranked.height + i, 1
    ranked = pl.concat([ranked.select("country_iso", "city_id", "lat_deg", "lon_deg", pl.col("tzid").cast(pl.String)),
                        *[_densest_place(read, h) for h in missing]])
    pick = settle(online["merchant_id"].to_numpy(), np.array([starts[h] for h in home], np.int64),
                  np.array([counts[h] for h in home], np.int64), identity.policies.virtual.model,
                  identity.substream_key)
    chosen = ranked[pick]
    return pl.DataFrame({
        "merchant_id": online["merchant_id"], "country_iso": online["home_country_iso"],
        "city_id": chosen["city_id"], "lat_deg": chosen["lat_deg"], "lon_deg": chosen["lon_deg"],
        "tzid": chosen["tzid"],
    }).sort("merchant_id")


def _densest_place(read: Reader, country: str) -> pl.DataFrame:
    """The centre of a country's most populated grid cell, with its zone, as a place without a city id."""
    identity = read.identity
    world = reference_world(read)
    cells = world.populated_cells(country)
    i = int(np.argmax(cells.population))
    lat, lon = cells.lat[i:i + 1], cells.lon[i:i + 1]
    zone = world.zones_at(country, lat, lon)[0] or identity.policies.civil_time.model.overrides.get(country) or \
        sorted(world.country_zones.get(country, ["UTC"]))[0]
    return pl.DataFrame({"country_iso": [country], "city_id": pl.Series([None], dtype=pl.Int64),
                         "lat_deg": lat, "lon_deg": lon, "tzid": [zone]})


@dg.asset(key=[GROUP, "settlement_nodes"],
          **upstream(GROUP, ins={"virtual_classification": f"{GROUP}/virtual_classification",
                                 "merchants": "seg_1a/merchants", "cities": "reference/cities"}, reads=WORLD_DATASETS),
          io_manager_key="shards", group_name=GROUP)
def settlement_nodes(context: dg.AssetExecutionContext, engine: EngineResource, virtual_classification: pl.LazyFrame,
                     merchants: pl.LazyFrame, cities: pl.LazyFrame):
    """A city of the home country per virtual or hybrid merchant, by population rank: its settlement clock."""
    online = virtual_classification.filter(pl.col("virtual_class").cast(pl.String) != NON_VIRTUAL).join(
        merchants.select("merchant_id", pl.col("home_country_iso").cast(pl.String)), on="merchant_id").select(
        "merchant_id", "home_country_iso").collect()
    return settlement_table(Reader.of(context, engine.identity()), online, cities.collect())


def edge_table(read: Reader, nodes: pl.DataFrame, countries: pl.DataFrame, tz_grid: pl.DataFrame) -> Publication:
    """Edges of every online merchant, placed and time-zoned."""
    identity = read.identity
    world = reference_world(read)
    home = active_countries(identity, countries, tz_grid.lazy())
    edges = draw_edges(nodes["merchant_id"].to_numpy(), nodes["lat_deg"].to_numpy(), nodes["lon_deg"].to_numpy(),
                       home.lat, home.lon, home.population, home.gdp_per_capita, identity.policies.virtual.model,
                       identity.substream_key)
    keys = lambda label: identity.substream_key(substreams.EDGE_PREFIX + label)  # noqa: E731 - edges draw apart from sites
    grid = tz_grid.select("cell", pl.col("country_iso").cast(pl.String), pl.col("tzid").cast(pl.String))
    civil_time = identity.policies.civil_time.model
    placed = place_edges(
        edges, nodes["merchant_id"].to_numpy(), home.iso, world,
        lambda code: labelled_cells(grid.filter(pl.col("country_iso") == code), set(world.country_zones.get(code, ()))),
        identity.policies.placement.model, civil_time.nudge_deg, civil_time.overrides, keys,
    )
    frame = pl.DataFrame({
        "edge_id": placed.edge_id, "merchant_id": placed.merchant_id, "edge_index": placed.edge_index.astype(np.int32),
        "profile": np.asarray(PROFILES, dtype=object)[placed.profile].tolist(),
        "country_iso": np.asarray(home.iso, dtype=object)[edges.country].tolist(),
        "lat_deg": placed.lat, "lon_deg": placed.lon, "tzid": placed.tzid.tolist(), "weight": edges.weight,
    })
    return Publication(frame, edges.draws)


@dg.asset(key=[GROUP, "edge_catalogue"],
          **upstream(GROUP, ins={"settlement_nodes": f"{GROUP}/settlement_nodes", "countries": "reference/countries",
                                 "tz_grid": "reference/tz_grid"}, reads=WORLD_DATASETS),
          io_manager_key="shards", group_name=GROUP)
def edge_catalogue(context: dg.AssetExecutionContext, engine: EngineResource, settlement_nodes: pl.LazyFrame,
                   countries: pl.LazyFrame, tz_grid: pl.LazyFrame):
    """6-58 CDN edges per online merchant, where people are online and near its settlement."""
    frame = countries.drop("geometry_wkb", "geometry_simplified_wkb").collect()
    return edge_table(Reader.of(context, engine.identity()), settlement_nodes.collect(), frame, tz_grid.collect())


@dg.asset(key=[GROUP, "edge_alias_tables"], **upstream(GROUP, ins={"edge_catalogue": f"{GROUP}/edge_catalogue"}),
          io_manager_key="shards", group_name=GROUP)
def edge_alias_tables(edge_catalogue: pl.LazyFrame):
    """A Walker alias table over each online merchant's edges, one row per slot."""
    edges = edge_catalogue.select("merchant_id", "edge_index", "edge_id", "weight").sort(
        "merchant_id", "edge_index").collect()
    return slot_rows(edges, ["merchant_id"], "edge_id")

ASSETS = [virtual_classification, settlement_nodes, edge_catalogue, edge_alias_tables]
