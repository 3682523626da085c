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

    def report(self, title: str, target: str = "") -> None:
        """Print the stages under `title`, then their total with the target beside it."""
        print(title)
        for stage, seconds in self.items():
            print(f"  {stage:<28} {seconds:6.2f} s")
        print(f"  {'total':<28} {sum(self.values()):6.2f} s" + (f"   [{target}]" if target else ""))


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


QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def dagster_runner(root: Path):
    """run(selection, partition_keys=None) -> seconds: in-process Dagster runs under data root `root`."""
    import dagster as dg

    from engine_assets.definitions import ASSET_CHECKS, ASSETS
    from engine_assets.run.resources import EngineResource
    from engine_assets.storage.io_manager import ShardIOManager

    engine = EngineResource(data_root=str(root))
    resources = {"engine": engine, "shards": ShardIOManager(engine=engine)}

    def run(selection, keys=None) -> float:
        tags = {} if keys is None else {"dagster/asset_partition_range_start": str(keys[0]),
                                        "dagster/asset_partition_range_end": str(keys[-1])}
        started = time.perf_counter()
        result = dg.materialize([*ASSETS, *ASSET_CHECKS], selection=selection, resources=resources, run_config=QUIET,
                                tags=tags)
        assert result.success and all(e.passed for e in result.get_asset_check_evaluations()), selection
        return time.perf_counter() - started

    return run, engine


def build_world_to_3b(cache: Path, tmp: Path):
    """A fresh data root under tmp sharing the reference caches of `cache`, with the active profile's
    world built through 3B; returns (run, engine, seconds)."""
    import dagster as dg

    from engine_assets.definitions import ASSETS
    from engine_assets.run.partitions import COUNTRY_GROUPS
    from engine_assets.run.resources import EngineResource
    from engine_assets.storage.io_manager import ShardIOManager

    engine = EngineResource(data_root=str(cache))
    dg.materialize([a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"],
                   resources={"engine": engine, "shards": ShardIOManager(engine=engine)}, run_config=QUIET)
    run, engine = dagster_runner(share_reference(tmp / "data", cache / "reference"))
    keys = COUNTRY_GROUPS.get_partition_keys()
    started = time.perf_counter()
    run(["reference/holidays", "reference/reference_validation", "seg_1a/merchants", "seg_1a/outlet_counts",
         "seg_1a/candidate_countries", "seg_1a/foreign_membership", "seg_2a/tz_transitions"])
    for selection in (["seg_1a/outlet_catalogue"], ["seg_1a/seg_1a_validation"], ["seg_3a/zone_plan", "seg_1b/site_locations"],
                      ["seg_1b/seg_1b_validation"], ["seg_2a/site_timezones"], ["seg_2a/seg_2a_validation"], ["seg_3a/zone_alloc"],
                      ["seg_3a/seg_3a_validation"], ["seg_2b/site_weights", "seg_2b/alias_tables", "seg_2b/day_effects"],
                      ["seg_2b/seg_2b_validation"]):
        run(selection, keys if "validation" not in selection[0] else None)
    run(["seg_3b/virtual_classification", "seg_3b/settlement_nodes", "seg_3b/edge_catalogue",
         "seg_3b/edge_alias_tables", "seg_3b/seg_3b_validation"])
    return run, engine, time.perf_counter() - started
