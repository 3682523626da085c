"""`make demo`: materialise every asset of the active profile in-process and print what was built.

Runs go to the persistent Dagster instance in $DAGSTER_HOME, so `make dev` (dagster dev) then
shows them. Assets are materialised in dependency order, one run per stretch of assets that
share a partitioning; a partitioned stretch covers all its partitions in a single run.
"""

import sys
import time

import dagster as dg

from engine_assets.config import active_profile_name
from engine_assets.errors import EngineError


QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _stretches(graph) -> list[list[dg.AssetKey]]:
    """Topologically ordered asset keys, cut where the partitioning changes."""
    order = [key for level in graph.toposorted_asset_keys_by_level for key in sorted(level)]
    stretches: list[list[dg.AssetKey]] = []
    for key in order:
        pdef = graph.get(key).partitions_def
        if stretches and graph.get(stretches[-1][0]).partitions_def == pdef:
            stretches[-1].append(key)
        else:
            stretches.append([key])
    return stretches


def _tags(pdef: dg.PartitionsDefinition | None) -> dict[str, str]:
    if pdef is None:
        return {}
    keys = pdef.get_partition_keys()
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}


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
        cause = error.cause.message.strip() if error and error.cause else (error.message.strip() if error else "")
        lines.append(f"step {event.step_key} failed: {cause}")
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            lines.append(f"check {evaluation.asset_check_key.to_user_string()} failed: {dict(evaluation.metadata)}")
    return lines


def main() -> int:
    from engine_assets.definitions import defs  # loads and validates the profile and policies
    from engine_assets.resources import EngineResource

    started = time.perf_counter()
    instance = dg.DagsterInstance.get()
    graph = defs.resolve_asset_graph()
    job = defs.resolve_implicit_global_asset_job_def()
    identity = EngineResource().identity()
    print(f"profile {active_profile_name()} | seed {identity.seed} | parameter_hash {identity.parameter_hash[:16]}")
    built, checks, seconds = [], [], {}
    for stretch in _stretches(graph):
        pdef = graph.get(stretch[0]).partitions_def
        stretch_started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, asset_selection=stretch, tags=_tags(pdef), raise_on_error=False, run_config=QUIET
        )
        seconds.update({key.to_user_string(): time.perf_counter() - stretch_started for key in stretch})
        checks += result.get_asset_check_evaluations()
        for event in result.get_asset_materialization_events():
            mat = event.event_specific_data.materialization
            built.append((mat.asset_key.to_user_string(), mat.partition, mat.metadata))
        if not result.success:
            print(f"\nmake demo stopped after {time.perf_counter() - started:.1f} s (run {result.run_id}):")
            for line in _failures(result):
                print(f"  {line}")
            return 1
    wall = time.perf_counter() - started
    print(f"\nBuilt {len(built)} asset materialisation(s) in {wall:.1f} s under {identity.run_root}")
    print(f"(reference datasets, shared by every world with these package pins: {identity.reference_root})")
    print(f"asset checks: {len(checks)} passed")
    for key, line in _summary_lines(built).items():
        print(f"  {key}: {line}")
    arrivals = sum(m["dagster/row_count"].value for k, _, m in built
                   if k == "seg_5b/arrival_events" and "dagster/row_count" in m)
    if arrivals:
        run_s = seconds["seg_5b/arrival_events"]
        print(f"arrivals: {arrivals:,} in {run_s:.1f} s of the counts-and-arrivals run "
              f"({arrivals / run_s:,.0f} arrivals/s, Dagster bookkeeping and contract checks included)")
    print(f"\nDagster runs are recorded in {instance.root_directory}; run `make dev` to browse them.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except EngineError as exc:  # config, publishing and gate errors already say what and how to fix
        sys.exit(f"make demo: {exc}")
