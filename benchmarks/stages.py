"""Helpers the benchmark scripts share: a data root on a cached reference world, stage timing, RSS."""

import resource
import time
from pathlib import Path


def share_reference(root: Path, reference: Path) -> Path:
    """Make `root` a data root whose reference caches link to those under `reference`.

    Only the `key=` caches are linked: the `reference` profile's own run root also lives under
    <data_root>/reference/ and must stay the benchmark's.
    """
    (root / "reference").mkdir(parents=True)
    for cache in reference.glob("key=*"):
        (root / "reference" / cache.name).symlink_to(cache)
    return root


class Stages(dict):
    """Seconds per named stage, summed over calls."""

    def timed(self, stage: str, fn):
        started = time.perf_counter()
        value = fn()
        self[stage] = self.get(stage, 0.0) + time.perf_counter() - started
        return value


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def best_rate_by_threads(run, units: int, repeats: int = 3) -> dict[int, float]:
    """units/s of the best of `repeats` calls of run(), on all numba threads and on one."""
    import numba

    rates = {}
    for threads in (numba.config.NUMBA_NUM_THREADS, 1):
        numba.set_num_threads(threads)
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - started)
        rates[threads] = units / best
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    return rates
