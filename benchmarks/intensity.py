"""Segment 5A at the `reference` profile, and its evaluator: λ for every row over one UTC day.

Usage:
    python benchmarks/intensity.py [--reference-root data] [--synthetic-only]
                                   [--rows 30000] [--bucket-minutes 15] [--zones 300]

Synthetic part: rows of the size of a reference world on random weekly shapes, zones from the
pinned tz database, a day with DST changes (2026-03-29). Prints bucket-rows/s of
engine_kernels.intensity.evaluator.bucket_intensity on 2 threads and on 1 (target >= 20M/s), next to the
limit measured in the same run: numpy filling the same [rows, buckets] array from the shapes
with the zone offset fixed (no transition lookups, no partial hours).

Reference part: in a fresh data root sharing a cached reference world, builds the reference
profile through 3B (not timed), then times the whole of 5A as the assets run it without
Dagster (shapes, profile, the calendar of each scenario, contract checks, validation; target
<= 30 s; the earlier system 136 s after optimisation), the same through Dagster, and one day of
λ with overlays for every real (merchant, country, zone) row, in bucket-rows/s. Peak RSS last.
"""

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

from stages import Stages, best_rate_by_threads, build_world_to_3b, peak_rss_mb  # noqa: E402

from engine_kernels.civil_time.transitions import zones_transitions  # noqa: E402
from engine_kernels.civil_time.tzdb import use_pinned_tzdata  # noqa: E402
from engine_kernels.intensity.evaluator import bucket_intensity  # noqa: E402

UTC = dt.timezone.utc
EARLIER_5A_S = 136


def synthetic(args) -> None:
    rng = np.random.default_rng(3)
    use_pinned_tzdata()
    zones = sorted(zoneinfo.available_timezones())[: args.zones]
    table = zones_transitions(zones, dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2028, 1, 1, tzinfo=UTC))
    shapes = rng.random((40, 168))
    shapes /= shapes.sum(axis=1, keepdims=True)
    zone = rng.integers(0, len(table.tzids), args.rows)
    volume = rng.pareto(1.8, args.rows) * 200 + 20
    shape_of = rng.integers(0, shapes.shape[0], args.rows)
    start = int(dt.datetime(2026, 3, 29, tzinfo=UTC).timestamp()) * 1_000_000
    buckets = 24 * 60 // args.bucket_minutes
    cells = args.rows * buckets

    bucket_intensity(start, args.bucket_minutes, zone[:10], volume[:10], shape_of[:10], shapes, table)
    rates = best_rate_by_threads(
        lambda: bucket_intensity(start, args.bucket_minutes, zone, volume, shape_of, shapes, table), cells)
    lam = bucket_intensity(start, args.bucket_minutes, zone, volume, shape_of, shapes, table)

    # The limit: the same array from a gather of whole hours at a fixed offset per row.
    offset_h = (table.offset_seconds[table.offsets[:-1]][zone] // 3600).astype(np.int64)
    started = time.perf_counter()
    hour = (np.arange(buckets) * args.bucket_minutes // 60)[None, :] + offset_h[:, None] + 6 * 24  # Sunday
    limit_lam = volume[:, None] * shapes[shape_of[:, None], hour % 168] * (args.bucket_minutes / 60)
    limit = cells / (time.perf_counter() - started)

    print(f"rows: {args.rows:,} x {buckets} buckets of {args.bucket_minutes} min = {cells:,} bucket-rows; "
          f"{len(table.tzids)} zones, day 2026-03-29 (EU DST change)")
    for threads, rate in rates.items():
        print(f"evaluator, {threads} thread(s): {rate / 1e6:,.1f} M bucket-rows/s"
              + ("   [target >= 20 M/s]" if threads > 1 else ""))
    print(f"limit: numpy gather at a fixed whole-hour offset: {limit / 1e6:,.1f} M bucket-rows/s")
    print(f"λ total {lam.sum():,.0f} (limit's rough total {limit_lam.sum():,.0f})")


def engine_5a(identity) -> Stages:
    """5A as its assets run it, without Dagster: compute, publish, contract checks, validation."""
    from engine_assets.clock.seg_5a import validation as seg_5a_validation
    from engine_assets.clock.seg_5a.assets import calendar_table, profile_table, shape_catalogue
    from engine_assets.quality.checks import check_partitions
    from engine_assets.quality.contracts import load_contract
    from engine_assets.quality.gates import write_validation_bundle
    from engine_assets.storage.datasets import load_dataset, publish_dataset
    from engine_assets.storage.reader import reader_for

    stages = Stages()
    timed = stages.timed

    def read(name, key=None):
        return load_dataset(identity, load_contract(name), key).collect()

    def publish(name, key, payload):
        publish_dataset(identity, load_contract(name), key, payload)
        verdicts = timed("contract checks", lambda: check_partitions(identity, load_contract(name), [key]))
        assert all(ok for ok, _ in verdicts), name

    countries = read("reference/countries").select("country_iso", "weekend_mask")
    shapes = timed("weekly shapes", lambda: shape_catalogue(identity, countries["weekend_mask"].to_list()))
    publish("seg_5a/weekly_shapes", None, shapes)

    def profile():
        alloc, _ = reader_for(identity, "seg_3a/zone_alloc").every_country("seg_3a/zone_alloc")
        return profile_table(identity, alloc, read("seg_1a/merchants"), read("seg_3b/virtual_classification"),
                             countries, read("seg_5a/weekly_shapes"))
    publish("seg_5a/merchant_zone_profile", None, timed("merchant zone profile", profile))
    rows, holidays = read("seg_5a/merchant_zone_profile"), read("reference/holidays")
    for scenario in identity.profile.scenarios:
        table = timed("calendars", lambda: calendar_table(identity, scenario, rows, holidays, countries))
        publish("seg_5a/calendar", scenario, table)
    outcomes, attachments = timed("validation", lambda: seg_5a_validation.evaluate(identity))
    assert all(o.passed for o in outcomes), [o.name for o in outcomes if not o.passed]
    write_validation_bundle(identity, "seg_5a", outcomes, attachments)
    return stages


def reference(args) -> None:
    from engine_assets.clock.seg_5a.surface import load_surface
    from engine_assets.run.partitions import SCENARIOS

    cache = (args.reference_root or Path(__file__).resolve().parent.parent / "data").resolve()
    scenarios = SCENARIOS.get_partition_keys()
    with tempfile.TemporaryDirectory(prefix="intensity-bench-") as tmp:
        run, engine, world_s = build_world_to_3b(cache, Path(tmp))
        identity = engine.identity()

        stages = engine_5a(identity)
        dagster = Stages({
            "weekly shapes + profile": run(["seg_5a/weekly_shapes", "seg_5a/merchant_zone_profile"]),
            "calendars": run(["seg_5a/calendar"], scenarios),
            "validation": run(["seg_5a/seg_5a_validation"]),
        })
        surface = load_surface(identity, scenarios[0])
        day = identity.profile.horizon.start + dt.timedelta(days=87)  # 2026-03-29: the EU clock change
        surface.day(day, 15)
        rates = best_rate_by_threads(lambda: surface.day(day, 15), surface.zone.size * 96)
        started = time.perf_counter()
        for _ in range(3):
            surface.overlay(day)
        overlay_s = (time.perf_counter() - started) / 3

    print(f"\nreference profile: {surface.zone.size:,} (merchant, country, zone) rows in {len(surface.countries)} "
          f"countries, {len(surface.events.kind):,} calendar events of {scenarios[0]}; world to 3B built in "
          f"{world_s:.0f} s (not counted)")
    stages.report("whole 5A by the engine (the assets' work, contract checks and validation, without Dagster):",
                  f"target <= 30 s; the earlier system {EARLIER_5A_S} s")
    dagster.report("the same through Dagster:")
    for threads, rate in rates.items():
        print(f"one day ({day}, 96 buckets) of λ with overlays, every row, {threads} thread(s): "
              f"{rate / 1e6:,.1f} M bucket-rows/s" + ("   [target >= 20 M/s]" if threads > 1 else ""))
    print(f"  of which the day's overlay factors: {overlay_s * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--bucket-minutes", type=int, default=15)
    parser.add_argument("--zones", type=int, default=300)
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    parser.add_argument("--synthetic-only", action="store_true", help="skip the reference profile's 5A")
    args = parser.parse_args()
    synthetic(args)
    if not args.synthetic_only:
        reference(args)
    print(f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
