"""The README's command-line recipes, run as written on the ci profile against a throwaway Dagster home.

A new world is built from the shell stage by stage; a daemon launches what `dagster job backfill`
submits. Every command must succeed, every run too, and each range the README runs in one run
must be one run holding all its partitions.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg

from engine_assets.run.partitions import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def readme_recipes() -> list[str]:
    """The command lines of the first bash block of the README's "Command line" section."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Command line"):]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _wait_for_runs(instance: dg.DagsterInstance, timeout_s: float = 240) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if all(r.dagster_run.is_finished for r in instance.get_run_records()):
            return
        time.sleep(1)
    raise AssertionError("backfill runs did not finish in time")


def _partitions_by_run(instance: dg.DagsterInstance, asset: str) -> dict[str, set[str]]:
    records = instance.fetch_materializations(dg.AssetKey(asset.split("/")), limit=1000).records
    out: dict[str, set[str]] = {}
    for r in records:
        out.setdefault(r.run_id, set()).add(r.partition_key)
    return out


def test_readme_command_line_recipes_build_a_new_world(tmp_path, world_root):
    # A new world: only the reference datasets (shared by every world with the same pins) exist.
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "ENGINE_DATA_ROOT": str(world_root), "DAGSTER_HOME": str(home), "ENGINE_PROFILE": "ci"}
    exports = tmp_path / "exports"
    lines = [line.replace("$PWD/.dagster_home", str(home)).replace(".venv/bin/", f"{BIN}/")
             .replace("exports/", f"{exports}/") for line in readme_recipes()]
    assert any("job backfill" in line for line in lines) and any("partition_range_start" in line for line in lines)
    setup = [line for line in lines if line.startswith("export ")]
    assert setup and str(home) in setup[0], "the recipes record runs in the project's Dagster home"

    # The instance's databases exist before the daemon and the CLI open them concurrently.
    dg.DagsterInstance.from_config(str(home)).dispose()
    daemon = subprocess.Popen([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for i, line in enumerate(lines):
                if line.startswith("export "):
                    continue
                script = "\n".join([*setup, line])
                done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
                log = tmp_path / f"recipe_{i}.log"
                log.write_text(done.stdout + done.stderr)
                assert done.returncode == 0, f"{line}\n{(done.stdout + done.stderr)[-3000:]}"
                if "job backfill" in line:
                    _wait_for_runs(instance)

            runs = [r.dagster_run for r in instance.get_run_records()]
            failed = [(r.job_name, r.tags) for r in runs if not r.is_success]
            assert not failed
            jobs = sorted(r.job_name for r in runs)
            assert jobs.count("world_job") == jobs.count("clock_job") == jobs.count("clock_validation_job") == 1
            assert jobs.count("behaviour_daily_job") == jobs.count("behaviour_validation_job") == 1
            # The two-day range is one run holding both days; the backfill added the third day in its own run.
            days = sorted(_partitions_by_run(instance, "seg_5b/arrival_events").values(), key=len)
            assert days == [{"2026-03-29|baseline"}, {"2026-03-27|baseline", "2026-03-28|baseline"}]
            # world_job is one run over every country group; the asset range A...G is one run of its four groups.
            zones = sorted(_partitions_by_run(instance, "seg_2a/site_timezones").values(), key=len)
            assert zones == [{"A", "B", "D", "G"}, {"A", "B", "D", "G", "I", "U"}]
            # Checks of the range runs gave each partition its own passing verdict.
            key = dg.AssetCheckKey(dg.AssetKey(["seg_5b", "arrival_events"]), "contract")
            verdicts = {i.partition_key: i.latest_execution_status.value
                        for i in instance.event_log_storage.get_asset_check_partition_info([key])}
            assert verdicts == {f"2026-03-{d}|baseline": "SUCCEEDED" for d in (27, 28, 29)}
            # 6B's three days in one run; the report of the scenario; the schedule switched on.
            assert list(_partitions_by_run(instance, "seg_6b/transactions").values()) == [
                {f"2026-03-{d}|baseline" for d in (27, 28, 29)}]
            assert list(_partitions_by_run(instance, "report/realism").values()) == [{"baseline"}]
            states = {s.instigator_name: s.status.value for s in instance.all_instigator_state()}
            assert states["behaviour_daily_job_next_day"] == "RUNNING"
            logs = {line: (tmp_path / f"recipe_{i}.log").read_text() for i, line in enumerate(lines)
                    if not line.startswith("export ")}
            preview = next(text for line, text in logs.items() if "sensor preview" in line)
            # One report per scenario of the passed validation (the preview prints each request's run config).
            scenarios = len(SCENARIOS.get_partition_keys())
            assert f"Sensor returning run requests for {scenarios} run(s)" in preview, preview[-2000:]
            # The export: the manifest, and the DuckDB file answering over the as-of labels.
            assert json.loads((exports / "ci" / "export.json").read_text())["as_of"].startswith("2026-03-28")
            query = next(text for line, text in logs.items() if "duckdb.connect" in line)
            assert "bank_label" in query and "legit" in query, query
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, signal.SIGKILL)
