"""Schedules and sensors: a world that grows a synthetic day at a time, and a report that follows validation.

Each daily stage (engine_assets/run/jobs.py: `clock_daily_job`, arrivals; `behaviour_daily_job`,
flows down to the training table) gets a schedule that, at each tick, asks for the next synthetic
day of every scenario: the first day, in horizon order, that is not yet built for every asset of
the stage. It waits (a skip with its reason) while a run of the stage is in flight, while what the
days read is not built (a validation that has not passed, a whole stage not run), and once the
horizon is complete, naming the job to run next. Days go in order because the training table reads
the week before.

A sensor builds the realism report of every scenario when 6B's validation passes.
"""

from collections.abc import Sequence

import dagster as dg

from engine_assets.run.jobs import Stage
from engine_assets.run.partitions import dimensions

# A tick every 10 minutes; a day of the demo world takes well under that. Both start stopped:
# switch them on in the UI (Automation) or with `dagster schedule start`.
CRON = "*/10 * * * *"
_IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
              dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def _built(instance: dg.DagsterInstance, keys: Sequence[dg.AssetKey]) -> set[str]:
    """Partitions materialised for every one of `keys`."""
    sets = [instance.get_materialized_partitions(key) for key in keys]
    return set.intersection(*sets) if sets else set()


def next_days(stage: Stage, instance: dg.DagsterInstance) -> list[str]:
    """The first partition of each scenario, in horizon order, not built for every asset of `stage`."""
    built = _built(instance, stage.keys)
    first: dict[str, str] = {}
    for key in stage.partitions_def.get_partition_keys():
        scenario = dimensions(key, stage.partitions_def)["scenario"]
        if key not in built and scenario not in first:
            first[scenario] = key
    return list(first.values())


def _missing_upstream(stage: Stage, prerequisites: Sequence[dg.AssetKey], instance: dg.DagsterInstance) -> list[str]:
    return [k.to_user_string() for k in prerequisites if instance.get_latest_materialization_event(k) is None]


def next_day_schedule(stage: Stage, prerequisites: Sequence[dg.AssetKey], then: str) -> dg.ScheduleDefinition:
    """The schedule of a daily stage; `prerequisites` are the unpartitioned assets its days read (validations),
    `then` the job to run once every day is built."""

    @dg.schedule(cron_schedule=CRON, job_name=stage.name, name=f"{stage.name}_next_day",
                 description=f"Builds the next synthetic day of every scenario with {stage.name} "
                             f"({', '.join(k.to_user_string() for k in stage.keys)}); then {then}.")
    def _schedule(context: dg.ScheduleEvaluationContext):
        instance = context.instance
        missing = _missing_upstream(stage, prerequisites, instance)
        if missing:
            return dg.SkipReason(f"{stage.name} waits for {', '.join(missing)}: build and validate what its days "
                                 "read first (make demo, or the jobs in README's Command line)")
        running = instance.get_run_records(dg.RunsFilter(job_name=stage.name, statuses=_IN_FLIGHT), limit=1)
        if running:
            return dg.SkipReason(f"a run of {stage.name} is in flight ({running[0].dagster_run.run_id}); "
                                 "the next day starts after it")
        keys = next_days(stage, instance)
        if not keys:
            return dg.SkipReason(f"every day of the horizon is built by {stage.name}; next: {then}")
        return [dg.RunRequest(partition_key=key, tags={"engine/scheduled_day": key}) for key in keys]

    return _schedule


def daily_schedules(assets: Sequence[dg.AssetsDefinition], stages: Sequence[Stage]) -> list[dg.ScheduleDefinition]:
    """One schedule per daily stage. Its prerequisites are the validations its assets depend on (the gates
    its days read through); what comes after it is the next stage of its layer."""
    owner = {key: a for a in assets for key in a.keys}
    schedules = []
    for i, stage in enumerate(stages):
        if not (stage.per_partition and stage.name.endswith("_daily_job")):
            continue
        deps = {d.asset_key for key in stage.keys for spec in owner[key].specs if spec.key == key for d in spec.deps}
        gates = sorted((k for k in deps if k.path[-1].endswith("_validation")), key=lambda k: k.to_user_string())
        then = next((s.name for s in stages[i + 1:] if s.layer == stage.layer), "the next layer's jobs")
        schedules.append(next_day_schedule(stage, gates, then))
    return schedules


def report_sensor(validation: dg.AssetKey, report_job: str, scenarios: Sequence[str]) -> dg.SensorDefinition:
    """Builds every scenario's report each time `validation` (6B's, the last one) is materialised and passed."""

    @dg.asset_sensor(asset_key=validation, job_name=report_job, name="report_after_validation",
                     description=f"Builds report/realism for every scenario once {validation.to_user_string()} passes.")
    def _sensor(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
        metadata = asset_event.asset_materialization.metadata
        passed = metadata.get("passed")
        if passed is None or not passed.value:
            return dg.SkipReason(f"{validation.to_user_string()} did not pass; no report")
        key = f"{asset_event.run_id}/{asset_event.timestamp:.6f}"
        return [dg.RunRequest(run_key=f"{key}/{s}", partition_key=s) for s in scenarios]

    return _sensor
