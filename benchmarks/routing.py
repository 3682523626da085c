"""Routing: alias table build rate and pick rate of the numba routing API.

Usage:
    python benchmarks/routing.py [--groups 30000] [--picks 50000000]

Tables of the size of the `reference` world's (merchant, zone) groups (sizes drawn like its
site counts: most groups 1-5 sites, a tail into the hundreds), then:
  * build: tables/s and entries/s of the Walker/Vose builder (engine_kernels.tables.alias)
  * pick: picks/s of engine_kernels.tables.routing.pick_item called from a numba loop (as an arrival
    kernel calls it) into a preallocated output, on 2 threads and on 1 (target >= 50M/s; best of
    3), and of the validating Python entry point pick_items
  * the limit measured in the same run: numpy fancy-indexing the same number of random slots
    (a pick that needed no table at all)
  * peak RSS
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from numba import njit, prange  # noqa: E402
from stages import best_rate_by_threads, peak_rss_mb  # noqa: E402

from engine_kernels.randomness.streams import label_key, uniforms  # noqa: E402
from engine_kernels.tables.routing import build_routing_table, pick_item, pick_items  # noqa: E402


@njit(parallel=True)
def arrival_loop(prob, alias, offsets, item, groups, u, out):
    """What an arrival kernel does per arrival: one routing pick."""
    for i in prange(groups.shape[0]):
        out[i] = pick_item(prob, alias, offsets, item, groups[i], u[i])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=30_000)
    parser.add_argument("--picks", type=int, default=50_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    sizes = np.minimum(1 + rng.zipf(2.0, args.groups), 500)
    offsets = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    weights = rng.pareto(1.5, offsets[-1]) + 0.05
    items = np.arange(offsets[-1], dtype=np.uint64)

    build_routing_table(weights[:10], np.array([0, 10]), items[:10])  # compile outside the timing
    started = time.perf_counter()
    table = build_routing_table(weights, offsets, items)
    build_s = time.perf_counter() - started

    groups = rng.integers(0, args.groups, args.picks)
    u = uniforms(label_key(1, "ab" * 32, "bench.routing"), args.picks)
    out = np.empty(args.picks, np.uint64)
    arrays = (table.prob, table.alias, table.offsets, table.item)
    arrival_loop(*arrays, groups[:1000], u[:1000], out[:1000])
    rates = best_rate_by_threads(lambda: arrival_loop(*arrays, groups, u, out), args.picks)
    started = time.perf_counter()
    pick_items(table, groups, u)
    entry_rate = args.picks / (time.perf_counter() - started)
    slots = (offsets[groups] + (u * sizes[groups]).astype(np.int64))
    started = time.perf_counter()
    items[slots]
    limit = args.picks / (time.perf_counter() - started)

    print(f"tables: {args.groups:,} groups, {offsets[-1]:,} entries (largest {sizes.max()})")
    print(f"build: {build_s:.3f} s -> {args.groups / build_s:,.0f} tables/s, {offsets[-1] / build_s:,.0f} entries/s")
    for threads, rate in rates.items():
        print(f"pick in numba, {threads} thread(s): {rate / 1e6:,.1f} M picks/s"
              + ("   [target >= 50 M/s]" if threads > 1 else ""))
    print(f"pick_items (checks its inputs, allocates its output): {entry_rate / 1e6:,.1f} M picks/s")
    print(f"limit: numpy gather of the same number of slots (no table): {limit / 1e6:,.1f} M/s")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
