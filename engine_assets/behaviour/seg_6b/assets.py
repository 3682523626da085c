"""Segment 6B, part 1: legitimate payments, per (scenario, day).

`patronage` chooses, once per world, each card-active party's favourite site per sector and each
site's neighbours. `flows` then turns a day's arrivals into payments (a payer, card, device and
address for each), adds the day's transfers, and expands every flow into its events and online
sessions (engine_assets/behaviour/seg_6b/day.py). Days are published as they are built.
"""

import datetime as dt

import dagster as dg

from engine_assets.behaviour.seg_6b.cases import cases_table
from engine_assets.behaviour.seg_6b.campaigns import ROLE_READS, draw_fraud, plan_tables, plan_words
from engine_assets.behaviour.seg_6b.day import ARRIVAL_COLUMNS, build_day
from engine_assets.behaviour.seg_6b.patronage import patronage_table
from engine_assets.behaviour.seg_6b.tables import day_tables
from engine_assets.behaviour.seg_6b.transactions import DAY_READS, LOOKUP_READS, changes_of, lookups, \
    transactions_table, week_before
from engine_assets.behaviour.seg_6b.world import WORLD_READS, World, market_pools, weekly_volumes
from engine_assets.quality.contracts import load_contract
from engine_assets.run.partitions import COUNTRY_CODES, SCENARIO_DAYS, SCENARIOS, scenario_days
from engine_assets.run.progress import Progress
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import PublishQueue
from engine_assets.storage.io_manager import dataset_out
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import Reader, upstream

GROUP = "seg_6b"
DAY_TABLES = ("flows", "events", "sessions", "truth_labels", "bank_view")
PLAN_TABLES = ("fraud_campaigns", "fraud_targets")
# Country-partitioned datasets, read whole by the scenario-free and the daily assets alike.
BY_COUNTRY = [d for d in (*WORLD_READS, *ROLE_READS) if d.startswith(("seg_6a/", "seg_1b/", "seg_2b/"))]
WHOLE = [d for d in (*WORLD_READS, "seg_5a/merchant_zone_profile", "seg_3b/virtual_classification")
         if d not in BY_COUNTRY]


def load_world(read: Reader, with_patronage: bool = True) -> World:
    world = World(read, COUNTRY_CODES)
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


def publish_days(read: Reader, days: list[tuple[str, dt.date]], world: World | None = None,
                 progress: Progress | None = None) -> tuple[dict, dict, dict]:
    """Build and publish each (scenario, day), one day written while the next is built (on the
    run's world, loaded here unless given)."""
    world = world or load_world(read)
    _, markets = weekly_volumes(read)
    pools = market_pools(world, markets)
    contracts = {name: load_contract(f"{GROUP}/{name}") for name in DAY_TABLES}
    # The plan's acts are drawn again from the same keyed units as seg_6b/fraud_campaigns drew them.
    frauds = {s: draw_fraud(read, world, s) for s in sorted({s for s, _ in days})}
    futures = []
    # One day's tables in flight while the next is built: a day of the reference profile is ~2M flows.
    with PublishQueue(read.identity, pending=len(DAY_TABLES)) as queue:
        for scenario, day in days:
            key = {"scenario": scenario, "day": day.isoformat()}
            arrivals = read.scan("seg_5b/arrival_events", key).select(ARRIVAL_COLUMNS).collect()
            built = build_day(world, scenario, day, arrivals, pools, frauds[scenario])
            del arrivals
            tables = day_tables(world, scenario, built)
            futures.append({name: queue.put(contracts[name], key, Publication(tables[name], built.words
                                                                                if name == "flows" else {}))
                            for name in DAY_TABLES})
            if progress is not None:
                progress.advance(1, int(built.flows.flow_id.size))
            del built, tables  # only the queue holds the day while the next one is built
        queue.wait()
    return tuple({i: f[name].result() for i, f in enumerate(futures)} for name in DAY_TABLES)


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in PLAN_TABLES},
    **upstream(GROUP, reads=[f"{GROUP}/patronage", *WHOLE], reads_whole=BY_COUNTRY), partitions_def=SCENARIOS,
    backfill_policy=dg.BackfillPolicy.single_run(), group_name=GROUP,
)
def fraud_campaigns(context: dg.AssetExecutionContext, engine: EngineResource):
    """The scenario's fraud campaigns and their targets, drawn from policy over 6A's roles and exposure."""
    read = Reader.of(context, engine.identity())
    world = load_world(read)
    out = {}
    for scenario in context.partition_keys:
        fraud = draw_fraud(read, world, scenario)
        words = plan_words(fraud)
        out[scenario] = [Publication(t, words if i == 0 else {}) for i, t in enumerate(plan_tables(world, fraud))]
    return tuple({s: tables[i] for s, tables in out.items()} for i in range(len(PLAN_TABLES)))


def _after_plan(spec: dict) -> dict:
    """The daily assets' upstreams plus their scenario's plan, which they draw again rather than read."""
    plan = dg.AssetDep([GROUP, "fraud_campaigns"],
                       partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="scenario"))
    return {**spec, "deps": [*spec["deps"], plan]}


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in DAY_TABLES},
    **_after_plan(upstream(GROUP, reads=["seg_5b/arrival_events", f"{GROUP}/patronage", *WHOLE],
                           reads_whole=BY_COUNTRY)),
    partitions_def=SCENARIO_DAYS, backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=30),
    group_name=GROUP,
)
def flows(context: dg.AssetExecutionContext, engine: EngineResource):
    """Every arrival as a payment with its payer and means, the day's transfers, their events and sessions."""
    days = scenario_days(context.partition_keys)
    published = publish_days(Reader.of(context, engine.identity()), days,
                             progress=Progress(context.log, "6B flow days", len(days), "days"))
    keys = context.partition_keys
    return tuple({k: out[i] for i, k in enumerate(keys)} for out in published)


def publish_transactions(read: Reader, days: list[tuple[str, dt.date]], progress: Progress | None = None) -> dict:
    """Build and publish each (scenario, day)'s training table. A run carries the week before its
    current day from day to day, so each day's flows are read once however many days it builds."""
    look = lookups(read)
    contract = load_contract(f"{GROUP}/transactions")
    first = read.identity.profile.horizon.start
    week = None
    futures = {}
    with PublishQueue(read.identity, pending=1) as queue:
        # Scenario by scenario, each in day order, whatever the keys' order (Dagster's alternates the
        # scenarios day by day): the week then carries from one day to the next instead of being read again.
        for i in sorted(range(len(days)), key=days.__getitem__):
            scenario, day = days[i]
            if week is None or (week.scenario, week.next_day) != (scenario, day):
                week = week_before(read, scenario, day, first, look.cards)
            key = {"scenario": scenario, "day": day.isoformat()}
            table, week = transactions_table(*(read.scan(name, key).select(columns).collect()
                                               for name, columns in DAY_READS.items()),
                                             changes_of(read, scenario, day.isoformat()), look, week)
            futures[i] = queue.put(contract, key, Publication(table, {}))
            if progress is not None:
                progress.advance(1, len(table))
        queue.wait()
    return {i: f.result() for i, f in futures.items()}


# A day's features look back a week: its partition reads the flows and sessions of the seven days before it too.
_LOOKBACK = dg.MultiPartitionMapping({
    "scenario": dg.DimensionPartitionMapping("scenario", dg.IdentityPartitionMapping()),
    "day": dg.DimensionPartitionMapping("day", dg.TimeWindowPartitionMapping(
        start_offset=-7, allow_nonexistent_upstream_partitions=True)),
})


def _with_lookback(spec: dict) -> dict:
    history = [dg.AssetDep([GROUP, name], partition_mapping=_LOOKBACK) for name in ("flows", "sessions")]
    return {**spec, "deps": [*history, *spec["deps"]]}


@dg.asset(key=[GROUP, "transactions"], io_manager_key="shards",
          **_with_lookback(upstream(GROUP, reads=[f"{GROUP}/truth_labels", f"{GROUP}/bank_view", "seg_1a/merchants"],
                                    reads_whole=[d for d in LOOKUP_READS if d != "seg_1a/merchants"])),
          partitions_def=SCENARIO_DAYS, backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=30),
          group_name=GROUP)
def transactions(context: dg.AssetExecutionContext, engine: EngineResource):
    """The training table: every flow with its raw fields, authorisation-time features and labels."""
    days = scenario_days(context.partition_keys)
    published = publish_transactions(Reader.of(context, engine.identity()), days,
                                     Progress(context.log, "6B training days", len(days), "days"))
    return {k: published[i] for i, k in enumerate(context.partition_keys)}


@dg.asset(key=[GROUP, "cases"], io_manager_key="shards", group_name=GROUP,
          **upstream(GROUP, reads_whole=[f"{GROUP}/flows", f"{GROUP}/bank_view"]))
def cases(context: dg.AssetExecutionContext, engine: EngineResource):
    """The bank's cases: every scenario's alerts and disputes gathered per card or party, with their timelines."""
    return Publication(cases_table(Reader.of(context, engine.identity())), {})


ASSETS = [patronage, fraud_campaigns, flows, transactions, cases]
