"""Test session setup: the `ci` profile, a throw-away data root and Dagster home."""

import os
import tempfile

# Definitions read these when they load, so set them before any engine_assets import.
os.environ["ENGINE_PROFILE"] = "ci"
os.environ["ENGINE_DATA_ROOT"] = tempfile.mkdtemp(prefix="engine-tests-")
# Tests never touch the developer's .dagster_home (make exports it): each session gets its own.
os.environ["DAGSTER_HOME"] = tempfile.mkdtemp(prefix="engine-dagster-home-")
with open(os.path.join(os.environ["DAGSTER_HOME"], "dagster.yaml"), "w") as _f:
    _f.write("telemetry:\n  enabled: false\n")

import pytest  # noqa: E402

from engine_assets.run.identity import resolve_identity  # noqa: E402
from engine_kernels.civil_time.tzdb import use_pinned_tzdata  # noqa: E402

# Tests compare the engine's clock with zoneinfo directly: both must read the pinned tzdata.
use_pinned_tzdata()


@pytest.fixture
def identity(tmp_path):
    """The ci world's identity with its own empty data root."""
    return resolve_identity("ci", data_root=str(tmp_path / "data"))


@pytest.fixture(scope="session")
def reference_build(tmp_path_factory):
    """The ci reference world built once per test session through Dagster: (data root, run result)."""
    import dagster as dg

    from engine_assets.definitions import ASSET_CHECKS, ASSETS
    from engine_assets.run.resources import EngineResource
    from engine_assets.storage.io_manager import ShardIOManager

    root = tmp_path_factory.mktemp("reference")
    engine = EngineResource(data_root=str(root))
    reference = [a for a in ASSETS if next(iter(a.keys)).path[0] == "reference"]
    checks = [c for c in ASSET_CHECKS if next(iter(c.check_keys)).asset_key.path[0] == "reference"]
    result = dg.materialize([*reference, *checks], resources={"engine": engine, "shards": ShardIOManager(engine=engine)},
                            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}}, raise_on_error=False)
    assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    return root, result


@pytest.fixture
def world_root(tmp_path, reference_build):
    """An empty data root of its own that shares the session's cached reference datasets."""
    return _share_reference(tmp_path / "data", reference_build[0])


@pytest.fixture(scope="session")
def share_reference(reference_build):
    """share_reference(root): make `root` a data root sharing the session's reference caches."""
    return lambda root: _share_reference(root, reference_build[0])


def _share_reference(root, built_root):
    """Make `root` a data root whose reference caches are links to those of `built_root`."""
    (root / "reference").mkdir(parents=True)
    for cache in (built_root / "reference").glob("key=*"):
        (root / "reference" / cache.name).symlink_to(cache)
    return root


@pytest.fixture(scope="session")
def ci_world(tmp_path_factory, share_reference):
    """The ci world built once per session through Dagster, reference to 5A (see tests/worlds.py)."""
    from worlds import build_world

    root = share_reference(tmp_path_factory.mktemp("world") / "data")
    build_world(root)
    return root


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3 server in this process for the session, with the test bucket; its endpoint URL."""
    import services

    with services.s3() as url:
        yield url


@pytest.fixture(scope="session")
def first_jobs(tmp_path_factory):
    """world_job and clock_job of the ci world built once with the README's commands, with the state before
    each and after both, and how often each passed each kill point (tests/campaign.py)."""
    import campaign

    return campaign.clean_build("ci", tmp_path_factory.mktemp("clean"), upto=2)
