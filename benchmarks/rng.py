"""Throughput of Philox4x32-10 open-interval uniforms against numpy's Philox.

Usage: python benchmarks/rng.py [--n 100000000]

Prints float64 uniforms per second from engine_kernels.randomness.streams.uniforms on two
numba threads and on one, numpy's Generator(Philox).random(n) measured in
the same process, the ratios, and the peak resident set size.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine_kernels.randomness import streams as rng  # noqa: E402

PARAMETER_HASH = "0" * 64


def rate(fn, n: int, repeats: int) -> float:
    """Best-of-`repeats` values per second; each call's array is freed before the next."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(n)
        elapsed = time.perf_counter() - start
        del out
        best = min(best, elapsed)
    return n / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000_000, help="uniforms per timed call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per variant (best is kept)")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()

    key = rng.label_key(args.seed, PARAMETER_HASH, "benchmark")

    def philox(n):
        return rng.uniforms(key, n)

    def numpy_philox(n):
        return np.random.Generator(np.random.Philox(args.seed)).random(n)

    philox(1000)  # compile (or load from cache) before timing
    threads = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(min(2, threads))
    two = rate(philox, args.n, args.repeats)
    numba.set_num_threads(1)
    one = rate(philox, args.n, args.repeats)
    reference = rate(numpy_philox, args.n, args.repeats)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"n = {args.n:,} float64 uniforms, best of {args.repeats}")
    print(f"Philox4x32-10 numba, {min(2, threads)} threads : {two / 1e6:10.1f} M/s")
    print(f"Philox4x32-10 numba, 1 thread  : {one / 1e6:10.1f} M/s")
    print(f"numpy Generator(Philox).random: {reference / 1e6:10.1f} M/s")
    print(f"ratio numba 2 threads / numpy  : {two / reference:10.2f}")
    print(f"ratio numba 1 thread  / numpy  : {one / reference:10.2f}")
    print(f"peak RSS                       : {peak_mib:10.1f} MiB")


if __name__ == "__main__":
    main()
