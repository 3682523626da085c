"""The whole world, 1A to 6B and the report, every scenario, built through Dagster exactly as the README builds it:
per job and per segment the wall time, rows, rows/s and peak RSS, and where the time goes.

Usage:
    python benchmarks/world.py [--profile reference] [--data-root DIR] [--home DIR] [--keep]

Each job of tests/campaign.py's list (world_job, clock_job, clock_daily_job over the horizon, ..., reporting_job)
runs as `dagster job execute` on a fresh data root and a fresh local Dagster home, one after the other; the
reference datasets are built too (the first job builds them when the data root has none). Peak RSS is the
largest resident set of a job's process tree, sampled every 0.2 s.

Where the time goes, per job, from the run's event log: the steps' own time (STEP_SUCCESS durations, the
engine's work: generating, publishing, checking) against the rest of the run's wall time (starting a process,
loading the definitions, Dagster's bookkeeping: planning, events, materialisation and check records). Per
segment: the steps of that segment (a step's key starts with its segment), their summed time, and the rows
its published datasets hold (the manifests' row counts).
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

import campaign  # noqa: E402
import dagster as dg  # noqa: E402
import psutil  # noqa: E402
from servers import DAGSTER_YAML  # noqa: E402

from engine_assets.quality.contracts import load_contract, load_dictionary  # noqa: E402
from engine_assets.run.identity import resolve_identity  # noqa: E402
from engine_assets.storage.datasets import resolved_partitions  # noqa: E402
from engine_assets.storage.publish import read_manifest  # noqa: E402


class TreeRss(threading.Thread):
    """The peak summed RSS of a process and its children, sampled every 0.2 s."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak_mb, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            try:
                root = psutil.Process(self.pid)
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            rss = 0
            for proc in procs:
                try:
                    rss += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak_mb = max(self.peak_mb, rss / 2**20)


def step_seconds(home: Path, env: dict[str, str]) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """From the instance at `home`: for each job, each step's seconds (STEP_SUCCESS durations); and for each step
    the segment of the assets it materialised or checked (a multi-asset's op is named after its work, not its
    segment)."""
    saved = dict(os.environ)
    os.environ.update(env)
    out: dict[str, dict[str, float]] = {}
    segments: dict[str, str] = {}
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for run in instance.get_runs():
                steps = out.setdefault(run.job_name, {})
                for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_SUCCESS):
                    steps[record.step_key] = record.dagster_event.event_specific_data.duration_ms / 1000
                for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
                    segments.setdefault(record.step_key, record.dagster_event.asset_key.path[0])
                for record in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
                    key = record.dagster_event.event_specific_data.asset_key
                    segments.setdefault(record.step_key, key.path[0])
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return out, segments


def segment_rows(profile: str, root: Path) -> dict[str, int]:
    """Rows published per segment (table datasets), from the manifests."""
    identity = resolve_identity(profile, data_root=str(root))
    rows: dict[str, int] = defaultdict(int)
    for dataset, entry in load_dictionary().items():
        if entry.kind != "table":
            continue
        contract = load_contract(dataset)
        for partition, _ in resolved_partitions(identity, contract):
            rows[dataset.split("/")[0]] += read_manifest(partition, dataset)["rows"]
    return dict(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="reference")
    parser.add_argument("--work", type=Path, help="where the data root and the Dagster home go (default: temporary)")
    parser.add_argument("--keep", action="store_true", help="keep the world afterwards")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="world-", dir=args.work))
    root, home = work / "data", work / "home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    env = campaign.engine_env(args.profile, root, home)
    log = work / "world.log"
    print(f"profile {args.profile}: data root {root}, log {log}", flush=True)
    walls, peaks = {}, {}
    started = time.perf_counter()
    try:
        for job, tags in campaign.jobs(args.profile):
            t0 = time.perf_counter()
            proc = campaign.launch(job, tags, env, log)
            rss = TreeRss(proc.pid)
            rss.start()
            code = proc.wait()
            rss.done.set()
            rss.join()
            walls[job], peaks[job] = time.perf_counter() - t0, rss.peak_mb
            print(f"{job}: {walls[job]:.1f} s, peak RSS {peaks[job]:,.0f} MB", flush=True)
            if code != 0:
                raise SystemExit(f"{job} failed; see {log}")
        total = time.perf_counter() - started
        steps, segment_of = step_seconds(home, env)
        rows = segment_rows(args.profile, root)
        print(f"\nwhole world: {total:.1f} s, peak RSS {max(peaks.values()):,.0f} MB (largest job)")
        print("\nwhere the time goes, per job: steps (engine work) against the rest (process start, definitions, "
              "Dagster's bookkeeping)")
        for job, wall in walls.items():
            engine = sum(steps.get(job, {}).values())
            print(f"  {job:<28} wall {wall:8.1f} s  steps {engine:8.1f} s  rest {wall - engine:7.1f} s "
                  f"({(wall - engine) / wall:5.1%})  {len(steps.get(job, {}))} steps")
        by_segment: dict[str, float] = defaultdict(float)
        for job_steps in steps.values():
            for key, seconds in job_steps.items():
                by_segment[segment_of.get(key, key.split("__", 1)[0])] += seconds
        print("\nper segment: summed step time, rows published, rows/s of step time")
        for segment in sorted(set(by_segment) | set(rows)):
            seconds, count = by_segment.get(segment, 0.0), rows.get(segment, 0)
            rate = f"{count / seconds:12,.0f}" if seconds else " " * 12
            print(f"  {segment:<10} {seconds:8.1f} s  {count:>14,} rows  {rate} rows/s")
        print("  (steps of every segment include their contract checks; rows are the rows each segment publishes)")
        engine = sum(sum(s.values()) for s in steps.values())
        print(f"\nsteps {engine:.1f} s of {total:.1f} s; the rest {total - engine:.1f} s ({(total - engine) / total:.1%})")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()
