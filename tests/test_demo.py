"""The README's first command, on the ci profile: every asset built, checks passed, a summary printed."""

import dagster as dg

from engine_assets import demo
from engine_assets.definitions import defs


def test_demo_builds_every_asset_and_reports(capsys):
    assert demo.main() == 0
    out = capsys.readouterr().out
    assert "profile ci" in out
    checks = sum(1 for k in defs.resolve_asset_graph().asset_check_keys)
    assert f"asset checks: {checks} passed" in out
    for key in defs.resolve_asset_graph().get_all_asset_keys():
        assert f"  {key.to_user_string()}" in out
    records = dg.DagsterInstance.get().get_run_records(limit=1)
    assert records and records[0].dagster_run.is_success
