"""Segment 6A: the entity world, scenario-free and per country.

`party_counts` sizes every country from the world's expected payments (5A's weekly volumes:
card-present volume where the sites are, online volume where the merchants' CDN edges serve) and
its population. `entity_world` then builds each country whole (engine_kernels/entities/country.py):
its tables depend on one another (ring members' farm devices are devices, their exits addresses),
so they are one step whose outputs are the eight datasets.
"""

from concurrent.futures import Future

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.behaviour.seg_6a.homes import home_placer
from engine_assets.behaviour.seg_6a.tables import TABLES, country_tables
from engine_assets.run.partitions import COUNTRY_CODES, COUNTRY_GROUPS, countries_in
from engine_assets.quality.contracts import load_contract
from engine_assets.run.progress import Progress
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import PublishQueue
from engine_assets.storage.io_manager import dataset_out
from engine_assets.storage.publish import Publication, Published
from engine_assets.storage.reader import Reader, upstream
from engine_assets.world.reference.world import WORLD_DATASETS
from engine_assets.world.seg_1b.assets import COUNTRY_INDEX
from engine_kernels.entities.country import CountryInputs, build_country
from engine_kernels.entities.draws import Draws
from engine_kernels.entities.party_counts import party_counts as count_parties
from engine_kernels.vocabulary import REGIONS

GROUP = "seg_6a"


def weekly_payments(profile: pl.DataFrame, classes: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """Expected weekly card-present and online arrivals per country: a row's card-present part in its
    country, each merchant's online part over its edges' countries by edge weight."""
    # Published sums add their terms in one fixed order: the joins keep the rows' order and each group
    # is summed as a list, in that order (polars' grouped float `sum` splits a group across threads,
    # and its last bits then follow the thread count).
    rows = profile.join(classes.select("merchant_id", "virtual_share"), on="merchant_id", how="left",
                        maintain_order="left").with_columns(pl.col("virtual_share").fill_null(0.0))
    present = rows.group_by(country_iso="legal_country_iso").agg(
        weekly_card_present=(pl.col("weekly_volume") * (1 - pl.col("virtual_share"))).implode().list.sum())
    online = rows.group_by("merchant_id").agg(
        online=(pl.col("weekly_volume") * pl.col("virtual_share")).implode().list.sum())
    served = edges.join(online, on="merchant_id", maintain_order="left").group_by("country_iso").agg(
        weekly_online=(pl.col("online") * pl.col("weight")).implode().list.sum())
    return present.join(served, on="country_iso", how="full", coalesce=True).fill_null(0.0)


def party_table(identity, profile: pl.DataFrame, classes: pl.DataFrame, edges: pl.DataFrame,
                countries: pl.DataFrame) -> pl.DataFrame:
    """One row per country of the profile: population, weekly payments and parties."""
    policy = identity.policies.entities.model.parties
    # Nobody lives on the map of a code outside the populated world (Antarctica): no homes to draw.
    people = countries.filter(pl.col("country_iso").is_in(COUNTRY_CODES)).select(
        "country_iso", population=pl.when("is_populated_world").then("population").otherwise(0))
    volumes = weekly_payments(profile, classes, edges)
    frame = people.join(volumes, on="country_iso", how="left").fill_null(0.0).sort("country_iso")
    weekly = (frame["weekly_card_present"] + frame["weekly_online"]).to_numpy()
    counts = count_parties(weekly, frame["population"].to_numpy().astype(np.float64),
                           policy.payments_per_active_party_week, policy.active_share, policy.population_weight,
                           identity.profile.party_scale)
    return frame.select("country_iso", pl.col("population").cast(pl.Int64), "weekly_card_present", "weekly_online",
                        parties=pl.Series(counts, dtype=pl.Int64))


@dg.asset(
    key=[GROUP, "party_counts"],
    **upstream(GROUP, ins={"merchant_zone_profile": "seg_5a/merchant_zone_profile",
                           "virtual_classification": "seg_3b/virtual_classification",
                           "edge_catalogue": "seg_3b/edge_catalogue", "countries": "reference/countries"}),
    io_manager_key="shards", group_name=GROUP,
)
def party_counts(engine: EngineResource, merchant_zone_profile: pl.LazyFrame, virtual_classification: pl.LazyFrame,
                 edge_catalogue: pl.LazyFrame, countries: pl.LazyFrame):
    """Parties per country: the weekly payments anchor blended with population, made whole."""
    return party_table(engine.identity(), merchant_zone_profile.select("merchant_id", "legal_country_iso",
                                                                       "weekly_volume").collect(),
                       virtual_classification.select("merchant_id", "virtual_share").collect(),
                       edge_catalogue.select("merchant_id", "country_iso", "weight").collect(),
                       countries.select("country_iso", "population", "is_populated_world").collect())


def _region(region: str | None) -> int:
    return REGIONS.index(region) if region in REGIONS else len(REGIONS)


class WorldInputs:
    """What every country of a run shares: party counts, regions, merchants at home, zone cells."""

    def __init__(self, read: Reader, wanted: list[str]):
        self.read = read
        self.counts = dict(read.table(f"{GROUP}/party_counts").select("country_iso", "parties").iter_rows())
        self.regions = dict(read.scan("reference/countries").select("country_iso", "region").collect().iter_rows())
        self.merchants = read.scan("seg_1a/merchants").select("merchant_id", pl.col("home_country_iso").cast(pl.String),
                                                              "mcc").collect()
        grid = read.scan("reference/tz_grid").select("cell", pl.col("country_iso").cast(pl.String),
                                                      pl.col("tzid").cast(pl.String)).filter(
            pl.col("country_iso").is_in(wanted)).collect()
        self.cells = {c: part for (c,), part in grid.partition_by("country_iso", as_dict=True).items()}
        self.no_cells = grid.clear()

    def country(self, country: str) -> tuple[dict, dict[str, int]]:
        """The eight tables of one country and the words each substream label used."""
        sites = self.read.scan("seg_1b/site_locations", country).select("site_id", "merchant_id").collect()
        return build_tables(self.read, country, int(self.counts.get(country, 0)), self.regions.get(country), sites,
                            self.merchants.filter(pl.col("home_country_iso") == country),
                            self.cells.get(country, self.no_cells))


def build_tables(read: Reader, country: str, n_parties: int, region: str | None, sites: pl.DataFrame,
                 merchants: pl.DataFrame, tz_cells: pl.DataFrame) -> tuple[dict, dict[str, int]]:
    """The eight tables of one country and the words each substream label used."""
    identity = read.identity
    policy = identity.policies.entities.model
    draws = Draws(identity.substream_key)
    site_ids = sites["site_id"].to_numpy().astype(np.uint64)
    site_merchant = sites["merchant_id"].to_numpy().astype(np.uint64)
    inputs = CountryInputs(country, COUNTRY_INDEX[country], _region(region), n_parties, site_ids, site_merchant,
                           merchants["merchant_id"].to_numpy().astype(np.uint64), merchants["mcc"].to_numpy())
    world = build_country(inputs, home_placer(read, country, tz_cells, draws), policy, draws)
    tables = country_tables(world, country, policy.instruments.rail(country), identity.profile.horizon.start,
                            site_ids, site_merchant)
    if world.unplaced:
        raise ValueError(f"seg_6a: {country}: the caps of config/policies/6a.yaml left {world.unplaced} items without "
                         "an owner; raise the cap or lower the per-owner mean of the product that ran out")
    return tables, draws.words


def publish_world(read: Reader, wanted: list[str],
                  progress: Progress | None = None) -> tuple[dict[str, Published], ...]:
    """Build and publish every country of `wanted`, one country's tables written while the next is built."""
    inputs = WorldInputs(read, wanted)
    contracts = {name: load_contract(f"{GROUP}/{name}") for name in TABLES}
    futures: dict[str, dict[str, Future]] = {name: {} for name in TABLES}
    with PublishQueue(read.identity, pending=2 * len(TABLES), writers=2) as queue:
        for country in wanted:
            tables, words = inputs.country(country)
            for name in TABLES:
                # The draws are reported once, with the parties.
                payload = Publication(tables[name], words if name == "parties" else {})
                futures[name][country] = queue.put(contracts[name], country, payload)
            if progress is not None:
                progress.advance(1, len(tables["parties"]))
        queue.wait()
    return tuple({c: f.result() for c, f in futures[name].items()} for name in TABLES)


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in TABLES},
    **upstream(GROUP, reads=[f"{GROUP}/party_counts", "seg_1b/site_locations", "seg_1a/merchants",
                             "reference/tz_grid", *WORLD_DATASETS]),
    partitions_def=COUNTRY_GROUPS, backfill_policy=dg.BackfillPolicy.single_run(), group_name=GROUP,
)
def entity_world(context: dg.AssetExecutionContext, engine: EngineResource):
    """Parties with homes, accounts, cards, tokens, handles, devices, terminals, addresses and fraud roles."""
    countries = countries_in(context.partition_keys)
    return publish_world(Reader.of(context, engine.identity()), countries,
                         Progress(context.log, "6A countries", len(countries), "countries"))


ASSETS = [party_counts, entity_world]
