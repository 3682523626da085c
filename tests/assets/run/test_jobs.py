"""Jobs derived from the asset graph: stages by layer and partitioning, and how each may be launched."""

import dagster as dg

import pytest

from engine_assets.behaviour.seg_6b.assets import DAY_TABLES
from engine_assets.definitions import ASSETS, LAYERS, defs
from engine_assets.run.jobs import RANGE_END, RANGE_START, build_stages, stage_tags
from engine_assets.run.layers import Layer, Segment
from engine_assets.run.partitions import COUNTRY_GROUPS, SCENARIO_DAYS, SCENARIOS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import ShardIOManager


def _stages(assets, layers=LAYERS):
    return {s.name: s for s in build_stages(assets, layers)}


def test_the_world_is_built_by_nine_jobs_in_order():
    stages = build_stages(ASSETS, LAYERS)
    assert [s.name for s in stages] == ["world_job", "clock_job", "behaviour_job", "clock_daily_job",
                                        "clock_validation_job", "behaviour_by_scenario_job", "behaviour_daily_job",
                                        "behaviour_validation_job", "reporting_job"]
    assert [j.name for j in defs.jobs] == [s.name for s in stages]
    by_name = {s.name: s for s in stages}
    assert by_name["world_job"].partitions_def == COUNTRY_GROUPS and not by_name["world_job"].per_partition
    assert by_name["clock_job"].partitions_def == SCENARIOS
    behaviour = by_name["behaviour_job"]
    assert behaviour.partitions_def == COUNTRY_GROUPS and not behaviour.per_partition
    # 6B's scenario-free patronage is built with the entity world it is drawn from.
    assert {k.to_user_string() for k in behaviour.keys if k.path[0] != "seg_6a"} == {"seg_6b/patronage"}
    flows = by_name["behaviour_daily_job"]
    assert flows.per_partition and flows.partitions_def == SCENARIO_DAYS
    assert {k.to_user_string() for k in flows.keys} == {f"seg_6b/{name}" for name in (*DAY_TABLES, "transactions")}
    plan = by_name["behaviour_by_scenario_job"]
    assert plan.partitions_def == SCENARIOS and not plan.per_partition
    assert {k.to_user_string() for k in plan.keys} == {"seg_6b/fraud_campaigns", "seg_6b/fraud_targets"}
    assert {k.to_user_string() for k in by_name["behaviour_validation_job"].keys} == {"seg_6b/cases",
                                                                                     "seg_6b/seg_6b_validation"}
    report = by_name["reporting_job"]
    assert report.partitions_def == SCENARIOS and report.per_partition  # a scenario's report alone is a valid run
    assert [k.to_user_string() for k in report.keys] == ["report/realism"]
    daily = by_name["clock_daily_job"]
    assert daily.per_partition and daily.partitions_def == SCENARIO_DAYS
    assert {k.to_user_string() for k in daily.keys} == {"seg_5b/bucket_counts", "seg_5b/arrival_events"}
    assert [k.to_user_string() for k in by_name["clock_validation_job"].keys] == ["seg_5b/seg_5b_validation"]
    # Every asset is built by exactly one job.
    keys = [k for s in stages for k in s.keys]
    assert sorted(keys) == sorted(k for a in ASSETS for k in a.keys)


def test_whole_stages_carry_their_range_and_per_partition_stages_none():
    stages = _stages(ASSETS)
    assert stage_tags(stages["world_job"]) == {RANGE_START: COUNTRY_GROUPS.get_partition_keys()[0],
                                               RANGE_END: COUNTRY_GROUPS.get_partition_keys()[-1]}
    assert stage_tags(stages["clock_daily_job"]) == {} and stage_tags(stages["clock_validation_job"]) == {}
    assert defs.resolve_job_def("world_job").tags[RANGE_START] == "A"


def test_a_new_layer_gets_its_jobs_from_the_same_walk():
    days = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-04")
    countries = dg.StaticPartitionsDefinition(["GB", "US"])

    def asset(key, deps=(), partitions_def=None, policy=None):
        @dg.asset(key=key, group_name=key[0], deps=list(deps), partitions_def=partitions_def, backfill_policy=policy)
        def _a():
            return None
        return _a

    parties = asset(["seg_6a", "parties"], partitions_def=countries, policy=dg.BackfillPolicy.single_run())
    check_6a = asset(["seg_6a", "seg_6a_validation"], [parties])
    flows = asset(["seg_6b", "flows"], [check_6a], days, dg.BackfillPolicy.multi_run(7))
    labels = asset(["seg_6b", "labels"], [flows], days, dg.BackfillPolicy.multi_run(7))
    check_6b = asset(["seg_6b", "seg_6b_validation"], [labels])
    behaviour = Layer("behaviour", "Layer 3", (Segment("seg_6a", (parties, check_6a)), Segment("seg_6b", (flows, labels, check_6b))))
    stages = _stages([parties, check_6a, flows, labels, check_6b], [*LAYERS, behaviour])
    assert {n: sorted(k.to_user_string() for k in s.keys) for n, s in stages.items()} == {
        "behaviour_job": ["seg_6a/parties", "seg_6a/seg_6a_validation"],
        "behaviour_daily_job": ["seg_6b/flows", "seg_6b/labels"],
        "behaviour_validation_job": ["seg_6b/seg_6b_validation"],
    }


def test_an_asset_outside_every_layer_is_a_clear_error():
    @dg.asset(key=["seg_9z", "thing"], group_name="seg_9z")
    def thing():
        return None

    with pytest.raises(ValueError, match=r"'seg_9z' belongs to no layer; a segment is a subpackage"):
        build_stages([thing], LAYERS)


def test_one_partition_of_a_whole_job_is_refused_before_any_work(tmp_path):
    # What the Launchpad sends when a partition is picked for world_job: its range tags and the partition.
    engine = EngineResource(data_root=str(tmp_path / "data"))
    job = defs.resolve_job_def("world_job")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(tags={"dagster/partition": "US"}, raise_on_error=False, instance=instance,
                                        resources={"engine": engine, "shards": ShardIOManager(engine=engine)})
    assert not result.success and not result.get_step_success_events()
    refusal = [str(e.event_specific_data.error.cause or e.event_specific_data.error)
               for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    assert refusal and "world_job builds all its partitions in one run" in refusal[0]
    assert "dagster job execute -j world_job" in refusal[0]
    assert not (tmp_path / "data").exists()


def test_make_demo_runs_every_day_of_every_scenario_and_the_last_day_alone():
    """A Dagster range of (day, scenario) keys spans each dimension between its ends: one range from
    the first key to the one before the last would build a single scenario of a two-scenario world."""
    from engine_assets import demo
    from engine_assets.run.jobs import PARTITION, Stage, partition_ranges

    days = dg.DailyPartitionsDefinition(start_date="2026-01-01", end_date="2026-01-06")
    two = dg.MultiPartitionsDefinition({"day": days, "scenario": dg.StaticPartitionsDefinition(["baseline", "stress"])})
    assert partition_ranges(two) == [("2026-01-01|baseline", "2026-01-05|baseline"),
                                     ("2026-01-01|stress", "2026-01-05|stress")]
    assert partition_ranges(days) == [("2026-01-01", "2026-01-05")]
    runs = demo._runs_of(Stage("clock", two, True, []))
    built = []
    for tags in runs:
        if PARTITION in tags:
            built.append(tags[PARTITION])
        else:
            built += two.get_partition_keys_in_range(dg.PartitionKeyRange(tags[RANGE_START], tags[RANGE_END]))
    assert sorted(built) == sorted(two.get_partition_keys()) and len(built) == 10
    assert runs[-1] == {PARTITION: "2026-01-05|stress"}
    # One scenario of one day: a single run of that partition.
    one = dg.MultiPartitionsDefinition({"day": dg.DailyPartitionsDefinition(start_date="2026-01-01",
                                                                            end_date="2026-01-02"),
                                        "scenario": dg.StaticPartitionsDefinition(["baseline"])})
    assert demo._runs_of(Stage("clock", one, True, [])) == [{PARTITION: "2026-01-01|baseline"}]
