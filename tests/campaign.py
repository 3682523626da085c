"""A fault campaign: build a world with the README's commands, SIGKILL one job at a named point or at a random
moment, check what a reader would see, run the job again and everything after it, and compare the bytes with a
clean build. benchmarks/faults.py runs the full campaign, tests/assets/test_faults.py a few trials of it.

A clean build runs every job once and keeps a snapshot of the data root and the Dagster home after each, so a
trial of job j starts from the state a user would have had when j was launched; it also counts how often each
job passes each kill point of engine_assets/run/faults.py.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from integrity import audit, world_digests
from servers import DAGSTER_YAML, REPO_ROOT

from engine_assets.run.faults import COUNT_ENV, KILL_ENV
from engine_assets.run.identity import resolve_identity

BIN = Path(sys.executable).parent
JOB_TIMEOUT = 900


def jobs(profile: str) -> list[tuple[str, dict[str, str]]]:
    """Every job of a whole world, in the README's order; the daily jobs over the whole horizon in one run each."""
    chosen = resolve_identity(profile).profile
    days, scenarios = chosen.horizon.days, chosen.scenarios
    whole = {"dagster/asset_partition_range_start": f"{days[0].isoformat()}|{scenarios[0]}",
             "dagster/asset_partition_range_end": f"{days[-1].isoformat()}|{scenarios[-1]}"}
    return [("world_job", {}), ("clock_job", {}), ("clock_daily_job", whole), ("clock_validation_job", {}),
            ("behaviour_job", {}), ("behaviour_by_scenario_job", {}), ("behaviour_daily_job", whole),
            ("behaviour_validation_job", {}),
            ("reporting_job", {"dagster/asset_partition_range_start": scenarios[0],
                               "dagster/asset_partition_range_end": scenarios[-1]})]


def launch(job: str, tags: dict[str, str], env: dict[str, str], log: Path,
           run_config: Path | None = None) -> subprocess.Popen:
    """`dagster job execute` as the README runs it, in a process group of its own, its output appended to `log`."""
    args = [str(BIN / "dagster"), "job", "execute", "-m", "engine_assets.definitions", "-j", job]
    args += ["--tags", json.dumps(tags)] if tags else []
    args += ["-c", str(run_config)] if run_config else []
    with log.open("a") as out:
        out.write(f"\n=== {job} {tags} {env.get(KILL_ENV, '')}\n")
        out.flush()
        return subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def execute(job: str, tags: dict[str, str], env: dict[str, str], log: Path,
            kill_after: float | None = None) -> tuple[int, float, str]:
    """`dagster job execute` as the README runs it, in a process group of its own; SIGKILL the group after
    `kill_after` seconds if given. Returns the exit code (negative: the signal), the wall time, and the last
    Dagster event the run logged before it ended."""
    start = time.perf_counter()
    proc = launch(job, tags, env, log)
    try:
        proc.wait(kill_after if kill_after is not None else JOB_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode, time.perf_counter() - start, last_event(log)


def last_event(log: Path) -> str:
    """The Dagster event type of the log's last event line
    (`<time> - dagster - <level> - <job> - <run> - <pid> - [<step> - ]<EVENT> - <message>`)."""
    for line in reversed(log.read_text(errors="replace").splitlines()):
        tokens = line.split(" - ")
        if len(tokens) > 7 and tokens[1] == "dagster":
            return next((t for t in tokens[6:8] if t.isupper() and "_" in t), "other")
    return "none"


def engine_env(profile: str, root, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {k: v for k, v in os.environ.items() if k not in (KILL_ENV, COUNT_ENV)}
    return {**env, "PATH": path, "ENGINE_PROFILE": profile, "ENGINE_DATA_ROOT": str(root), "DAGSTER_HOME": str(home),
            **(extra or {})}


@dataclass
class CleanBuild:
    profile: str
    states: list[Path]  # states[i]: data root and Dagster home before job i (states[0]: empty)
    seconds: list[float]  # each job's wall time
    passes: list[dict[str, int]]  # how often each job passes each kill point
    digests: dict[str, list[str]]


def clean_build(profile: str, work: Path, upto: int | None = None) -> CleanBuild:
    """Every job (the first `upto`) once, with a snapshot of the state before each and after the last."""
    chosen = jobs(profile)[:upto]
    current = work / "current"
    (current / "data").mkdir(parents=True)
    (current / "home").mkdir()
    (current / "home" / "dagster.yaml").write_text(DAGSTER_YAML)
    states, seconds, passes = [], [], []
    for i, (job, tags) in enumerate(chosen):
        states.append(snapshot(current, work / f"state-{i}"))
        counts = work / f"passes-{i}.txt"
        env = engine_env(profile, current / "data", current / "home", {COUNT_ENV: str(counts)})
        code, wall, _ = execute(job, tags, env, work / "clean.log")
        if code != 0:
            raise RuntimeError(f"clean build: {job} failed; see {work / 'clean.log'}")
        seconds.append(wall)
        passes.append(dict(Counter(counts.read_text().split())) if counts.exists() else {})
    states.append(snapshot(current, work / f"state-{len(chosen)}"))
    return CleanBuild(profile, states, seconds, passes, world_digests(profile, current / "data"))


def snapshot(current: Path, to: Path) -> Path:
    shutil.copytree(current, to, symlinks=True)
    return to


@dataclass
class Trial:
    number: int
    store: str  # "local" or "s3"
    job: str
    kill: str  # "<point>:<n>" or "t=<seconds>"
    killed: bool  # the job died of the kill (it had not finished before it)
    last_event: str  # the last Dagster event the killed run logged
    visible: int  # partitions a reader could see after the kill
    damaged: list[str]
    open_gates: int
    wrong_gates: list[str]
    rerun_ok: bool
    rerun_s: float
    identical: bool  # the final bytes equal the clean build's

    @property
    def ok(self) -> bool:
        return not self.damaged and not self.wrong_gates and self.rerun_ok and self.identical

    def as_dict(self) -> dict:
        return asdict(self) | {"ok": self.ok}


def run_trial(number: int, clean: CleanBuild, job_index: int, kill: str, work: Path,
              store: str = "local", s3: dict[str, str] | None = None) -> Trial:
    """Kill job `job_index` (at a point, "<point>:<n>", or after "t=<seconds>"), audit, rerun from it, compare."""
    trial = work / f"trial-{number:03d}"
    shutil.copytree(clean.states[job_index], trial, symlinks=True)
    root = trial / "data"
    extra = dict(s3 or {})
    if store == "s3":
        import services

        root = services.upload(trial / "data", extra["AWS_ENDPOINT_URL"], f"trial-{number:03d}")
    log = work / f"trial-{number:03d}.log"
    chosen = jobs(clean.profile)
    job, tags = chosen[job_index]
    if kill.startswith("t="):
        env = engine_env(clean.profile, root, trial / "home", extra)
        code, _, event = execute(job, tags, env, log, kill_after=float(kill[2:]))
    else:
        env = engine_env(clean.profile, root, trial / "home", {**extra, KILL_ENV: kill})
        code, _, event = execute(job, tags, env, log)
    found = audit(clean.profile, root, clean.digests)
    env = engine_env(clean.profile, root, trial / "home", extra)
    start, rerun_ok = time.perf_counter(), True
    for again, again_tags in chosen[job_index:len(clean.seconds)]:
        if execute(again, again_tags, env, log)[0] != 0:
            rerun_ok = False
            break
    rerun_s = time.perf_counter() - start
    identical = rerun_ok and world_digests(clean.profile, root) == clean.digests
    if store == "local" and identical:
        shutil.rmtree(trial, ignore_errors=True)  # keep what failed, for a look
    return Trial(number, store, job, kill, code == -signal.SIGKILL, event, found.visible, found.damaged,
                 len(found.open_gates), found.wrong_gates, rerun_ok, round(rerun_s, 1), identical)
