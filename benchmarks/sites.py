"""Segments 3A, 1B and 2A at the `reference` profile: zone plan, site placement, site zones.

Usage:
    python benchmarks/sites.py [--reference-root data]

In a fresh data root that shares a cached reference world, it builds 1A (not timed), loads the
reference world's query index (timed apart), then prints:
  * the kernels alone over every country: placement (1B) and zone lookup (2A), in sites/s
    (target >= 20,000 sites/s on 2 cores; the earlier system: ~30,000 sites in ~10 minutes)
  * the engine's whole 3A + 1B + 2A: what the assets, their contract checks and the three
    validations run, called without Dagster, stage by stage (target <= 30 s)
  * the same through Dagster (in-process runs over every country partition), whose difference
    is Dagster's bookkeeping of 250 partitions per country asset
  * peak RSS
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

import dagster as dg  # noqa: E402
import polars as pl  # noqa: E402
from stages import Stages, peak_rss_mb, share_reference  # noqa: E402

from engine_assets.definitions import ASSET_CHECKS, ASSETS  # noqa: E402
from engine_assets.quality.checks import check_partitions  # noqa: E402
from engine_assets.quality.contracts import load_contract  # noqa: E402
from engine_assets.quality.gates import write_validation_bundle  # noqa: E402
from engine_assets.run.partitions import COUNTRY_CODES, COUNTRY_GROUPS  # noqa: E402
from engine_assets.run.resources import EngineResource  # noqa: E402
from engine_assets.storage.datasets import load_dataset, publish_dataset  # noqa: E402
from engine_assets.storage.io_manager import ShardIOManager  # noqa: E402
from engine_assets.storage.reader import Reader, reader_for  # noqa: E402
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world  # noqa: E402
from engine_assets.world.seg_1b import validation as seg_1b_validation  # noqa: E402
from engine_assets.world.seg_1b.assets import place_country  # noqa: E402
from engine_assets.world.seg_2a import validation as seg_2a_validation  # noqa: E402
from engine_assets.world.seg_2a.assets import zone_country  # noqa: E402
from engine_assets.world.seg_2a.clock import transition_window, transitions_table, zones_in_world  # noqa: E402
from engine_assets.world.seg_3a import validation as seg_3a_validation  # noqa: E402
from engine_assets.world.seg_3a.assets import allocate_country, plan_country  # noqa: E402
from engine_kernels.civil_time.transitions import zones_transitions  # noqa: E402

EARLIER_SITES_PER_S = 30_000 / 600


def engine_pipeline(identity, keys: list[str]) -> dict[str, float]:
    """3A + 1B + 2A as the assets run them, without Dagster: compute, publish, check, validate."""
    stages = Stages()
    timed = stages.timed

    def ref(name):
        return load_dataset(identity, load_contract(f"reference/{name}"), None)

    def country_step(stage, dataset, inputs, compute):
        def run():
            for key in keys:
                publish_dataset(identity, load_contract(dataset), key, compute(key, inputs(key)))
        timed(stage, run)
        verdicts = timed("contract checks", lambda: check_partitions(identity, load_contract(dataset), keys))
        assert all(ok for ok, _ in verdicts), dataset

    def validate(segment, module):
        outcomes, attachments = timed(f"{segment} validation", lambda: module.evaluate(Reader.for_assets_def(module.validation, identity)))
        assert all(o.passed for o in outcomes), [o.name for o in outcomes if not o.passed]
        write_validation_bundle(identity, segment, outcomes, attachments)

    def partition(dataset):
        return lambda key: load_dataset(identity, load_contract(dataset), key).collect()

    zones = ref("tz_zones").collect()
    towns = ref("cities").select("country_iso", "lat_deg", "lon_deg", "population", pl.col("tzid").cast(pl.String)).collect()
    towns_of = {c: p for (c,), p in towns.partition_by("country_iso", as_dict=True).items()}
    grid = ref("tz_grid").select("cell", pl.col("country_iso").cast(pl.String), pl.col("tzid").cast(pl.String)).collect()
    cells_of = {c: p for (c,), p in grid.partition_by("country_iso", as_dict=True).items()}
    country_step("3A zone plan", "seg_3a/zone_plan", partition("seg_1a/outlet_catalogue"),
                 lambda c, cat: plan_country(identity, c, cat.select("merchant_id"), zones))
    country_step("1B site locations", "seg_1b/site_locations", partition("seg_3a/zone_plan"),
                 lambda c, plan: place_country(identity, c, plan, towns_of.get(c, towns.clear())))
    validate("seg_1b", seg_1b_validation)
    country_step("2A site time zones", "seg_2a/site_timezones", partition("seg_1b/site_locations"),
                 lambda c, sites: zone_country(identity, c, sites, cells_of.get(c, grid.clear())))
    start, end = transition_window(identity)
    table = timed("2A transitions", lambda: transitions_table(zones_transitions(zones_in_world(identity, zones), start, end)))
    timed("2A transitions", lambda: publish_dataset(identity, load_contract("seg_2a/tz_transitions"), None, table))
    validate("seg_2a", seg_2a_validation)
    country_step("3A zone alloc", "seg_3a/zone_alloc", partition("seg_2a/site_timezones"),
                 lambda c, site_zones: allocate_country(site_zones))
    validate("seg_3a", seg_3a_validation)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    args = parser.parse_args()
    cache = (args.reference_root or Path(__file__).resolve().parent.parent / "data").resolve()
    segments = ("reference", "seg_1a", "seg_3a", "seg_1b", "seg_2a")
    everything = [a for a in ASSETS if next(iter(a.keys)).path[0] in segments]
    everything += [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] in segments]
    keys, groups = COUNTRY_CODES, COUNTRY_GROUPS.get_partition_keys()
    countries = {"dagster/asset_partition_range_start": groups[0], "dagster/asset_partition_range_end": groups[-1]}
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

    with tempfile.TemporaryDirectory(prefix="sites-bench-") as tmp:
        engine = EngineResource(data_root=str(cache))
        dg.materialize([a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"],
                       resources={"engine": engine, "shards": ShardIOManager(engine=engine)}, run_config=quiet)
        root = share_reference(Path(tmp) / "data", cache / "reference")
        engine = EngineResource(data_root=str(root))
        resources = {"engine": engine, "shards": ShardIOManager(engine=engine)}

        def run(selection, tags=None) -> float:
            started = time.perf_counter()
            result = dg.materialize(everything, selection=selection, resources=resources, run_config=quiet,
                                    tags=tags or {})
            assert result.success and all(e.passed for e in result.get_asset_check_evaluations()), selection
            return time.perf_counter() - started

        universe = ["seg_1a/merchants", "seg_1a/outlet_counts", "seg_1a/candidate_countries", "seg_1a/foreign_membership"]
        run(["reference/holidays", "reference/reference_validation", *universe])
        run(["seg_1a/outlet_catalogue"], countries)
        run(["seg_1a/seg_1a_validation"])
        identity = engine.identity()
        started = time.perf_counter()
        reference_world(reader_for(identity, *WORLD_DATASETS))
        load_s = time.perf_counter() - started

        engine_stages = engine_pipeline(identity, keys)
        for segment in ("seg_3a", "seg_1b", "seg_2a"):  # the Dagster runs below start from 1A again
            shutil.rmtree(identity.run_root / segment)
        stages = {
            "3A zone plan": run(["seg_3a/zone_plan"], countries),
            "1B site locations": run(["seg_1b/site_locations"], countries),
            "1B validation (maps incl.)": run(["seg_1b/seg_1b_validation"]),
            "2A site time zones": run(["seg_2a/site_timezones"], countries),
            "2A transitions": run(["seg_2a/tz_transitions"]),
            "2A validation": run(["seg_2a/seg_2a_validation"]),
            "3A zone alloc": run(["seg_3a/zone_alloc"], countries),
            "3A validation": run(["seg_3a/seg_3a_validation"]),
        }

        # The kernels alone, on the published plan and sites, over every country.
        plan, _ = reader_for(identity, "seg_3a/zone_plan").every_country("seg_3a/zone_plan")
        sites, _ = reader_for(identity, "seg_1b/site_locations").every_country("seg_1b/site_locations")
        towns = load_dataset(identity, load_contract("reference/cities"), None).select(
            "country_iso", "lat_deg", "lon_deg", "population", pl.col("tzid").cast(pl.String)).collect()
        grid = load_dataset(identity, load_contract("reference/tz_grid"), None).select(
            "cell", pl.col("country_iso").cast(pl.String), pl.col("tzid").cast(pl.String)).collect()
        plans = {c: p for (c,), p in plan.drop("partition").partition_by("legal_country_iso", as_dict=True).items()}
        placed = {c: p for (c,), p in sites.drop("partition").partition_by("legal_country_iso", as_dict=True).items()}
        towns_of = {c: p for (c,), p in towns.partition_by("country_iso", as_dict=True).items()}
        cells_of = {c: p for (c,), p in grid.partition_by("country_iso", as_dict=True).items()}
        started = time.perf_counter()
        for country, p in plans.items():
            place_country(identity, country, p, towns_of.get(country, towns.clear()))
        place_s = time.perf_counter() - started
        started = time.perf_counter()
        for country, p in placed.items():
            zone_country(identity, country, p, cells_of.get(country, grid.clear()))
        zone_s = time.perf_counter() - started

    n = sites.height
    print(f"reference profile: {n:,} sites in {len(placed)} countries ({len(keys)} country partitions)")
    print(f"reference world query index loaded once: {load_s:.2f} s (not counted below)")
    print(f"kernels: placement {place_s:.2f} s, zone lookup {zone_s:.2f} s -> {n / (place_s + zone_s):,.0f} sites/s "
          f"[target >= 20,000; the earlier system ~{EARLIER_SITES_PER_S:.0f} sites/s]")
    engine_stages.report("3A + 1B + 2A by the engine (the assets' work, contract checks and validations, without Dagster):",
                         "target <= 30 s")
    Stages(stages).report("the same through Dagster (in-process runs over 250 country partitions per country asset):")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
