"""Realism across seeds: build one profile's world for many seeds and print every corridor per seed.

    .venv/bin/python benchmarks/seeds.py                      # demo profile, the default sweep
    .venv/bin/python benchmarks/seeds.py --profile reference --seeds 20260101 7
    .venv/bin/python benchmarks/seeds.py --report-only --data-root /tmp/seeds   # tabulate built worlds

Each seed is built by `python -m engine_assets.demo --seed N` in a process of its own, into one
data root (the worlds share the reference datasets and nothing else). Then every segment's
validation report is read and tabulated: for each realism check its band, its figure per seed
(✗ where it failed, ~ where the world is too small for the corridor to be judged), and the spread
of the figure across seeds (min, max, standard deviation). Invariants are summarised in one line.
The exit status is 0 only if every seed built and every check of every seed passed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine_assets.quality.gates import REPORT, bundle_dir  # noqa: E402
from engine_assets.run.errors import NotPublishedError  # noqa: E402
from engine_assets.run.identity import cached_identity  # noqa: E402
from engine_assets.storage.publish import published_version  # noqa: E402

# Seeds users reported trying first, and eight more.
DEFAULT_SEEDS = (7, 42, 101, 202, 1, 3, 11, 99, 555, 2024, 4242, 31337)
SEGMENTS = ("seg_1a", "seg_3a", "seg_1b", "seg_2a", "seg_2b", "seg_3b", "seg_5a", "seg_5b", "seg_6a", "seg_6b")


def build(profile: str, seed: int, data_root: Path, dagster_home: Path) -> dict:
    """Build one seed's world in a child process; its exit status, wall time, peak RSS and last lines."""
    env = {**os.environ, "ENGINE_PROFILE": profile, "ENGINE_DATA_ROOT": str(data_root), "DAGSTER_HOME": str(dagster_home)}
    log = data_root / f"build-{profile}-seed={seed}.log"
    started = time.perf_counter()
    with log.open("w") as out:
        child = subprocess.Popen([sys.executable, "-m", "engine_assets.demo", "--seed", str(seed)], cwd=REPO, env=env,
                                 stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = log.read_text().strip().splitlines()
    # What `make demo` printed after it stopped: the failed step or checks, without the remedies.
    after = next((i for i, line in enumerate(lines) if line.startswith("make demo stopped")), len(lines) - 3)
    stopped = [line.strip() for line in lines[after + 1:] if line.strip() and "what to do:" not in line]
    return {"seed": seed, "rc": child.returncode, "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "log": str(log),
            "stopped": stopped[:6] if child.returncode else []}


def reports(profile: str, seed: int, data_root: Path) -> dict[str, dict]:
    """segment -> its published validation report (segments that did not get that far are absent)."""
    identity = cached_identity(profile, seed, str(data_root))
    out = {}
    for segment in SEGMENTS:
        try:
            version = published_version(bundle_dir(identity, segment), f"{segment}/validation")
        except NotPublishedError:
            continue
        out[segment] = json.loads((version / REPORT).read_text())
    return out


def _invariant(check: dict) -> bool:
    band = check.get("corridor") or ""
    return band.startswith("== 0 ") and not band[5:6].isdigit()


def _cell(check: dict | None) -> str:
    if check is None:
        return "—"
    figure = check["figure"]
    text = f"{figure:.4g}" if isinstance(figure, float) else str(figure)
    if not check["passed"]:
        return f"{text} ✗"
    return f"{text} ~" if check["details"].get("enforced") is False else text


def tabulate(seeds: list[int], by_seed: dict[int, dict[str, dict]]) -> tuple[list[str], int]:
    """Markdown lines of the corridor table and the number of failed checks over all seeds."""
    rows: dict[tuple[str, str], dict[int, dict]] = {}
    bands: dict[tuple[str, str], str] = {}
    invariants = failed = 0
    for seed in seeds:
        for segment, report in by_seed[seed].items():
            for check in report["checks"]:
                failed += not check["passed"]
                if _invariant(check):
                    invariants += 1
                    if check["passed"]:
                        continue
                key = (segment, check["name"])
                rows.setdefault(key, {})[seed] = check
                bands[key] = check.get("corridor") or "reported"
    head = ["check", "band", *[str(s) for s in seeds], "min", "max", "sd"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (segment, name), checks in rows.items():
        figures = [c["figure"] for c in checks.values() if isinstance(c["figure"], (int, float))
                   and not isinstance(c["figure"], bool)]
        spread = ([f"{min(figures):.4g}", f"{max(figures):.4g}",
                   f"{statistics.pstdev(figures):.2g}"] if len(figures) > 1 else ["—"] * 3)
        cells = [f"{segment}/{name}", bands[(segment, name)], *[_cell(checks.get(s)) for s in seeds], *spread]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"\nInvariants judged: {invariants} over {len(seeds)} seeds; every failed check is marked ✗ above.")
    return lines, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help="seeds to build (default: the profile's own and %s)" % " ".join(map(str, DEFAULT_SEEDS)))
    parser.add_argument("--data-root", type=Path, default=None, help="default: a new temporary directory")
    parser.add_argument("--report-only", action="store_true", help="tabulate worlds already built in --data-root")
    parser.add_argument("--json", type=Path, default=None, help="also write builds and reports here")
    args = parser.parse_args(argv)
    if args.report_only and args.data_root is None:
        parser.error("--report-only needs the --data-root the worlds were built in")
    profile_seed = cached_identity(args.profile, None, str(args.data_root or REPO / "data")).seed
    seeds = args.seeds or [profile_seed, *DEFAULT_SEEDS]
    data_root = (args.data_root or Path(tempfile.mkdtemp(prefix="seeds-"))).resolve()
    data_root.mkdir(parents=True, exist_ok=True)
    dagster_home = data_root / ".dagster_home"
    dagster_home.mkdir(exist_ok=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    print(f"profile {args.profile} | seeds {' '.join(map(str, seeds))} | data root {data_root}", flush=True)
    builds = []
    for seed in seeds:
        if args.report_only:
            continue
        outcome = build(args.profile, seed, data_root, dagster_home)
        builds.append(outcome)
        verdict = "built" if outcome["rc"] == 0 else "STOPPED: " + " | ".join(outcome["stopped"])
        print(f"  seed {seed}: {verdict} in {outcome['seconds']} s, peak RSS {outcome['peak_rss_mb']} MB", flush=True)
    by_seed = {seed: reports(args.profile, seed, data_root) for seed in seeds}
    lines, failed = tabulate(seeds, by_seed)
    print("\n" + "\n".join(lines))
    stopped = [b["seed"] for b in builds if b["rc"]]
    print(f"\n{len(seeds) - len(stopped)} of {len(seeds)} seeds built; {failed} failed checks"
          + (f"; stopped: {stopped}" if stopped else ""))
    if args.json:
        args.json.write_text(json.dumps({"profile": args.profile, "builds": builds, "reports": by_seed}, indent=1))
    return 0 if not stopped and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
