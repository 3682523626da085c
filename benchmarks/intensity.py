"""The 5A evaluator: λ for every (merchant, zone) row over the UTC buckets of one day.

Usage:
    python benchmarks/intensity.py [--rows 30000] [--bucket-minutes 15] [--zones 300]

Rows of the size of the `reference` world's (merchant, zone) rows on synthetic weekly shapes,
zones from the pinned tz database, a day with DST changes (2026-03-29). Prints bucket-rows/s of
engine_kernels.intensity.bucket_intensity on 2 threads and on 1 (target >= 20M/s), next to the
limit measured in the same run: numpy filling the same [rows, buckets] array from the shapes
with the zone offset fixed (no transition lookups, no partial hours), and peak RSS.
"""

import argparse
import datetime as dt
import sys
import time
import zoneinfo
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_kernels.civil_time import zones_transitions  # noqa: E402
from engine_kernels.intensity import bucket_intensity  # noqa: E402
from stages import best_rate_by_threads, peak_rss_mb  # noqa: E402

UTC = dt.timezone.utc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--bucket-minutes", type=int, default=15)
    parser.add_argument("--zones", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(3)
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
    print(f"λ total {lam.sum():,.0f} (limit's rough total {limit_lam.sum():,.0f}); peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
