"""What Dagster's own records cost per partition: one asset of N static partitions materialised in one run (a
single-run backfill policy, as the engine's country assets are) on a local SQLite instance, with an IO manager
that stores nothing and a body that does nothing but report each partition's metadata, as the engine's IO
manager does.

Usage:
    python benchmarks/bookkeeping.py [--partitions 10 250 1000]

Prints, per N: the run's wall time, the step's time, and the milliseconds per partition of each. Everything
measured is Dagster's: the planned-materialisation event each partition gets when the run is created, and its
materialisation event. A partitioned contract check adds a planned and an evaluation event per partition more.
"""

import argparse
import tempfile
import time
import warnings

import dagster as dg


class Nothing(dg.IOManager):
    def handle_output(self, context, obj) -> None:
        pass

    def load_input(self, context) -> None:
        return None


def measure(n: int) -> tuple[float, float]:
    keys = dg.StaticPartitionsDefinition([f"p{i:05d}" for i in range(n)])

    @dg.asset(partitions_def=keys, backfill_policy=dg.BackfillPolicy.single_run())
    def thing(context: dg.AssetExecutionContext) -> None:
        step = context.op_execution_context._step_execution_context  # as the engine's IO manager reports partitions
        for key in context.partition_keys:
            step.add_asset_metadata({"rows": 1, "bytes": 2}, asset_key=dg.AssetKey("thing"), partition_key=key)

    with tempfile.TemporaryDirectory() as home:
        with open(f"{home}/dagster.yaml", "w") as out:
            out.write("telemetry:\n  enabled: false\n")
        with dg.DagsterInstance.from_config(home) as instance:
            started = time.perf_counter()
            result = dg.materialize([thing], instance=instance, resources={"io_manager": Nothing()},
                                    tags={"dagster/asset_partition_range_start": keys.get_first_partition_key(),
                                          "dagster/asset_partition_range_end": keys.get_last_partition_key()},
                                    run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
            wall = time.perf_counter() - started
    step = sum(e.event_specific_data.duration_ms for e in result.all_events if e.event_type_value == "STEP_SUCCESS")
    return wall, step / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partitions", type=int, nargs="+", default=[10, 250, 1000])
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    for n in args.partitions:
        wall, step = measure(n)
        print(f"{n:6d} partitions: run {wall:6.2f} s ({1000 * wall / n:5.1f} ms/partition), step {step:6.2f} s "
              f"({1000 * step / n:5.1f} ms/partition)", flush=True)


if __name__ == "__main__":
    main()
