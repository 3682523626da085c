"""Segment 6B at the `reference` profile: one scenario's 90 days of payments (~120M arrivals), its
fraud, labels, the bank's view, cases and training table.

Usage:
    python benchmarks/flows.py [--reference-root data] [--data-root DIR] [--scenario baseline]

Builds the world through 5B's and 6A's validations in Dagster (not timed; reused when --data-root
already holds them; 5B's gate needs every scenario's arrivals, so all are built), then prints:
  * 6B by the engine, without Dagster: the scenario-free patronage, the fraud plan, then every day
    of the scenario from its arrivals and 6A to published flows, events, sessions, truth labels and
    the bank's view (world loading included); flows/s and events/s end to end (target >=
    1,000,000 flows/s on 2 cores; the earlier system took 32-40 min for its whole 6B at ~125M
    arrivals); then the training table and the cases, and all of 6B's time (target <= 5 min)
  * the write limit: a sample of the same days' Arrow tables written as zstd parquet straight to
    disk with their contracts' encodings (no manifest, digest, checks or atomic rename), rows/s per
    table (target: end to end >= 0.5 of it)
  * the validation's time and its realism figures for the scenario
  * peak RSS (target <= 4 GB)
"""

import argparse
import datetime as dt
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from stages import Stages, build_world_to_3b, peak_rss_mb  # noqa: E402

from engine_assets.behaviour.seg_6b import validation as seg_6b_validation  # noqa: E402
from engine_assets.behaviour.seg_6b.assets import (  # noqa: E402
    DAY_TABLES,
    GROUP,
    PLAN_TABLES,
    cases,
    flows,
    load_world,
    patronage,
    publish_days,
    publish_transactions,
    transactions,
)
from engine_assets.behaviour.seg_6b.campaigns import draw_fraud, plan_tables  # noqa: E402
from engine_assets.behaviour.seg_6b.cases import cases_table  # noqa: E402
from engine_assets.behaviour.seg_6b.day import ARRIVAL_COLUMNS, build_day  # noqa: E402
from engine_assets.behaviour.seg_6b.patronage import patronage_table  # noqa: E402
from engine_assets.behaviour.seg_6b.tables import day_tables  # noqa: E402
from engine_assets.behaviour.seg_6b.world import market_pools, weekly_volumes  # noqa: E402
from engine_assets.quality.contracts import load_contract  # noqa: E402
from engine_assets.quality.gates import verify_gate  # noqa: E402
from engine_assets.run.errors import GateError  # noqa: E402
from engine_assets.run.partitions import COUNTRY_GROUPS, DAYS, SCENARIO_DAYS, SCENARIOS  # noqa: E402
from engine_assets.run.resources import EngineResource  # noqa: E402
from engine_assets.storage.datasets import publish_dataset  # noqa: E402
from engine_assets.storage.publish import Publication  # noqa: E402
from engine_assets.storage.reader import Reader  # noqa: E402

ENTITY_TABLES = [f"seg_6a/{name}" for name in ("parties", "accounts", "instruments", "devices", "device_links", "ips",
                                               "ip_links", "fraud_roles")]
TARGET_FLOWS_S = 1_000_000
LIMIT_EVERY = 10  # every 10th day's tables are written again raw for the write limit


def build_upstream(run) -> None:
    """5A, 6A and every scenario's arrivals with their validations, on a world built through 3B."""
    run(["seg_5a/weekly_shapes", "seg_5a/merchant_zone_profile"])
    run(["seg_5a/calendar"], SCENARIOS.get_partition_keys())
    run(["seg_5a/seg_5a_validation"])
    run(["seg_6a/party_counts"])
    run(ENTITY_TABLES, COUNTRY_GROUPS.get_partition_keys())
    run(["seg_6a/seg_6a_validation"])
    run(["seg_5b/latent_groups", "seg_5b/latent_field"], SCENARIOS.get_partition_keys())
    for scenario in SCENARIOS.get_partition_keys():
        keys = [str(k) for k in SCENARIO_DAYS.get_partition_keys() if k.keys_by_dimension["scenario"] == scenario]
        run(["seg_5b/bucket_counts", "seg_5b/arrival_events"], [keys[0], keys[-1]])
    run(["seg_5b/seg_5b_validation"])


def publish_plan(identity, read, world, scenario: str) -> None:
    fraud = draw_fraud(read, world, scenario)
    for name, table in zip(PLAN_TABLES, plan_tables(world, fraud)):
        publish_dataset(identity, load_contract(f"{GROUP}/{name}"), scenario, Publication(table, {}))


def write_limit(world, read, days: list[tuple[str, dt.date]], scratch: Path) -> tuple[dict[str, int], Stages]:
    """Rows and seconds of the raw zstd parquet write of a sample of days' tables."""
    pools = market_pools(world, weekly_volumes(read)[1])
    frauds = {s: draw_fraud(read, world, s) for s in sorted({s for s, _ in days})}
    rows, seconds = {name: 0 for name in DAY_TABLES}, Stages()
    options = {name: load_contract(f"{GROUP}/{name}").parquet_options() for name in DAY_TABLES}
    for scenario, day in days[::LIMIT_EVERY]:
        key = {"scenario": scenario, "day": day.isoformat()}
        arrivals = read.scan("seg_5b/arrival_events", key).select(ARRIVAL_COLUMNS).collect()
        built = build_day(world, scenario, day, arrivals, pools, frauds[scenario])
        for name, made in day_tables(world, scenario, built).items():
            table = pa.concat_tables(made)
            rows[name] += table.num_rows
            target = scratch / name / f"{day}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            seconds.timed(name, lambda: pq.write_table(table, target, compression="zstd", **options[name]))
    return rows, seconds


def training_write_limit(read, days: list[tuple[str, dt.date]], scratch: Path) -> tuple[int, float]:
    """Rows and seconds of the raw zstd parquet write of a sample of the published training days."""
    contract = load_contract(f"{GROUP}/transactions")
    rows, seconds = 0, 0.0
    for scenario, day in days[::LIMIT_EVERY]:
        table = read.scan(f"{GROUP}/transactions", {"scenario": scenario, "day": day.isoformat()}).collect().to_arrow()
        table = table.cast(contract.arrow_schema())
        target = scratch / f"{day}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        pq.write_table(table, target, compression="zstd", **contract.parquet_options())
        seconds += time.perf_counter() - started
        rows += table.num_rows
    return rows, seconds


def day_part(identity, days: list[tuple[str, dt.date]], scenario: str, stages: Stages, scratch: Path) -> None:
    """Patronage, the plan and every day's tables from scratch, timed into `stages`, with the write limit."""
    shutil.rmtree(identity.run_root / GROUP, ignore_errors=True)
    read = Reader.for_assets_def(patronage, identity)
    table = stages.timed("patronage (once per world)", lambda: patronage_table(
        load_world(read, with_patronage=False), weekly_volumes(read)[0]))
    stages.timed("patronage (once per world)", lambda: publish_dataset(
        identity, load_contract(f"{GROUP}/patronage"), None, Publication(table, {})))
    table = None  # free it before the days
    read = Reader.for_assets_def(flows, identity)
    world = stages.timed("load the run's world", lambda: load_world(read))
    stages.timed("fraud plan", lambda: publish_plan(identity, read, world, scenario))
    published = stages.timed("days: arrivals -> published", lambda: publish_days(read, days, world))
    rows = {name: sum(p.rows for p in out.values()) for name, out in zip(DAY_TABLES, published)}
    day_s = stages["load the run's world"] + stages["days: arrivals -> published"]
    engine_rss = peak_rss_mb()
    print(f"reference profile, scenario {scenario}: {len(days)} days, {rows['flows']:,} flows, "
          f"{rows['events']:,} events, {rows['sessions']:,} sessions")
    stages.report("6B part 1 by the engine (no Dagster):")
    print(f"end to end (world load + days): {rows['flows'] / day_s:,.0f} flows/s  {rows['events'] / day_s:,.0f} "
          f"events/s  [target >= {TARGET_FLOWS_S:,} flows/s; the earlier system 32-40 min for ~125M arrivals]")
    print(f"peak RSS so far: {engine_rss:,.0f} MB   [target <= 4,096 MB]", flush=True)
    limit_rows, limit_s = write_limit(world, read, days, scratch / "limit")
    total = sum(rows.values())
    limit_total = sum(limit_rows.values()) / sum(limit_s.values())
    print(f"all day tables: {total / day_s:,.0f} rows/s end to end  [write limit {limit_total:,.0f} rows/s; "
          f"ratio {total / day_s / limit_total:.2f}, target >= 0.5]")
    for name in DAY_TABLES:
        print(f"  {name:<9} {rows[name]:>13,} rows  write limit {limit_rows[name] / limit_s[name]:>12,.0f} rows/s "
              f"(every {LIMIT_EVERY}th day)", flush=True)
    floor = sum(rows[name] * limit_s[name] / limit_rows[name] for name in DAY_TABLES)
    print(f"  the raw write of every day table alone would take {floor:.0f} s on one core", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    parser.add_argument("--data-root", type=Path, help="keep the world here (reused by later runs) instead of a temp dir")
    parser.add_argument("--scenario", default=SCENARIOS.get_partition_keys()[0])
    parser.add_argument("--after-days", action="store_true",
                        help="reuse the days published by an earlier run in --data-root: time the training table, "
                             "the cases and the validation only")
    parser.add_argument("--no-validation", action="store_true",
                        help="stop after the write limit (the validation reads every flow and event again)")
    args = parser.parse_args()
    cache = (args.reference_root or Path(__file__).resolve().parent.parent / "data").resolve()
    days = [(args.scenario, dt.date.fromisoformat(d)) for d in DAYS.get_partition_keys()]
    with tempfile.TemporaryDirectory(prefix="flows-bench-") as tmp:
        home = args.data_root.resolve() if args.data_root else Path(tmp)
        root = home / "data"
        identity = EngineResource(data_root=str(root)).identity()
        try:
            verify_gate(identity, "seg_5b")
            verify_gate(identity, "seg_6a")
        except GateError:  # no world yet, or an unfinished one: build it
            shutil.rmtree(root, ignore_errors=True)
            run, _, seconds = build_world_to_3b(cache, home)
            started = time.perf_counter()
            build_upstream(run)
            print(f"world through 5B and 6A built in {seconds + time.perf_counter() - started:.0f} s (not counted)")
        stages = Stages()
        if not args.after_days:
            day_part(identity, days, args.scenario, stages, Path(tmp))
        training = stages.timed("training table (seg_6b/transactions)", lambda: publish_transactions(
            Reader.for_assets_def(transactions, identity), days))
        training_rows, training_s = sum(p.rows for p in training.values()), stages["training table (seg_6b/transactions)"]
        print(f"training table: {training_rows:,} rows in {training_s:.1f} s ({training_rows / training_s:,.0f} rows/s); "
              f"peak RSS so far {peak_rss_mb():,.0f} MB", flush=True)
        limit_rows, limit_s = training_write_limit(Reader(identity, GROUP, [f"{GROUP}/transactions"], asset="benchmark"),
                                                   days, Path(tmp) / "training-limit")
        print(f"  write limit {limit_rows / limit_s:,.0f} rows/s (every {LIMIT_EVERY}th day): its raw write alone "
              f"takes {training_rows / (limit_rows / limit_s):.0f} s on one core", flush=True)
        stages.timed("cases", lambda: publish_dataset(identity, load_contract(f"{GROUP}/cases"), None, Publication(
            cases_table(Reader.for_assets_def(cases, identity), [args.scenario]), {})))
        all_6b = sum(stages.values())
        print(f"cases {stages['cases']:.1f} s")
        print(f"{'' if not args.after_days else '(days reused, not timed) '}all of 6B (patronage, plan, days, training "
              f"table, cases; no validation): {all_6b:.0f} s  "
              f"[target <= 300 s]   peak RSS so far: {peak_rss_mb():,.0f} MB", flush=True)
        if args.no_validation:
            return
        module = seg_6b_validation
        outcomes, _ = stages.timed("validation", lambda: module.evaluate(
            Reader.for_assets_def(module.validation, identity)))
    print(f"validation: {stages['validation']:.1f} s; figures of the scenario (completeness fails for scenarios "
          "not built here):")
    for o in outcomes:
        print(f"  {o.name:<36} {str(o.figure):<28} {o.corridor or ''}")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB (the validation included)   [target <= 4,096 MB]")


if __name__ == "__main__":
    main()
