"""The reference world through Dagster on the ci profile: built once, reused, rebuilt identically."""

import dagster as dg
import numpy as np
import pytest
from worlds import published_digests

from engine_assets.definitions import ASSET_CHECKS, ASSETS
from engine_assets.quality.gates import verify_gate
from engine_assets.run import identity as identity_module
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import ShardIOManager
from engine_assets.storage.reader import reader_for
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_kernels.reference import packages

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
REFERENCE = [a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"]
CHECKS = [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] == "reference"]

def _build(data_root) -> dg.ExecuteInProcessResult:
    engine = EngineResource(data_root=str(data_root))
    return dg.materialize([*REFERENCE, *CHECKS], resources={"engine": engine, "shards": ShardIOManager(engine=engine)},
                          run_config=QUIET, raise_on_error=False)

def _digests(root) -> dict[str, list[str]]:
    return published_digests(root)

@pytest.fixture
def built(reference_build):
    return reference_build

def test_every_reference_check_passes_and_the_gate_opens(built):
    root, result = built
    evaluations = {e.asset_check_key.to_user_string(): e for e in result.get_asset_check_evaluations()}
    assert all(e.passed for e in evaluations.values())
    realism = evaluations["reference/population_grid:realism"].metadata["dense_cell_population_share"].value
    assert 0.20 <= realism["figure"] <= 0.45
    report = verify_gate(EngineResource(data_root=str(root)).identity(), "reference")
    assert {c["name"] for c in report["checks"]} >= {"dense_cell_population_share", "us_zones", "in_zones"}

def test_second_build_reuses_the_cache(built):
    root, _ = built
    before = _digests(root / "reference")
    again = _build(root)
    assert again.success and _digests(root / "reference") == before

def test_rebuild_from_scratch_is_byte_identical(built, tmp_path):
    root, _ = built
    assert _build(tmp_path).success
    first, second = _digests(root / "reference"), _digests(tmp_path / "reference")
    assert first and first == second

def test_cache_key_follows_package_versions(monkeypatch):
    key = identity_module.reference_key()
    versions = identity_module.package_versions()
    monkeypatch.setattr(identity_module, "package_versions", lambda: versions | {"holidays": "0.110"})
    identity_module.reference_key.cache_clear()
    try:
        assert identity_module.reference_key() != key
    finally:
        identity_module.reference_key.cache_clear()  # the next caller sees the real versions again

def test_wrong_package_version_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(packages.PINS, "iso18245", "9.9.9")
    mcc = [a for a in REFERENCE if next(iter(a.keys)).path == ["reference", "mcc"]]
    engine = EngineResource(data_root=str(tmp_path))
    result = dg.materialize(mcc, resources={"engine": engine, "shards": ShardIOManager(engine=engine)},
                            run_config=QUIET, raise_on_error=False)
    error = result.get_step_failure_events()[0].event_specific_data.error
    message = error.message + (error.cause.message if error.cause else "")
    assert "iso18245" in message and "9.9.9" in message and "1.4.1" in message and "make install" in message

def test_query_api_on_the_published_world(built):
    root, _ = built
    world = reference_world(reader_for(EngineResource(data_root=str(root)).identity(), *WORLD_DATASETS))
    cells = world.populated_cells("US", "America/New_York")
    u = (np.arange(10_000) + 0.5) / 10_000
    lat, lon = cells.sample_points(u, u[::-1], np.roll(u, 17))
    assert world.contains("US", lat, lon).mean() > 0.9
    zones = world.zones_at("US", lat, lon)
    assert np.mean(zones == "America/New_York") > 0.9
    assert set(world.zones_at("DE", lat, lon)) <= {None}
    assert world.contains("FR", np.array([48.8566]), np.array([2.3522]), full=True).tolist() == [True]
