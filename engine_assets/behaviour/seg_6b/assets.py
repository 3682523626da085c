"""Segment 6B, part 1: legitimate payments, per (scenario, day).

`patronage` chooses, once per world, each card-active party's favourite site per sector and each
site's neighbours. `flows` then turns a day's arrivals into payments (a payer, card, device and
address for each), adds the day's transfers, and expands every flow into its events and online
sessions (engine_assets/behaviour/seg_6b/day.py). Days are published as they are built.
"""

import datetime as dt

import dagster as dg

from engine_assets.behaviour.seg_6b.day import ARRIVAL_COLUMNS, build_day
from engine_assets.behaviour.seg_6b.patronage import patronage_table
from engine_assets.behaviour.seg_6b.tables import day_tables
from engine_assets.behaviour.seg_6b.world import WORLD_READS, World, market_pools, weekly_volumes
from engine_assets.quality.contracts import load_contract
from engine_assets.run.partitions import COUNTRIES, SCENARIO_DAYS, scenario_days
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import PublishQueue
from engine_assets.storage.io_manager import dataset_out
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import Reader, upstream

GROUP = "seg_6b"
DAY_TABLES = ("flows", "events", "sessions")
# Country-partitioned datasets, read whole by the scenario-free and the daily assets alike.
BY_COUNTRY = [d for d in (*WORLD_READS, "seg_2b/site_weights") if d.startswith(("seg_6a/", "seg_1b/", "seg_2b/"))]
WHOLE = [d for d in (*WORLD_READS, "seg_5a/merchant_zone_profile", "seg_3b/virtual_classification")
         if d not in BY_COUNTRY]


def load_world(read: Reader, with_patronage: bool = True) -> World:
    world = World(read, COUNTRIES.get_partition_keys())
    if with_patronage:
        world.attach_patronage(read.scan(f"{GROUP}/patronage"))
    return world


@dg.asset(key=[GROUP, "patronage"], **upstream(GROUP, reads=WHOLE, reads_whole=BY_COUNTRY), io_manager_key="shards",
          group_name=GROUP)
def patronage(context: dg.AssetExecutionContext, engine: EngineResource):
    """Each card-active party's favourite site per sector (Huff choice) and each site's nearest homes."""
    read = Reader.of(context, engine.identity())
    world = load_world(read, with_patronage=False)
    sites, _ = weekly_volumes(read)
    return Publication(patronage_table(world, sites), world.draws.words)


def publish_days(read: Reader, days: list[tuple[str, dt.date]], world: World | None = None) -> tuple[dict, dict, dict]:
    """Build and publish each (scenario, day), one day written while the next is built (on the
    run's world, loaded here unless given)."""
    world = world or load_world(read)
    _, markets = weekly_volumes(read)
    pools = market_pools(world, markets)
    contracts = {name: load_contract(f"{GROUP}/{name}") for name in DAY_TABLES}
    futures = []
    # One day's tables in flight while the next is built: a day of the reference profile is ~2M flows.
    with PublishQueue(read.identity, pending=len(DAY_TABLES)) as queue:
        for scenario, day in days:
            key = {"scenario": scenario, "day": day.isoformat()}
            arrivals = read.scan("seg_5b/arrival_events", key).select(ARRIVAL_COLUMNS).collect()
            built = build_day(world, scenario, day, arrivals, pools)
            del arrivals
            tables = day_tables(world, scenario, built)
            futures.append({name: queue.put(contracts[name], key, Publication(tables[name], built.words
                                                                                if name == "flows" else {}))
                            for name in DAY_TABLES})
            del built, tables  # only the queue holds the day while the next one is built
        queue.wait()
    return tuple({i: f[name].result() for i, f in enumerate(futures)} for name in DAY_TABLES)


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in DAY_TABLES},
    **upstream(GROUP, reads=["seg_5b/arrival_events", f"{GROUP}/patronage", *WHOLE], reads_whole=BY_COUNTRY),
    partitions_def=SCENARIO_DAYS, backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=30),
    group_name=GROUP,
)
def flows(context: dg.AssetExecutionContext, engine: EngineResource):
    """Every arrival as a payment with its payer and means, the day's transfers, their events and sessions."""
    published = publish_days(Reader.of(context, engine.identity()), scenario_days(context.partition_keys))
    keys = context.partition_keys
    return tuple({k: out[i] for i, k in enumerate(keys)} for out in published)


ASSETS = [patronage, flows]
