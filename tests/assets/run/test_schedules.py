"""The daily schedules and the report sensor, evaluated with Dagster's own evaluation API against a test instance."""

import dagster as dg
import pytest

from engine_assets.definitions import defs
from engine_assets.run.partitions import SCENARIO_DAYS, SCENARIOS, dimensions
from engine_assets.run.schedules import CRON

DAILY = {"clock_daily_job": ["seg_5b/arrival_events", "seg_5b/bucket_counts"],
         "behaviour_daily_job": ["seg_6b/flows", "seg_6b/events", "seg_6b/sessions", "seg_6b/truth_labels",
                                 "seg_6b/bank_view", "seg_6b/transactions"]}


def _schedule(job: str) -> dg.ScheduleDefinition:
    return defs.resolve_schedule_def(f"{job}_next_day")


def _materialise(instance, asset: str, partition: str | None = None, **metadata) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(asset.split("/"), partition=partition,
                                                                metadata=metadata))


def _tick(job: str, instance):
    return _schedule(job).evaluate_tick(
        dg.build_schedule_context(instance=instance, repository_def=defs.get_repository_def()))


def _sensor_context(instance, cursor: str | None = None):
    return dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def())


def _gates(job: str) -> list[str]:
    with dg.instance_for_test() as instance:
        skip = _tick(job, instance).skip_message
    return skip.split(" waits for ")[1].split(":")[0].split(", ")


def test_every_daily_stage_has_a_stopped_schedule_on_its_job():
    schedules = {s.name: s for s in defs.schedules}
    assert set(schedules) == {f"{job}_next_day" for job in DAILY}
    for job in DAILY:
        schedule = schedules[f"{job}_next_day"]
        assert schedule.job_name == job and schedule.cron_schedule == CRON
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize("job", list(DAILY))
def test_a_schedule_waits_for_the_validations_its_days_read(job):
    gates = _gates(job)
    assert all(g.endswith("_validation") for g in gates)
    if job == "behaviour_daily_job":
        assert "seg_5b/seg_5b_validation" in gates and "seg_6a/seg_6a_validation" in gates
    with dg.instance_for_test() as instance:
        for gate in gates[:-1]:
            _materialise(instance, gate)
        skip = _tick(job, instance).skip_message
        assert skip is not None and gates[-1] in skip and gates[0] not in skip


@pytest.mark.parametrize("job", list(DAILY))
def test_a_schedule_asks_for_the_next_synthetic_day_then_stops_at_the_horizon(job):
    keys = SCENARIO_DAYS.get_partition_keys()
    with dg.instance_for_test() as instance:
        for gate in _gates(job):
            _materialise(instance, gate)
        first = _tick(job, instance).run_requests
        scenario = {k: dimensions(k, SCENARIO_DAYS)["scenario"] for k in keys}
        assert [r.partition_key for r in first] == [next(k for k in keys if scenario[k] == s)
                                                    for s in SCENARIOS.get_partition_keys()]
        # Day one built by every asset of the stage, day two by all but one: day two is next.
        for asset in DAILY[job]:
            _materialise(instance, asset, keys[0])
            if asset != DAILY[job][-1]:
                _materialise(instance, asset, keys[1])
        assert [r.partition_key for r in _tick(job, instance).run_requests] == [keys[1]]
        for key in keys:
            for asset in DAILY[job]:
                _materialise(instance, asset, key)
        done = _tick(job, instance)
        assert not done.run_requests and "every day of the horizon is built" in done.skip_message
        assert ("clock_validation_job" if job == "clock_daily_job" else "behaviour_validation_job") in done.skip_message


def test_a_schedule_waits_while_a_day_of_its_job_is_in_flight():
    job = "clock_daily_job"
    with dg.instance_for_test() as instance:
        for gate in _gates(job):
            _materialise(instance, gate)
        run = instance.add_run(dg.DagsterRun(job_name=job, run_id="a" * 8 + "-0000-0000-0000-" + "0" * 12,
                                             status=dg.DagsterRunStatus.STARTED))
        skip = _tick(job, instance).skip_message
        assert skip is not None and run.run_id in skip
        instance.report_run_failed(run)
        assert _tick(job, instance).run_requests


def test_the_report_follows_a_passed_6b_validation_only():
    sensor = defs.resolve_sensor_def("report_after_validation")
    assert sensor.job_name == next(j.name for j in defs.jobs if j.name.startswith("reporting"))
    with dg.instance_for_test() as instance:
        _materialise(instance, "seg_6b/seg_6b_validation", passed=False)
        result = sensor.evaluate_tick(_sensor_context(instance))
        assert not result.run_requests and "did not pass" in result.skip_message
        _materialise(instance, "seg_6b/seg_6b_validation", passed=True)
        cursor = result.cursor
        result = sensor.evaluate_tick(_sensor_context(instance, cursor))
        assert sorted(r.partition_key for r in result.run_requests) == sorted(SCENARIOS.get_partition_keys())
        again = sensor.evaluate_tick(_sensor_context(instance, result.cursor))
        assert not again.run_requests  # one report per passed validation
