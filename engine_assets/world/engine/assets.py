"""The run's identity card, published once the reference world it stands on is built, so every
output can be traced to its profile, policies, pinned packages and reference data."""

import dagster as dg

from engine_assets.run.identity import run_manifest as build_run_manifest
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import Reader, upstream
from engine_kernels.civil_time.tzdb import tzdata_version

# The reference datasets a world is built from; their published digests enter the fingerprint.
REFERENCE_DATASETS = tuple(f"reference/{name}" for name in (
    "countries", "absent_countries", "cities", "mcc", "population_grid", "tz_grid", "tz_zones", "holidays"))


@dg.asset(
    key=["engine", "run_manifest"],
    group_name="engine",
    io_manager_key="shards",
    kinds={"json"},
    description="Resolved profile, policy digests, parameter_hash, reference data digests, manifest_fingerprint, "
                "package and tzdata versions.",
    **upstream("engine", reads=REFERENCE_DATASETS),
)
def run_manifest(context: dg.AssetExecutionContext, engine: EngineResource) -> dict:
    """Which profile, seed, policies, pinned packages and reference data this world is built from."""
    read = Reader.of(context, engine.identity())
    digests = {dataset: read.digest(dataset) for dataset in REFERENCE_DATASETS}
    return build_run_manifest(read.identity, tzdata_version(), digests)


ASSETS = [run_manifest]
