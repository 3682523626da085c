import shutil
from pathlib import Path

import pytest

from engine_assets.run.config import CONFIG_DIR


@pytest.fixture
def config_dir(tmp_path) -> Path:
    """A copy of config/ for a test to break."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target
