"""`fraud-engine`: the engine's command line for users of a built world.

A thin argparse front: each subcommand parses its arguments and hands them to its package
(`export` -> engine_assets/export/). Exit codes: 0 done, 2 a bad argument or a world that cannot
serve the request (one line on stderr saying what, where and how to fix it), 1 an unexpected error.
"""

import argparse
import os
import sys

from engine_assets.run.errors import EngineError

PROG = "fraud-engine"
USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse's errors as one line, like the engine's own, instead of the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def export_arguments(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "export", help="write a world's training table (and more) as Parquet or CSV, and/or a DuckDB file of views",
        description="Write a built world's training table seg_6b/transactions for a range of days, and optionally "
                    "its flows, events, labels and entities, as Parquet or CSV; and/or a DuckDB database with a "
                    "view over every published dataset of the world.")
    world = parser.add_argument_group("which world")
    world.add_argument("--profile", default=os.environ.get("ENGINE_PROFILE") or "demo",
                       help="profile of the world (default: $ENGINE_PROFILE, else demo)")
    world.add_argument("--seed", type=int, default=None, help="seed of the world (default: the profile's)")
    world.add_argument("--data-root", default=None,
                       help="where worlds are built (default: $ENGINE_DATA_ROOT, else the engine's data/ directory)")
    world.add_argument("--scenario", default=None, help="scenario to export (default: the profile's first)")
    what = parser.add_argument_group("what to export")
    what.add_argument("--from", dest="first", metavar="DAY",
                      help="first UTC day, YYYY-MM-DD (default: the horizon's first day)")
    what.add_argument("--to", dest="last", metavar="DAY",
                      help="last UTC day, included (default: the horizon's last day)")
    what.add_argument("--as-of", metavar="WHEN",
                      help="hide what the bank learned after WHEN (YYYY-MM-DD: the end of that UTC day, or "
                           "YYYY-MM-DDTHH:MM[+HH:MM]): later label events become null, bank labels not yet "
                           "known become unknown, later events and cases are dropped (default: labels as published)")
    what.add_argument("--no-truth", dest="truth", action="store_false",
                      help="leave out the simulation's ground truth (is_fraud, fraud_type, truth_at, truth_labels)")
    what.add_argument("--include", metavar="LIST", default="",
                      help="also export, comma-separated: flows (flows, sessions), events, "
                           "labels (truth_labels, bank_view, cases), entities (the seg_6a tables)")
    where = parser.add_argument_group("where to write")
    where.add_argument("--format", dest="fmt", choices=("parquet", "csv"), default="parquet",
                       help="file format (default: parquet)")
    where.add_argument("--out", metavar="DIR", help="new (or empty) directory for the files: <table>/<day>.<format>")
    where.add_argument("--duckdb", metavar="FILE",
                       help="new DuckDB database with a view per published dataset (schema per segment, e.g. "
                            "seg_6b.transactions) and per exported table (schema exported)")
    parser.set_defaults(run=run_export_command, command_name="export")


def run_export_command(args: argparse.Namespace) -> int:
    from engine_assets.export import resolve_request, run_export

    request = resolve_request(profile=args.profile, seed=args.seed, data_root=args.data_root, scenario=args.scenario,
                              first=args.first, last=args.last, as_of=args.as_of, truth=args.truth, fmt=args.fmt,
                              include=args.include, out=args.out, duckdb=args.duckdb)
    identity = request.identity
    labels = f"labels as of {request.as_of.isoformat()}" if request.as_of else "labels as published"
    print(f"exporting {identity.profile.name} seed {identity.seed}, scenario {request.scenario}, "
          f"{request.days[0]} to {request.days[-1]}, {labels}", flush=True)
    summary = run_export(request, progress=lambda line: print(f"  {line}", flush=True))
    if request.out is not None:
        print(f"wrote {request.out}")
    if request.duckdb is not None:
        print(f"wrote {request.duckdb} ({summary.views} views); try: duckdb {request.duckdb}")
    return 0


def gc_arguments(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "gc", help="delete published versions that no partition points at any more",
        description="Delete, under a data root, the versions no partition's pointer names: abandoned writes at "
                    "once, superseded versions once older than the grace period (readers may still hold them).")
    parser.add_argument("--data-root", default=None,
                        help="the data root to sweep (default: $ENGINE_DATA_ROOT, else the engine's data/ directory)")
    parser.add_argument("--grace-minutes", type=float, default=None,
                        help="keep superseded versions younger than this (default: $ENGINE_VERSION_GRACE_S, else 15)")
    parser.set_defaults(run=run_gc_command, command_name="gc")


def run_gc_command(args: argparse.Namespace) -> int:
    from engine_assets.run.identity import data_root_path
    from engine_assets.storage.gc import collect_root

    root = data_root_path(args.data_root)
    if not root.is_dir():
        print(f"{PROG} gc: error: no data root at {root}; pass --data-root or set ENGINE_DATA_ROOT", file=sys.stderr)
        return USAGE_ERROR
    grace = None if args.grace_minutes is None else args.grace_minutes * 60
    collected = collect_root(root, grace)
    print(f"{len(collected.versions)} version(s) deleted in {collected.partitions:,} partition(s) under {root}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = OneLineParser(prog=PROG, description="Work with a world built by the fraud engine.")
    commands = root.add_subparsers(title="commands", metavar="COMMAND", parser_class=OneLineParser)
    export_arguments(commands)
    gc_arguments(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help, or argparse's one-line error: a code, like every other outcome
        return int(exit_.code or 0)
    if not hasattr(args, "run"):
        parser().print_help(sys.stderr)
        return USAGE_ERROR
    try:
        return args.run(args)
    except EngineError as exc:
        # The engine's errors already say what, where and how to fix it; keep them on one line.
        print(f"{PROG} {args.command_name}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
