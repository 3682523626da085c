"""The run's identity card, published before anything else so every output can be traced to it."""

import dagster as dg

from engine_assets.run.identity import run_manifest as build_run_manifest
from engine_kernels import TZDATA_VERSION
from engine_assets.run.resources import EngineResource


@dg.asset(
    key=["engine", "run_manifest"],
    group_name="engine",
    io_manager_key="shards",
    kinds={"json"},
    description="Resolved profile, policy digests, parameter_hash, manifest_fingerprint, package and tzdata versions.",
)
def run_manifest(engine: EngineResource) -> dict:
    """Which profile, seed, policies and pinned packages this world is built from."""
    return build_run_manifest(engine.identity(), TZDATA_VERSION)


ASSETS = [run_manifest]
