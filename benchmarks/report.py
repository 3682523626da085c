"""`report/realism` of a built world against a plain read of the same columns.

Usage:
    python benchmarks/report.py [--profile demo] [--data-root data] [--seed N] [--scenario S]

Builds the page of one scenario as the asset does (engine_assets/reporting/report/assets.py,
`build_page`, nothing published), printing its time and peak RSS; then, in the same run, the
limit: polars reading the same columns of the same day partitions with nothing else. The world
must be built (`make demo`); it is only read.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stages import peak_rss_mb  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--scenario", default=None)
    args = parser.parse_args()

    from engine_assets.quality.gates import validation_key
    from engine_assets.reporting.report.assets import BY_COUNTRY, BY_DAY, SEGMENTS, build_page
    from engine_assets.run.identity import resolve_identity
    from engine_assets.run.partitions import DAYS
    from engine_assets.storage.reader import Reader
    from engine_kernels.civil_time.tzdb import use_pinned_tzdata

    use_pinned_tzdata()
    identity = resolve_identity(args.profile, seed=args.seed, data_root=args.data_root)
    scenario = args.scenario or identity.profile.scenarios[0]
    declared = [*BY_DAY, *BY_COUNTRY, "seg_6b/fraud_campaigns", *("/".join(validation_key(s).path) for s in SEGMENTS)]
    read = Reader(identity, "report", declared, asset="benchmark")
    start = time.perf_counter()
    page, pictures, rows = build_page(read, scenario)
    seconds = time.perf_counter() - start
    print(f"report {args.profile} {scenario}: {seconds:.1f} s, {len(page):,} bytes, {len(pictures)} pictures, "
          f"{len(rows)} corridors; peak RSS {peak_rss_mb():,.0f} MB", flush=True)

    # The limit: the same day partitions and columns the report reduces, read and nothing else.
    columns = {"seg_5b/arrival_events": ["is_virtual"], "seg_5b/bucket_counts": ["merchant_id", "count", "lambda_5a"],
               "seg_6b/flows": ["flow_id", "ts_utc", "flow_type", "outcome", "billing_amount", "billing_currency"],
               "seg_6b/truth_labels": ["label"], "seg_6b/events": ["event_type"],
               "seg_6b/bank_view": ["flow_id", "detected_at", "disputed_at", "chargeback_at", "confirmed_legit_at"]}
    start, total = time.perf_counter(), 0
    for day in DAYS.get_partition_keys():
        for dataset, wanted in columns.items():
            total += read.scan(dataset, {"scenario": scenario, "day": day}).select(wanted).collect().height
    limit = time.perf_counter() - start
    print(f"limit: reading the same day columns ({total:,} rows) takes {limit:.1f} s; the report is "
          f"{seconds / limit:.1f}x that", flush=True)


if __name__ == "__main__":
    main()
