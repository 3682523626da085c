"""`make demo`: build every asset of the active profile by running the named jobs, and print what was built.

Each job (engine_assets/run/jobs.py) is one stage of the world; it runs in-process over all its
partitions, in build order. Runs go to the persistent Dagster instance in $DAGSTER_HOME, so
`make dev` (dagster dev) then shows them on its overview and job pages.
"""

import argparse
import sys
import time
import warnings

import dagster as dg

from engine_assets.demo_progress import StageProgress, StageTiming, peak_rss_mb, print_stage_table
from engine_assets.run.config import active_profile_name
from engine_assets.run.errors import EngineError

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _runs_of(stage) -> list[dict[str, str]]:
    """Run tags of a stage's runs: one run over all its partitions. A per-partition stage runs one
    range per scenario (jobs.partition_ranges), and its very last partition in a run of its own,
    because Dagster records the partitions of one run in no particular order and the UI's latest
    materialisation should be the last day."""

    from engine_assets.run.jobs import PARTITION, RANGE_END, RANGE_START, every_partition, partition_ranges

    if not stage.per_partition:
        return [every_partition(stage.partitions_def)]
    *ranges, (first, last) = partition_ranges(stage.partitions_def)
    runs = [{RANGE_START: str(a), RANGE_END: str(b)} for a, b in ranges]
    keys = stage.partitions_def.get_partition_keys_in_range(dg.PartitionKeyRange(first, last))
    if len(keys) > 1:
        runs.append({RANGE_START: str(keys[0]), RANGE_END: str(keys[-2])})
    return runs + [{PARTITION: str(keys[-1])}]


def _summary_lines(built: list[tuple[str, str | None, dict]]) -> dict[str, str]:
    """One line per asset: rows summed over its partitions, or what kind of output it is."""
    lines: dict[str, list] = {}
    for key, partition, meta in built:
        entry = lines.setdefault(key, [0, 0, None])
        rows = meta.get("dagster/row_count")
        entry[0] += rows.value if rows is not None else 0
        entry[1] += 1 if partition else 0
        if rows is None:
            passed = meta.get("passed")
            entry[2] = meta["kind"].value if "kind" in meta else ("validation passed" if passed and passed.value else "done")
    out = {}
    for key, (rows, partitions, kind) in lines.items():
        text = kind or f"{rows:,} rows"
        out[key] = text + (f" in {partitions} partitions" if partitions else "")
    return out


def _failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """Failed steps and failed checks of a run, each as one readable line."""
    lines = []
    for event in result.get_step_failure_events():
        error = event.event_specific_data.error
        failure = event.event_specific_data.user_failure_data
        if failure is not None and failure.description:  # a validation's own report: checks, figures, remedies
            cause = failure.description.strip()
        else:
            cause = error.cause.message.strip() if error and error.cause else (error.message.strip() if error else "")
        lines.append(f"step {event.step_key} failed: {cause}")
    if lines:  # a failed validation step already names its failed checks
        return lines
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            metadata = evaluation.metadata
            figure, band = metadata.get("figure"), metadata.get("band")
            lines.append(f"check {evaluation.asset_check_key.to_user_string()} failed: "
                         f"{getattr(figure, 'value', figure)} outside {getattr(band, 'value', band)}")
    return lines


def _rows(built: list[tuple[str, str | None, dict]]) -> int:
    return sum(meta["dagster/row_count"].value for _, _, meta in built if "dagster/row_count" in meta)


def run_config(seed: int | None) -> dict:
    """The runs' config: quiet console logs, and the seed of a sibling world when one is given."""
    if seed is None:
        return QUIET
    return {**QUIET, "resources": {"engine": {"config": {"seed": seed}}}}


def main(seed: int | None = None) -> int:
    # The engine uses Dagster's beta and preview APIs on purpose (backfill policies, partitioned
    # checks); one warning per asset would bury the summary.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from engine_assets.definitions import ASSETS, LAYERS, defs  # loads and validates the profile and policies
    from engine_assets.run.jobs import build_stages
    from engine_assets.run.resources import EngineResource

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    identity = EngineResource(seed=seed).identity()
    config = run_config(seed)
    print(f"profile {active_profile_name()} | seed {identity.seed} | parameter_hash {identity.parameter_hash[:16]}")
    built, checks, seconds, timings = [], [], {}, []
    with StageProgress() as live:
        for stage in build_stages(ASSETS, LAYERS):
            stage_started = time.perf_counter()
            job = defs.resolve_job_def(stage.name)
            runs = _runs_of(stage)
            live.start(stage.name, len(runs))
            first = len(built)
            for tags in runs:
                result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=config, tags=tags)
                checks += result.get_asset_check_evaluations()
                for event in result.get_asset_materialization_events():
                    mat = event.event_specific_data.materialization
                    built.append((mat.asset_key.to_user_string(), mat.partition, mat.metadata))
                if not result.success:
                    live.stop()
                    print(f"\nmake demo stopped after {time.perf_counter() - started:.1f} s (run {result.run_id}):")
                    for line in _failures(result):
                        print(f"  {line}")
                    return 1
                live.run_done()
            stage_s = time.perf_counter() - stage_started
            seconds.update({key.to_user_string(): stage_s for key in stage.keys})
            timings.append(StageTiming(stage.name, stage_s, _rows(built[first:]), peak_rss_mb()))
            live.finish(f"{stage.name}: done in {stage_s:.1f} s")
    wall = time.perf_counter() - started
    print(f"\nBuilt {len(built)} asset materialisation(s) in {wall:.1f} s under {identity.run_root}")
    print(f"(reference datasets, shared by every world with these package pins: {identity.reference_root})")
    distinct = len({c.asset_check_key for c in checks})
    print(f"asset checks: {sum(c.passed for c in checks)} of {len(checks)} verdicts passed ({distinct} checks, "
          "contract checks once per partition)")
    for key, line in _summary_lines(built).items():
        print(f"  {key}: {line}")
    for dataset, what, run in (("seg_5b/arrival_events", "arrivals", "counts-and-arrivals"),
                               ("seg_6b/flows", "flows", "flows-events-and-sessions")):
        rows = _rows([b for b in built if b[0] == dataset])
        if rows:
            run_s = seconds[dataset]
            print(f"{what}: {rows:,} in {run_s:.1f} s of the {run} runs "
                  f"({rows / run_s:,.0f} {what}/s, Dagster bookkeeping and contract checks included)")
    for _, partition, meta in (b for b in built if b[0] == "report/realism"):
        print(f"realism report ({partition}): {meta['page'].value}")
    print_stage_table(timings)
    print(f"\nDagster runs are recorded in {instance.root_directory}; run `make dev` to browse them.")
    return 0


def _arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m engine_assets.demo",
                                     description="Build every asset of the profile named by ENGINE_PROFILE (default demo).")
    parser.add_argument("--seed", type=int, default=None,
                        help="build the sibling world of this seed instead of the profile's own (make demo SEED=7)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        sys.exit(main(_arguments().seed))
    except EngineError as exc:  # config, publishing and gate errors already say what and how to fix
        sys.exit(f"make demo: {exc}")
