"""The README's first command, on the ci profile: every asset built, checks passed, a summary printed."""

import re

import dagster as dg

from engine_assets import demo
from engine_assets.definitions import defs


def test_demo_builds_every_asset_and_reports(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "profile ci" in out
    passed, verdicts, checked = map(int, re.search(r"asset checks: (\d+) of (\d+) verdicts passed \((\d+) checks", out).groups())
    assert passed == verdicts and checked == len(defs.resolve_asset_graph().asset_check_keys)
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        assert f"  {key.to_user_string()}" in out
    # One successful run per named job, so the UI's job pages show the world's history.
    runs = [r.dagster_run for r in dg.DagsterInstance.get().get_run_records()]
    assert sorted(r.job_name for r in runs) == sorted(j.name for j in defs.jobs)
    assert all(r.is_success for r in runs)
