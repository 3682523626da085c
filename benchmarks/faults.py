"""The fault campaign: SIGKILL a whole-world build at named points and at random moments, on local disk and with
the data root on an S3 server; then a full disk and a read-only data root.

Usage:
    python benchmarks/faults.py [--profile ci] [--trials 30] [--s3-trials 10] [--seed 1] [--work DIR] [--json FILE]

A clean build runs the README's jobs once (tests/campaign.py), keeping the state before each job and counting
how often each job passes each kill point of engine_assets/run/faults.py. Each trial then starts from the state
before one job, kills that job (at the n-th pass of a point, n drawn from what the clean build counted, or after
a time drawn uniformly over the job's clean wall time), and checks, through the storage layer:
  - no partial partition is visible (every pointer names a whole version whose files match its manifest);
  - no validation gate opens over data that differs from the clean build's;
  - the killed job and every job after it run again to completion;
  - the final published bytes equal the clean build's.
Trials alternate between the named points and random moments; the S3 trials use moto's server in its own
process, so killing a job never touches it. A failed trial keeps its directory under --work.

Then, on a size-limited tmpfs (needs root, for `mount`): a world's first job built, the disk filled, the job run
again: it must fail with one clear error and leave the published versions as they were; and the same with the
tmpfs remounted read-only.
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import campaign  # noqa: E402
import services  # noqa: E402
from integrity import audit, world_digests  # noqa: E402
from servers import DAGSTER_YAML, free_port  # noqa: E402

from engine_assets.run.faults import POINTS  # noqa: E402


def schedule(clean: campaign.CleanBuild, trials: int, rng: random.Random) -> list[tuple[int, str]]:
    """(job index, kill) for each trial: named points and random moments in turn."""
    kinds = [*POINTS, "time"]
    out = []
    for i in range(trials):
        kind = kinds[i % len(kinds)]
        if kind == "time":
            job = rng.randrange(len(clean.seconds))
            out.append((job, f"t={rng.uniform(0.5, clean.seconds[job]):.2f}"))
            continue
        candidates = [j for j, passes in enumerate(clean.passes) if passes.get(kind)]
        job = rng.choice(candidates)
        out.append((job, f"{kind}:{rng.randint(1, clean.passes[job][kind])}"))
    return out


@contextmanager
def moto_server(work: Path):
    """moto's S3 server in a process of its own, with the test bucket; yields the variables that reach it."""
    import boto3

    port = free_port()
    log = (work / "moto.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                             aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(
                    Bucket=services.BUCKET)
                break
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.1)
        yield {**services.AWS_ENV, "AWS_ENDPOINT_URL": endpoint}
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def run_trials(clean, plan, work, store, s3, results) -> None:
    for job, kill in plan:
        number = len(results) + 1
        trial = campaign.run_trial(number, clean, job, kill, work, store, s3)
        results.append(trial)
        print(f"trial {number:2d} [{store}] {trial.job} kill {trial.kill}: killed={trial.killed} "
              f"(last event {trial.last_event}), visible {trial.visible}, damaged {len(trial.damaged)}, "
              f"open gates {trial.open_gates}, wrong gates {len(trial.wrong_gates)}, rerun "
              f"{'ok' if trial.rerun_ok else 'FAILED'} in {trial.rerun_s:.1f} s, identical {trial.identical}"
              f"{'' if trial.ok else '  <-- FAILED'}", flush=True)
        for problem in trial.damaged + trial.wrong_gates:
            print(f"    {problem}", flush=True)


# Full disk and read-only data root ------------------------------------------------------------------------------

def pointers(root: Path) -> dict[str, bytes]:
    """Every partition's pointer under the data root, by path: which version each partition shows."""
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("_pointer.json")}


def storage_faults(profile: str, work: Path) -> None:
    if os.geteuid() != 0:
        print("full disk / read-only: skipped, mounting a tmpfs needs root", flush=True)
        return
    mount = work / "tmpfs"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400m", "tmpfs", str(mount)], check=True)
    try:
        home = mount.parent / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(DAGSTER_YAML)
        env = campaign.engine_env(profile, mount / "data", home)
        job, tags = campaign.jobs(profile)[0]
        log = work / "storage.log"
        code, wall, _ = campaign.execute(job, tags, env, log)
        assert code == 0, f"{job} did not build on the tmpfs; see {log}"
        before = pointers(mount / "data")
        clean = world_digests(profile, mount / "data")
        free = shutil.disk_usage(mount).free
        filler = mount / "filler"
        # Leave 64 KB: the job's first publication runs out of space.
        subprocess.run(["fallocate", "-l", str(max(0, free - 64 * 1024)), str(filler)], check=True)
        for what, prepare in (("full disk", lambda: None),
                              ("read-only data root", lambda: subprocess.run(
                                  ["mount", "-o", "remount,ro", str(mount)], check=True))):
            prepare()
            start = len(log.read_text())
            code, wall, _ = campaign.execute(job, tags, env, log)
            text = log.read_text()[start:]
            errors = sorted({line.split("PublishError: ", 1)[1].strip() for line in text.splitlines()
                             if "PublishError: " in line})
            # Intact: every partition shows a whole version with the bytes it had (a partition the failed run
            # managed to publish again before the disk filled shows a new version of the same bytes).
            found = audit(profile, mount / "data", clean)
            intact = found.ok and world_digests(profile, mount / "data") == clean
            switched = sum(before.get(k) != v for k, v in pointers(mount / "data").items())
            print(f"{what}: exit {code} in {wall:.1f} s, {len(errors)} distinct error message(s), published "
                  f"bytes intact and whole: {intact} ({found.visible} partitions; {switched} republished with the "
                  "same bytes before the failure)", flush=True)
            for message in errors:
                print(f"    {message[:300]}", flush=True)
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--trials", type=int, default=30, help="trials with the data root on local disk")
    parser.add_argument("--s3-trials", type=int, default=10, help="trials with the data root on the S3 server")
    parser.add_argument("--seed", type=int, default=1, help="seed of the trial schedule")
    parser.add_argument("--work", type=Path, help="working directory (default: a temporary one)")
    parser.add_argument("--json", type=Path, help="write every trial's outcome here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="faults-", dir=args.work))
    print(f"work in {work}", flush=True)
    start = time.perf_counter()
    clean = campaign.clean_build(args.profile, work / "clean")
    for (job, _), wall, passes in zip(campaign.jobs(args.profile), clean.seconds, clean.passes):
        print(f"clean {job}: {wall:.1f} s, passes {passes}", flush=True)
    rng = random.Random(args.seed)
    results: list[campaign.Trial] = []
    run_trials(clean, schedule(clean, args.trials, rng), work, "local", None, results)
    if args.s3_trials:
        with moto_server(work) as s3:
            os.environ.update(s3)  # the audits of this process read the S3 data roots too
            run_trials(clean, schedule(clean, args.s3_trials, rng), work, "s3", s3, results)
    storage_faults(args.profile, work)
    failed = [t for t in results if not t.ok]
    killed = sum(t.killed for t in results)
    print(f"{len(results)} trials ({killed} killed mid-job), {len(failed)} failed, "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps([t.as_dict() for t in results], indent=1))
    if failed:
        raise SystemExit(f"{len(failed)} trial(s) failed; their directories are under {work}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
