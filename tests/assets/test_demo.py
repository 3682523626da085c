"""The README's first command, on the ci profile: every asset built, checks passed, a summary printed."""

import re

import dagster as dg

from engine_assets import demo
from engine_assets.definitions import defs
from engine_assets.run.partitions import SCENARIO_DAYS


def test_demo_builds_every_asset_and_reports(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "profile ci" in out
    passed, verdicts, checked = map(int, re.search(r"asset checks: (\d+) of (\d+) verdicts passed \((\d+) checks", out).groups())
    assert passed == verdicts and checked == len(defs.resolve_asset_graph().asset_check_keys)
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        assert f"  {key.to_user_string()}" in out
    # Successful runs of the named jobs, so the UI's job pages show the world's history: one per
    # job, and the daily job's last day in a run of its own, so it is the latest materialisation.
    instance = dg.DagsterInstance.get()
    runs = [r.dagster_run for r in instance.get_run_records()]
    assert sorted(r.job_name for r in runs) == sorted([j.name for j in defs.jobs] + ["clock_daily_job"])
    assert all(r.is_success for r in runs)
    [latest] = instance.fetch_materializations(dg.AssetKey(["seg_5b", "arrival_events"]), limit=1).records
    assert latest.partition_key == SCENARIO_DAYS.get_partition_keys()[-1]
