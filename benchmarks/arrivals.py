"""Segment 5B at the `reference` profile: the engine's headline throughput.

Usage:
    python benchmarks/arrivals.py [--reference-root data] [--days 90] [--scenario baseline]

In a fresh data root sharing a cached reference world, builds the reference profile through 5A
and 5B's latent field (not timed), then, for each day of the horizon:
  * generation: λ from 5A × day effect × burst factor → NB2 counts → the arrival kernel →
    the sorted Arrow tables (engine_assets.segments.seg_5b_arrivals.simulate_day)
  * publication: both tables through the engine's publisher (contract cast, SHA-256, fsync,
    atomic switch)
and prints arrivals/s of generation alone and end to end, the raw parquet write rate of the
same arrival tables measured in the same run (pyarrow, zstd, one file: the limit), the ratio
of end to end to that limit, and peak RSS. Targets on 2 cores: >= 2,000,000 arrivals/s end to
end, >= 50% of the limit, peak RSS <= 4 GB (the earlier system: 116.4M arrivals in 503.9 s).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

from engine_assets.contracts import load_contract  # noqa: E402
from engine_assets.partitions import SCENARIOS  # noqa: E402
from engine_assets.segments.seg_5b_arrivals import load_fabric, simulate_day  # noqa: E402
from engine_assets.storage import publish_dataset  # noqa: E402
from stages import build_world_to_3b, peak_rss_mb  # noqa: E402
from write_limit import raw_write_rate  # noqa: E402

EARLIER = 116_424_410 / 503.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scenario", default="baseline")
    args = parser.parse_args()
    cache = (args.reference_root or Path(__file__).resolve().parent.parent / "data").resolve()
    with tempfile.TemporaryDirectory(prefix="arrivals-bench-") as tmp:
        run, engine, world_s = build_world_to_3b(cache, Path(tmp))
        run(["seg_5a/weekly_shapes", "seg_5a/merchant_zone_profile"])
        run(["seg_5a/calendar"], SCENARIOS.get_partition_keys())
        run(["seg_5a/validation"])
        run(["seg_5b/latent_groups", "seg_5b/latent_field"], [args.scenario])
        identity = engine.identity()
        started = time.perf_counter()
        fabric = load_fabric(identity, args.scenario)
        load_s = time.perf_counter() - started
        days = identity.profile.horizon.days[: args.days]
        simulate_day(identity, fabric, days[0])  # compile the kernels outside the timing
        generate_s = publish_s = 0.0
        arrivals, raw_rates = 0, []
        for day in days:
            started = time.perf_counter()
            result = simulate_day(identity, fabric, day)
            generate_s += time.perf_counter() - started
            key = {"scenario": args.scenario, "day": day.isoformat()}
            started = time.perf_counter()
            publish_dataset(identity, load_contract("seg_5b/arrival_events"), key, result.events)
            publish_dataset(identity, load_contract("seg_5b/bucket_counts"), key, result.buckets)
            publish_s += time.perf_counter() - started
            arrivals += result.events.num_rows
            if day.day in (1, 15):  # the limit, on the same rows, a few times over the horizon
                raw_rates.append(raw_write_rate(result.events.to_batches(), Path(tmp))[0])
    raw = sorted(raw_rates)[len(raw_rates) // 2]
    end_to_end = arrivals / (generate_s + publish_s)
    print(f"reference profile, scenario {args.scenario}: {arrivals:,} arrivals over {len(days)} days, "
          f"{fabric.surface.zone.size:,} (merchant, zone) rows; world built in {world_s:.0f} s, "
          f"5B inputs loaded in {load_s:.1f} s (neither counted)")
    print(f"generation (λ, counts, arrivals, sorted Arrow tables): {generate_s:6.1f} s -> {arrivals / generate_s:,.0f} arrivals/s")
    print(f"publication (both tables, engine publisher):           {publish_s:6.1f} s")
    print(f"end to end: {end_to_end:,.0f} arrivals/s   [target >= 2,000,000; the earlier system {EARLIER:,.0f}]")
    print(f"limit: raw parquet write of the same arrival tables: {raw:,.0f} rows/s (median of {len(raw_rates)})")
    print(f"end to end / limit: {end_to_end / raw:.2f}   [target >= 0.5]")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB   [target <= 4,096]")


if __name__ == "__main__":
    main()
