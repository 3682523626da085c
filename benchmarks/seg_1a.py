"""Segment 1A end to end: draw the merchant universe, publish it, check it, validate it.

Usage:
    python benchmarks/seg_1a.py [--merchants 10000 1000000] [--reference-root data/reference]

For each merchant count, on the `reference` profile (every country), in a fresh data root that
shares a cached reference world, it runs what the 1A assets and their checks run and prints:
  * seconds per stage: inputs (active countries, centres of population, MCC), the draws (kernel,
    then the four universe tables assembled by engine_assets/world/seg_1a/tables.py),
    publishing them and one catalogue partition per country, the generated
    contract checks of every partition, the segment validation; and the total
    (targets: <= 5 s at 10,000 merchants, <= 60 s at 1,000,000 on 2 cores)
  * the limit measured in the same run: pyarrow writing the same tables to zstd parquet, one file each
  * rows published and peak RSS; the realism figures the validation reported
and then the reference profile's 1A materialised through Dagster (three in-process runs with every
contract check), the way `make demo` and the UI run it.
"""

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"  # country partitions: every country

import dagster as dg  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from stages import Stages, peak_rss_mb, share_reference  # noqa: E402

from engine_assets.definitions import ASSET_CHECKS, ASSETS  # noqa: E402
from engine_assets.quality.checks import check_partitions  # noqa: E402
from engine_assets.quality.contracts import load_contract  # noqa: E402
from engine_assets.run.partitions import COUNTRY_CODES, COUNTRY_GROUPS  # noqa: E402
from engine_assets.run.resources import EngineResource  # noqa: E402
from engine_assets.storage.datasets import load_dataset, publish_dataset  # noqa: E402
from engine_assets.storage.io_manager import ShardIOManager  # noqa: E402
from engine_assets.storage.publish import ROW_GROUP_ROWS, Publication  # noqa: E402
from engine_assets.storage.reader import Reader  # noqa: E402
from engine_assets.world.seg_1a import validation as seg_1a_validation  # noqa: E402
from engine_assets.world.seg_1a.assets import DRAWS_OF, UNIVERSE_TABLES, catalogue_shards  # noqa: E402
from engine_assets.world.seg_1a.inputs import active_countries, merchant_categories  # noqa: E402
from engine_assets.world.seg_1a.tables import outlet_catalogue_table, universe_tables  # noqa: E402
from engine_kernels.ids import merchant_ids  # noqa: E402
from engine_kernels.merchants.catalogue import build_universe  # noqa: E402

TARGETS = {10_000: 5.0, 1_000_000: 60.0}


def _reference_world(root: Path) -> Path:
    """A data root holding a published reference world (built here if it is not cached yet)."""
    engine = EngineResource(data_root=str(root))
    reference = [a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"]
    checks = [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] == "reference"]
    result = dg.materialize([*reference, *checks], resources={"engine": engine, "shards": ShardIOManager(engine=engine)},
                            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
    assert result.success
    return root / "reference"


def _raw_write_s(tables, directory: Path) -> float:
    started = time.perf_counter()
    for i, table in enumerate(tables):
        pq.write_table(table, directory / f"raw-{i}.parquet", compression="zstd", row_group_size=ROW_GROUP_ROWS)
    return time.perf_counter() - started


def run(merchants: int, reference: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="seg1a-bench-") as tmp:
        root = share_reference(Path(tmp) / "data", reference)
        base = EngineResource(data_root=str(root)).identity()
        identity = dataclasses.replace(base, profile=dataclasses.replace(base.profile, merchants=merchants))
        stages = Stages()
        timed = stages.timed

        def inputs():
            ref = lambda name: load_dataset(identity, load_contract(f"reference/{name}"), None)  # noqa: E731
            frame = ref("countries").drop("geometry_wkb", "geometry_simplified_wkb").collect()
            return active_countries(identity, frame, ref("tz_grid")), merchant_categories(ref("mcc").collect())

        countries, mccs = timed("inputs", inputs)
        policy = identity.policies.merchants.model

        def draws():
            drawn = build_universe(merchant_ids(merchants), countries, mccs, policy, identity.substream_key)
            return drawn, universe_tables(drawn)

        universe, universe_rows = timed("draws", draws)
        published = []

        def publish():
            for name in UNIVERSE_TABLES:
                payload = Publication(universe_rows[name], {k: universe.rng_draws.get(k, 0) for k in DRAWS_OF[name]})
                publish_dataset(identity, load_contract(f"seg_1a/{name}"), None, payload)
                published.append((name, None))
            membership = load_dataset(identity, load_contract("seg_1a/foreign_membership"), None).collect()
            for key, shard in catalogue_shards(membership, COUNTRY_CODES).items():
                publish_dataset(identity, load_contract("seg_1a/outlet_catalogue"), key, shard)
                published.append(("outlet_catalogue", key))

        timed("publish", publish)
        failed = []
        for name in (*UNIVERSE_TABLES, "outlet_catalogue"):
            # As the generated contract check does: all partitions of the run together.
            keys = [k for n, k in published if n == name]
            verdicts = timed("contract checks", lambda: check_partitions(identity, load_contract(f"seg_1a/{name}"), keys))
            failed += [f"{name}/{k}" for k, (ok, _) in zip(keys, verdicts) if not ok]
        outcomes, _ = timed("validation", lambda: seg_1a_validation.evaluate(Reader.for_assets_def(seg_1a_validation.validation, identity)))
        catalogue = outlet_catalogue_table(universe_rows["foreign_membership"])
        tables = [*(universe_rows[name] for name in UNIVERSE_TABLES), catalogue]
        raw_s = _raw_write_s(tables, Path(tmp))

    rows = sum(t.num_rows for t in tables)
    total = sum(stages.values())
    target = TARGETS.get(merchants)
    print(f"\n{merchants:,} merchants on {countries.size} home countries: {rows:,} rows "
          f"({catalogue.num_rows:,} outlets in {len(COUNTRY_CODES)} country partitions)")
    for stage, seconds in stages.items():
        print(f"  {stage:<16} {seconds:7.2f} s")
    print(f"  {'total':<16} {total:7.2f} s" + (f"   [target <= {target:g} s]" if target else ""))
    print(f"  limit: raw pyarrow zstd write of the same five tables {raw_s:.2f} s "
          f"({rows / raw_s:,.0f} rows/s); engine publish {rows / stages['publish']:,.0f} rows/s")
    print(f"  contract checks failed: {failed or 'none'}; validation failed: "
          f"{[o.name for o in outcomes if not o.passed] or 'none'}")
    figures = {o.name: o.figure for o in outcomes if o.corridor and "==" not in o.corridor}
    print(f"  realism: {figures}")
    print(f"  peak RSS so far: {peak_rss_mb():,.0f} MB")


def run_in_dagster(reference: Path) -> None:
    """The reference profile's 1A as Dagster runs it: three in-process runs, checks included."""
    with tempfile.TemporaryDirectory(prefix="seg1a-dagster-") as tmp:
        root = share_reference(Path(tmp) / "data", reference)
        engine = EngineResource(data_root=str(root))
        resources = {"engine": engine, "shards": ShardIOManager(engine=engine)}
        keys = COUNTRY_GROUPS.get_partition_keys()
        everything = [a for a in ASSETS if next(iter(a.keys)).path[0] in ("reference", "seg_1a")]
        everything += [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] in ("reference", "seg_1a")]
        quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

        def materialise(selection, tags=None):
            started = time.perf_counter()
            result = dg.materialize(everything, selection=selection, resources=resources, run_config=quiet,
                                    tags=tags or {})
            assert result.success
            return time.perf_counter() - started

        materialise(["reference/holidays", "reference/reference_validation"])  # the gate 1A reads; not timed
        universe = materialise([f"seg_1a/{name}" for name in UNIVERSE_TABLES])
        catalogue = materialise(["seg_1a/outlet_catalogue"], {"dagster/asset_partition_range_start": keys[0],
                                                              "dagster/asset_partition_range_end": keys[-1]})
        validation = materialise(["seg_1a/seg_1a_validation"])
    total = universe + catalogue + validation
    print(f"\nreference profile ({engine.identity().profile.merchants:,} merchants) through Dagster, in-process, "
          f"with every contract check: universe {universe:.2f} s, catalogue ({len(keys)} country groups) "
          f"{catalogue:.2f} s, validation {validation:.2f} s; total {total:.2f} s")
    print(f"  peak RSS so far: {peak_rss_mb():,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--merchants", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    parser.add_argument("--no-dagster", action="store_true", help="skip the in-process Dagster run of the profile")
    args = parser.parse_args()
    root = args.reference_root or Path(__file__).resolve().parent.parent / "data"
    reference = _reference_world(root.resolve())
    for merchants in args.merchants:
        run(merchants, reference)
    if not args.no_dagster:
        run_in_dagster(reference)


if __name__ == "__main__":
    main()
