"""`fraud-engine export` of a built world against the raw polars read+write of the same files.

Usage:
    python benchmarks/export.py [--profile demo] [--data-root data] [--seed N] [--format parquet] [--as-of WHEN]

Exports the training table of every day of the world (labels as published, or as of WHEN) into a
temporary directory, then measures the limit in the same run: polars scanning the same published
parquet files and sinking them, one file per day, with nothing else. Each side runs in a process
of its own, so the peak RSS printed is its own. The world must be built (`make demo`); it is only read.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stages import peak_rss_mb  # noqa: E402


def export_side(args: argparse.Namespace, out: Path) -> dict:
    import engine_assets.storage.reader  # noqa: F401 - Dagster's import is start-up, not export work
    from engine_assets.export import resolve_request, run_export

    request = resolve_request(profile=args.profile, seed=args.seed, data_root=args.data_root, fmt=args.format,
                              as_of=args.as_of, out=str(out))
    start = time.perf_counter()
    summary = run_export(request)
    return {"rows": summary.tables["transactions"].rows, "seconds": time.perf_counter() - start}


def raw_side(args: argparse.Namespace, out: Path) -> dict:
    import polars as pl

    from engine_assets.quality.contracts import load_contract
    from engine_assets.run.identity import resolve_identity
    from engine_assets.storage.datasets import published_partitions
    from engine_assets.storage.publish import published_files

    identity = resolve_identity(args.profile, seed=args.seed, data_root=args.data_root)
    contract = load_contract("seg_6b/transactions")
    scenario = identity.profile.scenarios[0]
    parts = [p for p in published_partitions(identity, contract) if p.parent.name == f"scenario={scenario}"]
    out.mkdir()
    start, rows = time.perf_counter(), 0
    for part in parts:
        target = out / f"{part.name}.{args.format}"
        frame = pl.scan_parquet([str(f) for f in published_files(part, contract.dataset).values()])
        frame.sink_parquet(target) if args.format == "parquet" else frame.sink_csv(target)
        # Read back as the export counts its rows, so both sides do the same work.
        reread = pl.scan_parquet(target) if args.format == "parquet" else pl.scan_csv(target, infer_schema=False)
        rows += reread.select(pl.len()).collect().item()
    return {"rows": rows, "seconds": time.perf_counter() - start}


def child(side: str, argv: list[str]) -> dict:
    """Run one side in a fresh process; its figures and peak RSS as JSON on the last line of stdout."""
    done = subprocess.run([sys.executable, __file__, "--side", side, *argv], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{side} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def arguments(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--data-root", default=None, help="default: $ENGINE_DATA_ROOT, else the engine's data/")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--side", choices=("export", "raw"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return args, list(sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> None:
    args, forwarded = arguments(argv)
    if args.side:
        with tempfile.TemporaryDirectory(prefix="export-bench-") as tmp:
            figures = (export_side if args.side == "export" else raw_side)(args, Path(tmp) / "out")
        print(json.dumps(figures | {"peak_rss_mb": peak_rss_mb()}))
        return
    export, raw = child("export", forwarded), child("raw", forwarded)
    rows = export["rows"]
    print(f"{args.profile} world, training table, {rows:,} rows, {args.format}")
    for name, figures in (("export", export), ("raw polars read+write", raw)):
        rate = rows / figures["seconds"] if figures["seconds"] else float("inf")
        seconds, peak = figures["seconds"], figures["peak_rss_mb"]
        print(f"  {name:22s} {seconds:7.2f} s  {rate / 1e6:6.2f} M rows/s  peak {peak:7.0f} MB")
    print(f"  export / limit: {raw['seconds'] / export['seconds']:.2f} of the raw rate")


if __name__ == "__main__":
    main()
