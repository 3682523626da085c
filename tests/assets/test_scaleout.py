"""Beyond one machine: the ci world's jobs built with the Celery executor (two workers over a Redis broker), a
Dagster instance on PostgreSQL and the data root on S3, configured as deploy/ documents, publish the same bytes as
a build in one process on local disk.

PostgreSQL and Redis are Debian's packages (postgresql, redis-server), started here on free ports of 127.0.0.1
and stopped afterwards with every process they started; the S3 server is moto's, holding the data root and the
compute logs. Without the packages the test skips, except under CI (env CI set), where it fails.
"""

import json
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest
import services
from integrity import world_digests
from servers import REPO_ROOT


DEPLOY = REPO_ROOT / "deploy"
WORKERS = ["engine-a", "engine-b"]
# The jobs in build order, each with its run tags: the ci world's first two days of arrivals in one run.
JOBS = [("world_job", {}), ("clock_job", {}),
        ("clock_daily_job", {"dagster/asset_partition_range_start": "2026-03-27|baseline",
                             "dagster/asset_partition_range_end": "2026-03-28|baseline"})]
DAGSTER_TIMEOUT = 600

MISSING = services.missing()
pytestmark = pytest.mark.skipif(bool(MISSING) and not os.environ.get("CI"),
                                reason=f"{' and '.join(MISSING)} missing: apt-get install {services.PACKAGES} "
                                       "(Debian packages)")


def _engine_env(data_root: Path | str, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The repository's environment for the ci world at `data_root`, recorded in the instance at `home`."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "ENGINE_PROFILE": "ci", "ENGINE_DATA_ROOT": str(data_root),
            "DAGSTER_HOME": str(home), **(extra or {})}


def _execute(job: str, tags: dict[str, str], env: dict[str, str], log: Path, run_config: Path | None = None) -> None:
    """`dagster job execute` as the README runs it; it must succeed."""
    args = [str(Path(sys.executable).parent / "dagster"), "job", "execute", "-m", "engine_assets.definitions",
            "-j", job]
    args += ["--tags", json.dumps(tags)] if tags else []
    args += ["-c", str(run_config)] if run_config else []
    with log.open("a") as out:
        done = subprocess.run(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                              timeout=DAGSTER_TIMEOUT)
    assert done.returncode == 0, f"{job} failed:\n{services.tail(log)}"


def _build(env: dict[str, str], log: Path, run_config: Path | None = None) -> None:
    for job, tags in JOBS:
        _execute(job, tags, env, log, run_config)


def _celery_hosts(home: Path) -> dict[str, set[str]]:
    """For each run in the instance at `home`: its job and the Celery workers that reported executing its steps."""
    hosts: dict[str, set[str]] = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
            for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
                worker = record.dagster_event.engine_event_data.metadata.get("Celery worker")
                if worker is not None:
                    hosts.setdefault(run.job_name, set()).add(worker.value.split("@")[0])
            assert run.status == dg.DagsterRunStatus.SUCCESS, (run.job_name, run.status)
    return hosts


def _instance_env(pg: dict[str, str], broker: str, endpoint: str) -> dict[str, str]:
    """The variables deploy/dagster.yaml and deploy/run_celery.yaml read."""
    return {"DAGSTER_PG_HOST": pg["host"], "DAGSTER_PG_PORT": pg["port"], "DAGSTER_PG_USER": pg["user"],
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth", "DAGSTER_PG_DB": pg["db"],
            "DAGSTER_CELERY_BROKER_URL": f"{broker}/0", "DAGSTER_CELERY_BACKEND_URL": f"{broker}/1",
            "DAGSTER_COMPUTE_LOG_BUCKET": services.BUCKET, "AWS_ENDPOINT_URL": endpoint, **services.AWS_ENV}


def test_celery_workers_publish_the_bytes_of_one_process(tmp_path, monkeypatch):
    # The reference: every job in this process's executor (no run config), on a local instance.
    local = tmp_path / "in_process"
    _build(_engine_env(local / "data", _home(local / "home")), tmp_path / "in_process.log")

    celery_root, home = f"s3://{services.BUCKET}/data", tmp_path / "celery" / "home"
    home.mkdir(parents=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    leftovers: list[str] = []
    with ExitStack() as stack:
        pg = stack.enter_context(services.postgres(tmp_path, leftovers))
        broker = stack.enter_context(services.redis(tmp_path, leftovers))
        endpoint = stack.enter_context(services.s3())
        env = _engine_env(celery_root, home, _instance_env(pg, broker, endpoint))
        stack.enter_context(services.celery_workers(WORKERS, DEPLOY / "celery.yaml", env, tmp_path, leftovers))
        _build(env, tmp_path / "celery.log", DEPLOY / "run_celery.yaml")
        for name, value in env.items():  # this process reads the instance too
            monkeypatch.setenv(name, value)
        hosts = _celery_hosts(home)
        # deploy/dagster.yaml keeps the steps' stdout and stderr on object storage.
        compute_logs = services.object_keys(endpoint, "dagster-compute-logs/")
        expected, got = world_digests("ci", local / "data"), world_digests("ci", celery_root)
        on_disk = list((tmp_path / "celery").iterdir())
    assert not leftovers, f"still running after the test: {leftovers}"

    # Every job's steps ran on the workers, and both workers took some.
    assert set(hosts) == {job for job, _ in JOBS}, hosts
    assert set().union(*hosts.values()) == set(WORKERS), hosts
    assert compute_logs, "no compute log reached the S3 server"
    assert on_disk == [home], f"the workers wrote beside the instance: {on_disk}"
    assert any(k.startswith("seg_5b/") for k in expected), sorted(expected)
    assert got.keys() == expected.keys()
    assert {k for k in expected if got[k] != expected[k]} == set()


def _home(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return path
