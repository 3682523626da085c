"""Segment 5B's arrival days built in one process, on one Celery worker and on two, with the data root on local disk
and on an S3 server: wall time, arrivals/s, the speed-up, peak RSS of the workers, and whether the published bytes
are the same.

Usage:
    python benchmarks/scaleout.py [--profile demo] [--days 6] [--work DIR] [--keep] [--prerequisites DATA_ROOT]

First the prerequisite world (`world_job`, then `clock_job`) is built once in one process into a data root (timed:
it is the part that does not spread over workers). Each mode then starts from its own copy of that data root, so
all three start equal, and builds the first N days of every scenario of the profile (`clock_daily_job`, assets
seg_5b/bucket_counts and seg_5b/arrival_events, partition `<day>|<scenario>`):

  1. in-process: one `dagster job execute -j clock_daily_job` per day, one after the other, on a local Dagster
     home, as on a laptop;
  2. Celery, one worker: the same N runs launched at once as N `dagster job execute ... -c deploy/run_celery.yaml`
     processes on an instance configured by deploy/dagster.yaml (PostgreSQL, compute logs on S3), so every step
     is a Celery task and the worker's queue holds the whole batch; the wall time runs from the first launch to
     the last run's end;
  3. Celery, two workers, the same launch;
  4. in-process again, and 5. Celery with two workers again, each with the data root on the S3 server
     (`ENGINE_DATA_ROOT=s3://...`, the prerequisite data root uploaded there first, not timed).

The runs are launched directly, not as a backfill through the daemon: a backfill adds the daemon's tick interval
to each run's start, and deploy/dagster.yaml's run queue lets at most two backfill runs go at once, so it would
measure the queue's limits rather than the workers. Each worker runs one step at a time (`--concurrency=1`), as
tests/services.py starts them.

PostgreSQL, Redis, moto's S3 server and the workers are started on free ports of 127.0.0.1 by tests/services.py
(Debian's postgresql and redis-server packages) and stopped afterwards; moto's server runs in this process and
keeps its objects in memory, so the S3 figures measure this protocol against a local, unthrottled server, not a
cloud store's latency. The arrivals counted are the rows the manifests of seg_5b/arrival_events record; the bytes
compared are every file each manifest of both 5B datasets lists, hashed again from where it is stored.
"""

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import dagster as dg  # noqa: E402
import psutil  # noqa: E402
import services  # noqa: E402

from engine_assets.quality.contracts import load_contract  # noqa: E402
from engine_assets.run.identity import resolve_identity  # noqa: E402
from engine_assets.storage.datasets import published_partitions  # noqa: E402
from engine_assets.storage.publish import published_files, read_manifest  # noqa: E402

DEPLOY = REPO / "deploy"
BIN = Path(sys.executable).parent
DATASETS = ["seg_5b/bucket_counts", "seg_5b/arrival_events"]
ARRIVALS = "seg_5b/arrival_events"
RUN_TIMEOUT = 1800
# A run tag naming the mode a run belongs to.
MODE_TAG = "scaleout/mode"
LOCAL_HOME = "telemetry:\n  enabled: false\nnux:\n  enabled: false\n"


# Runs ---------------------------------------------------------------------------------------------------------------

def engine_env(profile: str, data_root: Path | str, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every Dagster process of one mode: the profile, its data root, its instance."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "ENGINE_PROFILE": profile, "ENGINE_DATA_ROOT": str(data_root),
            "DAGSTER_HOME": str(home), **(extra or {})}


def launch(job: str, tags: dict[str, str], env: dict[str, str], log: Path, celery: bool) -> subprocess.Popen:
    """`dagster job execute` as the README runs it, its output appended to `log`."""
    args = [str(BIN / "dagster"), "job", "execute", "-m", "engine_assets.definitions", "-j", job]
    args += ["--tags", json.dumps(tags)] if tags else []
    args += ["-c", str(DEPLOY / "run_celery.yaml")] if celery else []
    with log.open("a") as out:
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)


def finish(procs: list[subprocess.Popen], log: Path) -> None:
    """Wait for every run; any failure stops the benchmark with the log's end."""
    for proc in procs:
        if proc.wait(RUN_TIMEOUT) != 0:
            raise SystemExit(f"a run failed ({' '.join(proc.args[3:])}):\n{services.tail(log)}")


def local_home(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "dagster.yaml").write_text(LOCAL_HOME)
    return path


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# What was built -----------------------------------------------------------------------------------------------------

def partition_keys(profile: str, days: int) -> list[str]:
    """`<day>|<scenario>` of the first `days` days of every scenario (Dagster orders a key's dimensions by name)."""
    chosen = resolve_identity(profile).profile
    return [f"{day.isoformat()}|{scenario}" for day in chosen.horizon.days[:days] for scenario in chosen.scenarios]


def published(profile: str, root: Path | str) -> tuple[int, dict[str, list[str]]]:
    """Arrivals recorded by the manifests, and `name:sha256` of every file listed, by dataset and partition. A
    file whose bytes differ from its manifest's digest stops the benchmark."""
    identity = resolve_identity(profile, data_root=str(root))
    arrivals, digests = 0, {}
    for dataset in DATASETS:
        contract = load_contract(dataset)
        for partition in published_partitions(identity, contract):
            manifest = read_manifest(partition, contract.dataset)
            paths = published_files(partition, contract.dataset)
            listed = []
            for entry in manifest["files"]:
                digest = hashlib.sha256(paths[entry["name"]].read_bytes()).hexdigest()
                if digest != entry["sha256"]:
                    raise SystemExit(f"{partition}/{entry['name']}: bytes differ from the manifest's SHA-256")
                listed.append(f"{entry['name']}:{digest}")
            where = partition.relative_to(identity.dataset_dir(contract.dataset, contract.scope))
            digests[f"{dataset}/{where}"] = sorted(listed)
            arrivals += manifest["rows"] if dataset == ARRIVALS else 0
    return arrivals, digests


def run_stats(home: Path, env: dict[str, str], mode: str) -> dict:
    """From the instance at `home`, over the runs of `mode` (both Celery modes share one PostgreSQL database, so
    runs are told apart by their MODE_TAG): the seconds the steps themselves took, summed, and how many steps
    each Celery worker reported executing. Wall time minus step time is what launching a run costs."""
    steps: dict[str, set[tuple[str, str]]] = {}
    step_ms = 0.0
    saved = dict(os.environ)
    os.environ.update(env)  # deploy/dagster.yaml reads its settings from the environment
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for run in instance.get_runs(dg.RunsFilter(tags={MODE_TAG: mode})):
                for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
                    step_ms += record.dagster_event.event_specific_data.duration_ms
                for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
                    worker = record.dagster_event.engine_event_data.metadata.get("Celery worker")
                    if worker is not None:
                        steps.setdefault(worker.value.split("@")[0], set()).add((run.run_id, record.step_key))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stats = {"step seconds, summed over runs": round(step_ms / 1000, 1)}
    if steps:
        stats["steps per worker"] = {name: len(done) for name, done in sorted(steps.items())}
    return stats


# Peak RSS -----------------------------------------------------------------------------------------------------------

class PeakRss:
    """Samples the summed RSS of each worker's process tree (the Celery parent and its pool child) every 0.2 s."""

    def __init__(self, workers: list[services.Service]):
        self.workers, self.peak_mb = workers, [0.0] * len(workers)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            for i, worker in enumerate(self.workers):
                rss = 0
                for proc in worker.tree():
                    try:
                        rss += proc.memory_info().rss
                    except psutil.Error:  # a pool child that just ended
                        pass
                self.peak_mb[i] = max(self.peak_mb[i], rss / 2**20)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()


# Modes --------------------------------------------------------------------------------------------------------------

def build_prerequisites(profile: str, work: Path) -> tuple[Path, dict[str, float]]:
    """world_job and clock_job in one process into work/base/data, each timed."""
    root, home, log = work / "base" / "data", local_home(work / "base" / "home"), work / "base.log"
    env = engine_env(profile, root, home)
    times = {}
    for job in ("world_job", "clock_job"):
        times[job] = timed(lambda j=job: finish([launch(j, {}, env, log, celery=False)], log))
        print(f"prerequisite {job}: {times[job]:.1f} s", flush=True)
    return root, times


def build_mode(profile: str, keys: list[str], work: Path, base: Path, workers: int, shared: dict[str, str] | None,
               on_s3: bool = False) -> tuple[str, Path | str, float, dict]:
    """Every day of `keys` built from a copy of `base`: one run after the other in one process (`workers` 0), or
    every run launched at once with its steps sent to `workers` Celery workers. Returns the mode's name, its data
    root, the wall time and what else was measured."""
    name = "in_process" if workers == 0 else f"celery_{workers}"
    name += "_s3" if on_s3 else ""
    mode = work / name
    if on_s3:
        root: Path | str = services.upload(base, shared["AWS_ENDPOINT_URL"], name)
    else:
        root = mode / "data"
        shutil.copytree(base, root, symlinks=True)
    log = work / f"{name}.log"
    if workers == 0:
        home = local_home(mode / "home")
        env = engine_env(profile, root, home, shared if on_s3 else None)

        def run_all() -> None:
            for key in keys:
                finish([launch("clock_daily_job", {"dagster/partition": key, MODE_TAG: name}, env, log,
                               celery=False)], log)

        return name, root, timed(run_all), run_stats(home, env, name)
    home = mode / "home"
    home.mkdir(parents=True)
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    env = engine_env(profile, root, home, shared)
    names = [f"engine-{chr(ord('a') + i)}" for i in range(workers)]
    leftovers: list[str] = []
    with ExitStack() as workers_stack:
        started = workers_stack.enter_context(services.celery_workers(names, DEPLOY / "celery.yaml", env, mode,
                                                                      leftovers))
        with PeakRss(started) as rss:
            wall = timed(lambda: finish([launch("clock_daily_job", {"dagster/partition": k, MODE_TAG: name},
                                                env, log, celery=True) for k in keys], log))
    if leftovers:
        print(f"  still running after the workers stopped: {leftovers}", flush=True)
    return name, root, wall, {"peak RSS per worker (MB)": [round(mb) for mb in rss.peak_mb],
                              **run_stats(home, env, name)}


def shared_services(stack: ExitStack, work: Path) -> dict[str, str]:
    """PostgreSQL, Redis and the S3 server for both Celery modes; the variables deploy/'s files read."""
    leftovers: list[str] = []
    stack.callback(lambda: leftovers and print(f"still running after the services stopped: {leftovers}"))
    pg = stack.enter_context(services.postgres(work, leftovers))
    broker = stack.enter_context(services.redis(work, leftovers))
    # moto's server logs every request on this process's output; only its errors matter here.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    endpoint = stack.enter_context(services.s3())
    return {"DAGSTER_PG_HOST": pg["host"], "DAGSTER_PG_PORT": pg["port"], "DAGSTER_PG_USER": pg["user"],
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth", "DAGSTER_PG_DB": pg["db"],
            "DAGSTER_CELERY_BROKER_URL": f"{broker}/0", "DAGSTER_CELERY_BACKEND_URL": f"{broker}/1",
            "DAGSTER_COMPUTE_LOG_BUCKET": services.BUCKET, "AWS_ENDPOINT_URL": endpoint, **services.AWS_ENV}


# Report -------------------------------------------------------------------------------------------------------------

def report(name: str, wall: float, arrivals: int, reference_wall: float | None, extra: dict) -> None:
    speed_up = f"{reference_wall / wall:.2f}x" if reference_wall else "1.00x (reference)"
    print(f"{name}: {wall:.1f} s wall, {arrivals:,} arrivals, {arrivals / wall:,.0f} arrivals/s, "
          f"speed-up vs in-process {speed_up}", flush=True)
    for what, value in extra.items():
        print(f"  {what}: {value}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one, removed at the end)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--prerequisites", type=Path,
                        help="a data root already holding world_job and clock_job of the profile (a kept run's "
                             "base/data): copied, never written, and the prerequisite build is skipped")
    args = parser.parse_args()
    if services.missing():
        raise SystemExit(f"{' and '.join(services.missing())} missing: apt-get install {services.PACKAGES}")
    work = Path(tempfile.mkdtemp(prefix="scaleout-", dir=args.work))
    try:
        run_modes(args.profile, args.days, work, args.prerequisites)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


# (workers, data root on S3) of every mode after the first, in-process one on local disk.
MODES = [(1, False), (2, False), (0, True), (2, True)]


def run_modes(profile: str, days: int, work: Path, prerequisites: Path | None) -> None:
    keys = partition_keys(profile, days)
    print(f"profile {profile}: {len(keys)} partitions {keys[0]} .. {keys[-1]}; work in {work}", flush=True)
    base = prerequisites.resolve() if prerequisites else build_prerequisites(profile, work)[0]
    _, root, wall, extra = build_mode(profile, keys, work, base, 0, None)
    arrivals, reference = published(profile, root)
    report("in-process, local disk", wall, arrivals, None, extra)
    identical = {}
    with ExitStack() as stack:
        shared = shared_services(stack, work)
        os.environ.update({k: v for k, v in shared.items() if k.startswith("AWS_")})  # to read what S3 modes wrote
        for workers, on_s3 in MODES:
            name, root, mode_wall, extra = build_mode(profile, keys, work, base, workers, shared, on_s3)
            got_arrivals, digests = published(profile, root)
            where = "S3" if on_s3 else "local disk"
            label = "in-process" if not workers else f"celery, {workers} worker{'s' if workers > 1 else ''}"
            report(f"{label}, {where}", mode_wall, got_arrivals, wall, extra)
            identical[name] = digests == reference and len(digests) == 2 * len(keys)
            print(f"  {len(digests)} partitions, byte-identical to in-process on local disk: {identical[name]}",
                  flush=True)
    if not all(identical.values()):
        raise SystemExit("the modes published different bytes")


if __name__ == "__main__":
    main()
