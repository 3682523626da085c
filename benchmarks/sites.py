"""Segments 3A, 1B and 2A at the `reference` profile: zone plan, site placement, site zones.

Usage:
    python benchmarks/sites.py [--reference-root data]

In a fresh data root that shares a cached reference world, it builds 1A (not timed), loads the
reference world's query index (timed apart), then prints:
  * the kernels alone over every country: placement (1B) and zone lookup (2A), in sites/s
    (target >= 20,000 sites/s on 2 cores; the earlier system: ~30,000 sites in ~10 minutes)
  * the whole of 3A + 1B + 2A as Dagster runs it (in-process runs over every country partition,
    contract checks and the three validations included; target <= 30 s)
  * peak RSS
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

import dagster as dg  # noqa: E402
import polars as pl  # noqa: E402

from engine_assets.contracts import load_contract  # noqa: E402
from engine_assets.definitions import ASSET_CHECKS, ASSETS  # noqa: E402
from engine_assets.io_manager import ShardIOManager  # noqa: E402
from engine_assets.partitions import COUNTRIES  # noqa: E402
from engine_assets.reference_world import reference_world  # noqa: E402
from engine_assets.resources import EngineResource  # noqa: E402
from engine_assets.segments.seg_1b_sites import place_country  # noqa: E402
from engine_assets.segments.seg_2a_civil_time import zone_country  # noqa: E402
from engine_assets.segments.seg_1b_validation import scan_countries  # noqa: E402
from engine_assets.storage import load_dataset  # noqa: E402

EARLIER_SITES_PER_S = 30_000 / 600


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    args = parser.parse_args()
    cache = (args.reference_root or Path(__file__).resolve().parent.parent / "data").resolve()
    segments = ("reference", "seg_1a", "seg_3a", "seg_1b", "seg_2a")
    everything = [a for a in ASSETS if next(iter(a.keys)).path[0] in segments]
    everything += [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] in segments]
    keys = COUNTRIES.get_partition_keys()
    countries = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}

    with tempfile.TemporaryDirectory(prefix="sites-bench-") as tmp:
        root = Path(tmp) / "data"
        (root / "reference").mkdir(parents=True)
        engine = EngineResource(data_root=str(cache))
        dg.materialize([a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"],
                       resources={"engine": engine, "shards": ShardIOManager(engine=engine)}, run_config=quiet)
        for entry in (cache / "reference").glob("key=*"):
            (root / "reference" / entry.name).symlink_to(entry)
        engine = EngineResource(data_root=str(root))
        resources = {"engine": engine, "shards": ShardIOManager(engine=engine)}

        def run(selection, tags=None) -> float:
            started = time.perf_counter()
            result = dg.materialize(everything, selection=selection, resources=resources, run_config=quiet,
                                    tags=tags or {})
            assert result.success and all(e.passed for e in result.get_asset_check_evaluations()), selection
            return time.perf_counter() - started

        universe = ["seg_1a/merchants", "seg_1a/outlet_counts", "seg_1a/candidate_countries", "seg_1a/foreign_membership"]
        run(["reference/holidays", "reference/validation", *universe])
        run(["seg_1a/outlet_catalogue"], countries)
        run(["seg_1a/validation"])
        identity = engine.identity()
        started = time.perf_counter()
        reference_world(identity)
        load_s = time.perf_counter() - started

        stages = {
            "3A zone plan": run(["seg_3a/zone_plan"], countries),
            "1B site locations": run(["seg_1b/site_locations"], countries),
            "1B validation (maps incl.)": run(["seg_1b/validation"]),
            "2A site time zones": run(["seg_2a/site_timezones"], countries),
            "2A transitions": run(["seg_2a/tz_transitions"]),
            "2A validation": run(["seg_2a/validation"]),
            "3A zone alloc": run(["seg_3a/zone_alloc"], countries),
            "3A validation": run(["seg_3a/validation"]),
        }

        # The kernels alone, on the published plan and sites, over every country.
        plan, _ = scan_countries(identity, "seg_3a/zone_plan")
        sites, _ = scan_countries(identity, "seg_1b/site_locations")
        towns = load_dataset(identity, load_contract("reference/cities"), None).select(
            "country_iso", "lat_deg", "lon_deg", "population", pl.col("tzid").cast(pl.String)).collect()
        grid = load_dataset(identity, load_contract("reference/tz_grid"), None).select(
            "cell", pl.col("country_iso").cast(pl.String), pl.col("tzid").cast(pl.String)).collect()
        plans = {c: p for (c,), p in plan.drop("partition").partition_by("legal_country_iso", as_dict=True).items()}
        placed = {c: p for (c,), p in sites.drop("partition").partition_by("legal_country_iso", as_dict=True).items()}
        started = time.perf_counter()
        for country, p in plans.items():
            place_country(identity, country, p, towns.filter(pl.col("country_iso") == country))
        place_s = time.perf_counter() - started
        started = time.perf_counter()
        for country, p in placed.items():
            zone_country(identity, country, p, grid)
        zone_s = time.perf_counter() - started

    n = sites.height
    total = sum(stages.values())
    print(f"reference profile: {n:,} sites in {len(placed)} countries ({len(keys)} country partitions)")
    print(f"reference world query index loaded once: {load_s:.2f} s (not counted below)")
    print(f"kernels: placement {place_s:.2f} s, zone lookup {zone_s:.2f} s -> {n / (place_s + zone_s):,.0f} sites/s "
          f"[target >= 20,000; the earlier system ~{EARLIER_SITES_PER_S:.0f} sites/s]")
    print("3A + 1B + 2A through Dagster (in-process runs, contract checks and validations included):")
    for stage, seconds in stages.items():
        print(f"  {stage:<28} {seconds:6.2f} s")
    print(f"  {'total':<28} {total:6.2f} s   [target <= 30 s]")
    print(f"peak RSS: {_peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
