"""Segment 6A at the `reference` profile: the entity world of ~3-4M parties, end to end.

Usage:
    python benchmarks/entities.py [--reference-root data] [--data-root DIR]

Builds layers 1-2 up to 5A's validation in Dagster (not timed; reused when --data-root already
holds them), then prints:
  * the engine's whole 6A without Dagster, stage by stage: party counts, the country kernels,
    publishing each table, its contract check, the validation (target <= 60 s on 2 cores; the
    earlier system took ~13 min for 3.3M parties)
  * rows and rows/s per table (publish + contract check), and the write limit: the same Arrow
    tables written as zstd parquet straight to disk, no manifest, digest or atomic rename
  * the same 6A through Dagster (in-process runs: party counts, entity_world over every country
    partition with its contract checks, the validation); the difference is Dagster's bookkeeping
  * peak RSS (target <= 4 GB)
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["ENGINE_PROFILE"] = "reference"

import pyarrow.parquet as pq  # noqa: E402
from stages import Stages, build_world_to_3b, dagster_runner, peak_rss_mb  # noqa: E402

from engine_assets.behaviour.seg_6a import validation as seg_6a_validation  # noqa: E402
from engine_assets.behaviour.seg_6a.assets import (  # noqa: E402
    GROUP,
    WorldInputs,
    entity_world,
    party_counts,
    party_table,
    publish_world,
)
from engine_assets.behaviour.seg_6a.tables import TABLES  # noqa: E402
from engine_assets.quality.checks import check_partitions  # noqa: E402
from engine_assets.quality.contracts import load_contract  # noqa: E402
from engine_assets.quality.gates import verify_gate, write_validation_bundle  # noqa: E402
from engine_assets.run.errors import GateError  # noqa: E402
from engine_assets.run.partitions import COUNTRY_CODES, COUNTRY_GROUPS, SCENARIOS  # noqa: E402
from engine_assets.run.resources import EngineResource  # noqa: E402
from engine_assets.storage.datasets import publish_dataset  # noqa: E402
from engine_assets.storage.publish import Publication  # noqa: E402
from engine_assets.storage.reader import Reader  # noqa: E402

EARLIER_S = 13 * 60


def build_upstream(run) -> None:
    """5A and its validation on a world built through 3B."""
    run(["seg_5a/weekly_shapes", "seg_5a/merchant_zone_profile"])
    run(["seg_5a/calendar"], SCENARIOS.get_partition_keys())
    run(["seg_5a/seg_5a_validation"])


def per_table(identity, keys: list[str], scratch: Path) -> tuple[dict[str, int], Stages, Stages, float]:
    """Every country built, then each table published and contract-checked on its own: rows per table,
    seconds per table (publish + check), the raw write of the same tables, and the kernels' seconds."""
    inputs = WorldInputs(Reader.for_assets_def(entity_world, identity), keys)
    rows, seconds, limit = {name: 0 for name in TABLES}, Stages(), Stages()
    contracts = {name: load_contract(f"{GROUP}/{name}") for name in TABLES}
    kernels = Stages()
    for country in keys:
        tables, words = kernels.timed("kernels", lambda: inputs.country(country))
        for name in TABLES:
            rows[name] += tables[name].num_rows
            payload = Publication(tables[name], words if name == "parties" else {})
            seconds.timed(name, lambda: publish_dataset(identity, contracts[name], country, payload))
            target = scratch / name / f"{country}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            limit.timed(name, lambda: pq.write_table(tables[name], target, compression="zstd"))
    for name in TABLES:
        verdicts = seconds.timed(name, lambda: check_partitions(identity, contracts[name], keys))
        assert all(ok for ok, _ in verdicts), name
    return rows, seconds, limit, kernels["kernels"]


def engine_pipeline(identity, keys: list[str]) -> Stages:
    """6A as the assets run it, without Dagster: counts, every country built and published (one writer
    thread beside the kernels), the contract checks, the validation."""
    stages = Stages()
    read = Reader.for_assets_def(party_counts, identity)

    def counted():
        profile = read.scan("seg_5a/merchant_zone_profile").select("merchant_id", "legal_country_iso",
                                                                  "weekly_volume").collect()
        return party_table(identity, profile,
                           read.scan("seg_3b/virtual_classification").select("merchant_id", "virtual_share").collect(),
                           read.scan("seg_3b/edge_catalogue").select("merchant_id", "country_iso", "weight").collect(),
                           read.scan("reference/countries").select("country_iso", "population", "is_populated_world").collect())

    counts = stages.timed("party counts", counted)
    stages.timed("party counts", lambda: publish_dataset(identity, load_contract(f"{GROUP}/party_counts"), None, counts))
    stages.timed("build + publish countries", lambda: publish_world(Reader.for_assets_def(entity_world, identity), keys))
    for name in TABLES:
        verdicts = stages.timed("contract checks", lambda: check_partitions(identity, load_contract(f"{GROUP}/{name}"), keys))
        assert all(ok for ok, _ in verdicts), name
    module = seg_6a_validation
    outcomes, attachments = stages.timed("validation", lambda: module.evaluate(
        Reader.for_assets_def(module.validation, identity)))
    assert all(o.passed for o in outcomes), [(o.name, o.figure) for o in outcomes if not o.passed]
    write_validation_bundle(identity, GROUP, outcomes, attachments)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference-root", type=Path, help="a data root holding a reference world (default: ./data)")
    parser.add_argument("--data-root", type=Path, help="keep the world here (reused by later runs) instead of a temp dir")
    args = parser.parse_args()
    cache = (args.reference_root or Path(__file__).resolve().parent.parent / "data").resolve()
    keys = COUNTRY_CODES
    with tempfile.TemporaryDirectory(prefix="entities-bench-") as tmp:
        home = args.data_root.resolve() if args.data_root else Path(tmp)
        root = home / "data"
        identity = EngineResource(data_root=str(root)).identity()
        try:
            verify_gate(identity, "seg_5a")
            run, _ = dagster_runner(root)
        except GateError:  # no world yet, or an unfinished one: build it
            shutil.rmtree(root, ignore_errors=True)
            run, _, seconds = build_world_to_3b(cache, home)
            started = time.perf_counter()
            build_upstream(run)
            print(f"layers 1-2 up to 5A built in {seconds + time.perf_counter() - started:.0f} s (not counted)")
        shutil.rmtree(identity.run_root / GROUP, ignore_errors=True)
        # party_counts first: the per-table pass reads it.
        stages = engine_pipeline(identity, keys)
        rows, seconds, limit, kernel_s = per_table(identity, keys, Path(tmp) / "limit")
        shutil.rmtree(identity.run_root / GROUP)
        through = Stages({
            "party counts": run([f"{GROUP}/party_counts"]),
            "entity_world (8 tables)": run([f"{GROUP}/{name}" for name in TABLES], COUNTRY_GROUPS.get_partition_keys()),
            "validation": run([f"{GROUP}/seg_6a_validation"]),
        })
    parties = rows["parties"]
    print(f"reference profile: {parties:,} parties in {len(keys)} country partitions")
    stages.report("6A by the engine (compute, publish, contract checks, validation; no Dagster):",
                  f"target <= 60 s; the earlier system ~{EARLIER_S} s for 3.3M parties")
    print(f"country kernels alone: {kernel_s:.1f} s, {sum(rows.values()) / kernel_s:,.0f} rows/s over all eight tables")
    print("per table: rows, publish + contract check, and the raw zstd parquet write of the same rows")
    for name in TABLES:
        print(f"  {name:<13} {rows[name]:>11,} rows  {rows[name] / seconds[name]:>11,.0f} rows/s  "
              f"[write limit {rows[name] / limit[name]:>11,.0f} rows/s]")
    through.report("the same through Dagster (in-process runs; 8 datasets x 250 country partitions):")
    print(f"peak RSS: {peak_rss_mb():,.0f} MB   [target <= 4,096 MB]")


if __name__ == "__main__":
    main()
