"""Segment 5B at the `reference` profile: the engine's headline throughput.

Usage:
    python benchmarks/arrivals.py [--reference-root data] [--days 90] [--scenario baseline]

In a fresh data root sharing a cached reference world, builds the reference profile through 5A
and 5B's latent field (not timed), then over the horizon's days:
  * generation alone: λ from 5A × day effect × burst factor → NB2 counts → the arrival kernel →
    the sorted Arrow tables (simulate_day), with the two numba kernels' share (counts, arrivals)
  * end to end: what the `arrivals` asset runs (simulate_and_publish): the scenario's inputs
    loaded, every day generated and both tables published through the engine's publisher
    (contract cast, SHA-256, fsync, atomic switch) on a writer thread while the next day is
    generated
and prints arrivals/s of each, the raw parquet write rate of the same arrival tables measured in
the same run (pyarrow, one file, the contract's encodings, no hashing or fsync: the limit), the
ratio of end to end to that limit, and peak RSS. Targets on 2 cores: >= 2,000,000 arrivals/s end
to end, >= 50% of the limit, peak RSS <= 4 GB (the earlier system: 116.4M arrivals in 503.9 s).
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

from stages import Stages, build_world_to_3b, peak_rss_mb  # noqa: E402
from write_limit import raw_write_rate  # noqa: E402

from engine_assets.clock.seg_5b import assets as seg_5b_arrivals  # noqa: E402
from engine_assets.clock.seg_5b.fabric import load_fabric  # noqa: E402
from engine_assets.quality.contracts import load_contract  # noqa: E402
from engine_assets.run.partitions import SCENARIOS  # noqa: E402
from engine_assets.storage.reader import Reader  # noqa: E402

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
        run(["seg_5a/seg_5a_validation"])
        run(["seg_5b/latent_groups", "seg_5b/latent_field"], [args.scenario])
        identity = engine.identity()
        days = identity.profile.horizon.days[: args.days]
        read = Reader.for_assets_def(seg_5b_arrivals.arrivals, identity)
        fabric = load_fabric(read, args.scenario)
        seg_5b_arrivals.simulate_day(identity, fabric, days[0])  # load the compiled kernels outside the timing
        kernels, originals = Stages(), {}
        for name in ("bucket_counts", "expand_arrivals"):  # time the two kernels where simulate_day calls them
            originals[name] = kernel = getattr(seg_5b_arrivals, name)
            setattr(seg_5b_arrivals, name, lambda *a, _k=kernel, _n=name, **kw: kernels.timed(_n, lambda: _k(*a, **kw)))
        contract = load_contract("seg_5b/arrival_events")
        arrivals, generate_s, raw_rates = 0, 0.0, []
        for day in days:
            started = time.perf_counter()
            result = seg_5b_arrivals.simulate_day(identity, fabric, day)
            generate_s += time.perf_counter() - started
            arrivals += result.events.data.num_rows
            if day.day in (1, 15):  # the limit, on the same rows, a few times over the horizon
                table = result.events.data.cast(contract.arrow_schema())
                raw_rates.append(raw_write_rate(table.to_batches(), Path(tmp), contract.parquet_options())[0])
        for name, kernel in originals.items():
            setattr(seg_5b_arrivals, name, kernel)
        del fabric, result
        started = time.perf_counter()
        published = seg_5b_arrivals.simulate_and_publish(read, [(args.scenario, d) for d in days])
        end_to_end_s = time.perf_counter() - started
        assert sum(e.rows for _, e in published) == arrivals, "the end-to-end run made other arrivals"
        stored = sum(c.bytes + e.bytes for c, e in published)
    raw = sorted(raw_rates)[len(raw_rates) // 2]
    kernel_s = sum(kernels.values())
    end_to_end = arrivals / end_to_end_s
    print(f"reference profile, scenario {args.scenario}: {arrivals:,} arrivals over {len(days)} days; "
          f"world built in {world_s:.0f} s (not counted)")
    print(f"kernels (NB2 counts {kernels['bucket_counts']:.1f} s, arrivals {kernels['expand_arrivals']:.1f} s): "
          f"{kernel_s:6.1f} s -> {arrivals / kernel_s:,.0f} arrivals/s")
    print(f"generation (λ, counts, arrivals, sorted Arrow tables):  {generate_s:6.1f} s -> {arrivals / generate_s:,.0f} arrivals/s")
    print(f"end to end (inputs, generation, both tables published):  {end_to_end_s:6.1f} s -> {end_to_end:,.0f} arrivals/s"
          f"   [target >= 2,000,000; the earlier system {EARLIER:,.0f}]")
    print(f"published: {stored / 2**30:.2f} GiB ({stored / arrivals:.1f} bytes per arrival, bucket counts included)")
    print(f"limit: raw parquet write of the same arrival tables: {raw:,.0f} rows/s (median of {len(raw_rates)})")
    print(f"end to end / limit: {end_to_end / raw:.2f}   [target >= 0.5]")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB   [target <= 4,096]")


if __name__ == "__main__":
    main()
