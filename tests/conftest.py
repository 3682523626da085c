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

from engine_assets.identity import resolve_identity  # noqa: E402


@pytest.fixture
def identity(tmp_path):
    """The ci world's identity with its own empty data root."""
    return resolve_identity("ci", data_root=str(tmp_path / "data"))
