"""Reference world: full build, then the queries later segments make millions of times.

Usage:
    python benchmarks/reference.py [--points 1000000] [--country US]

Prints, next to the targets of the reference-world issue:
  * full build of every reference asset from the pinned wheels (fresh data root, in-process
    Dagster run including contract checks and validation): wall time and peak RSS (<= 60 s, <= 2 GB)
  * point-in-country for N points (<= 2 s), zone lookup restricted to the country (<= 3 s),
    population-weighted sampling of N points (<= 0.5 s)
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("ENGINE_PROFILE", "ci")

import dagster as dg  # noqa: E402

from engine_assets.definitions import ASSET_CHECKS, ASSETS  # noqa: E402
from engine_assets.run.resources import EngineResource  # noqa: E402
from engine_assets.storage.io_manager import ShardIOManager  # noqa: E402
from engine_assets.storage.reader import reader_for  # noqa: E402
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world  # noqa: E402


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--country", default="US")
    args = parser.parse_args()

    reference = [a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"]
    checks = [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] == "reference"]
    with tempfile.TemporaryDirectory(prefix="reference-bench-") as root:
        engine = EngineResource(data_root=root)
        resources = {"engine": engine, "shards": ShardIOManager(engine=engine)}
        quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
        result, build_s = _timed(lambda: dg.materialize([*reference, *checks], resources=resources, run_config=quiet))
        assert result.success
        build_rss = _peak_rss_mb()
        _, cached_s = _timed(lambda: dg.materialize([*reference, *checks], resources=resources, run_config=quiet))

        world, load_s = _timed(lambda: reference_world(reader_for(engine.identity(), *WORLD_DATASETS)))
        cells = world.populated_cells(args.country)
        u = np.random.default_rng(7).random((3, args.points))
        (lat, lon), sample_s = _timed(lambda: cells.sample_points(u[0], u[1], u[2]))
        inside, contains_s = _timed(lambda: world.contains(args.country, lat, lon))
        zones, zones_s = _timed(lambda: world.zones_at(args.country, lat, lon))

    n = f"{args.points:,}"
    print(f"full reference build (fresh, incl. contract checks + validation): {build_s:.1f} s, "
          f"peak RSS {build_rss:,.0f} MB   [target <= 60 s, <= 2,048 MB]")
    print(f"rebuild with a warm cache: {cached_s:.1f} s; loading the query index: {load_s:.2f} s")
    print(f"population-weighted sampling, {n} points in {args.country}: {sample_s:.3f} s   [target <= 0.5 s]")
    print(f"point-in-country, {n} points: {contains_s:.3f} s ({inside.mean():.1%} inside)   [target <= 2 s]")
    none_share = float(np.mean([z is None for z in zones]))
    print(f"zone lookup restricted to {args.country}, {n} points: {zones_s:.3f} s "
          f"({none_share:.2%} without a valid zone)   [target <= 3 s]")
    print(f"peak RSS overall: {_peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
