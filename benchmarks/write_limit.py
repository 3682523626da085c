"""The raw parquet write rate of an Arrow schema: the ceiling every producing benchmark is compared to.

Usage:
    python benchmarks/write_limit.py [--rows 20000000] [--dataset seg_5b/arrival_events]

Without --dataset it uses an arrival-shaped schema (ids, UTC and local timestamps, a dictionary
time zone, offsets, flags). It prints, for the same in-memory rows:
  * raw:     pyarrow.parquet writing zstd row groups of 1M rows to one file (no hashing, no fsync)
  * engine:  the engine's publisher (contract cast, row-group buffering, SHA-256, fsync, manifest,
             atomic switch)
and the ratio engine / raw, plus peak RSS. Other benchmarks import `raw_write_rate`.
"""

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine_assets.storage.publish import ROW_GROUP_ROWS, publish_table  # noqa: E402

ARRIVAL_LIKE = pa.schema([
    ("arrival_id", pa.uint64()),
    ("ts_utc", pa.timestamp("us", tz="UTC")),
    ("merchant_id", pa.uint64()),
    ("site_id", pa.uint64()),
    ("is_virtual", pa.bool_()),
    ("tzid", pa.dictionary(pa.int32(), pa.string())),
    ("ts_local", pa.timestamp("us")),
    ("utc_offset_s", pa.int32()),
])


def synthetic_batch(schema: pa.Schema, start: int, n: int, rng: np.random.Generator) -> pa.RecordBatch:
    """Plausible values per type: sorted timestamps and ids compress like real engine output."""
    base_us = 1_774_396_800_000_000  # 2026-03-25T00:00Z
    columns = []
    for f in schema:
        t = f.type
        if pa.types.is_timestamp(t):
            values = base_us + np.sort(rng.integers(0, 86_400_000_000, n))
            columns.append(pa.array(values, type=t))
        elif pa.types.is_dictionary(t):
            zones = pa.array(["America/New_York", "Europe/London", "Asia/Kolkata", "Europe/Berlin", "America/Sao_Paulo"])
            columns.append(pa.DictionaryArray.from_arrays(pa.array(rng.integers(0, 5, n).astype(np.int32)), zones))
        elif pa.types.is_boolean(t):
            columns.append(pa.array(rng.random(n) < 0.05))
        elif pa.types.is_floating(t):
            columns.append(pa.array(rng.random(n), type=t))
        elif pa.types.is_integer(t):
            if f.name.endswith("_id") and f.name.startswith("arrival"):
                columns.append(pa.array(np.arange(start, start + n), type=t))
            else:
                columns.append(pa.array(rng.integers(0, 10_000, n), type=t))
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            columns.append(pa.array(rng.integers(0, 1000, n).astype(str), type=t))
        elif pa.types.is_date32(t):
            columns.append(pa.array(rng.integers(20_000, 20_100, n).astype(np.int32), type=t))
        else:
            raise SystemExit(f"write_limit: no generator for column {f.name} of type {t}")
    return pa.record_batch(columns, schema=schema)


def make_batches(schema: pa.Schema, rows: int, batch_rows: int = 1_000_000) -> list[pa.RecordBatch]:
    rng = np.random.default_rng(1)
    return [synthetic_batch(schema, s, min(batch_rows, rows - s), rng) for s in range(0, rows, batch_rows)]


def raw_write_rate(batches: list[pa.RecordBatch], directory: Path, options: dict | None = None) -> tuple[float, int]:
    """Rows per second and bytes for pyarrow writing these batches to one zstd parquet file, with
    further ParquetWriter keywords (a contract's column encodings) when given."""
    path = directory / "raw.parquet"
    started = time.perf_counter()
    with pq.ParquetWriter(path, batches[0].schema, compression="zstd", **(options or {})) as writer:
        for b in batches:
            writer.write_batch(b, row_group_size=ROW_GROUP_ROWS)
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    path.unlink()
    return sum(b.num_rows for b in batches) / seconds, size


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--dataset", help="contract id whose Arrow schema to measure, e.g. engine/run_manifest")
    parser.add_argument("--dir", help="where to write (default: a temporary directory)")
    args = parser.parse_args()

    schema, options = ARRIVAL_LIKE, {}
    if args.dataset:
        from engine_assets.quality.contracts import load_contract

        schema, options = load_contract(args.dataset).arrow_schema(), load_contract(args.dataset).parquet_options()
    batches = make_batches(schema, args.rows)
    in_memory_mb = sum(b.nbytes for b in batches) / 2**20
    directory = Path(tempfile.mkdtemp(prefix="write-limit-", dir=args.dir))
    try:
        raw_rate, raw_bytes = raw_write_rate(batches, directory, options)
        started = time.perf_counter()
        published = publish_table(directory / "engine" / "day=2026-03-25", batches, schema, {}, "write limit",
                                  options=options)
        engine_rate = args.rows / (time.perf_counter() - started)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(f"schema: {args.dataset or 'arrival-like'} ({len(schema)} columns), rows: {args.rows:,} ({in_memory_mb:,.0f} MB in memory)")
    print(f"raw parquet write (the limit): {raw_rate:,.0f} rows/s, {raw_bytes / 2**20:,.0f} MB on disk")
    print(f"engine publish (cast, hash, fsync, manifest, switch): {engine_rate:,.0f} rows/s, "
          f"{published.bytes / 2**20:,.0f} MB in {len(published.files)} files")
    print(f"engine / raw: {engine_rate / raw_rate:.2f}")
    print(f"peak RSS: {_peak_rss_mb():,.0f} MB (the rows themselves: {in_memory_mb:,.0f} MB)")


if __name__ == "__main__":
    main()
