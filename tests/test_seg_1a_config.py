"""Bad 1A input fails when the configuration loads, before any draw, naming the file and the field."""

import shutil
from pathlib import Path

import pytest

from engine_assets.config import CONFIG_DIR, load_policies, load_profile
from engine_assets.errors import EngineConfigError


@pytest.fixture
def config_dir(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _error(config_dir: Path) -> str:
    with pytest.raises(EngineConfigError) as err:
        load_profile("ci", load_policies(config_dir), config_dir)
    return str(err.value)


def test_negative_dispersion_names_the_field(config_dir):
    _edit(config_dir / "policies/1a.yaml", "  dispersion:\n    base: 1.3", "  dispersion:\n    base: -1.3")
    msg = _error(config_dir)
    assert "policies/1a.yaml" in msg and "'outlet_count.dispersion.base' = -1.3" in msg and "allowed: > 0" in msg


def test_unknown_mcc_group_names_the_field_and_the_known_groups(config_dir):
    _edit(config_dir / "policies/1a.yaml", "    grocery: 0.10\n", "    grocery: 0.10\n    casinos: 0.02\n")
    msg = _error(config_dir)
    assert "policies/1a.yaml" in msg and "unknown field(s) casinos under 'merchants.sector_weights'" in msg
    assert "grocery" in msg and "entertainment" in msg


def test_zero_merchants_names_the_profile_field(config_dir):
    _edit(config_dir / "profiles/ci.yaml", "merchants: 60", "merchants: 0")
    msg = _error(config_dir)
    assert "profiles/ci.yaml" in msg and "'merchants' = 0" in msg and "allowed: >= 1" in msg


def test_cross_field_error_is_caught_at_load(config_dir):
    _edit(config_dir / "policies/1a.yaml", "gdp_band: [-0.3, -0.1, 0.1, 0.2]", "gdp_band: [-0.3, 0.2]")
    msg = _error(config_dir)
    assert "policies/1a.yaml" in msg and "hurdle.gdp_band must have 4 entries" in msg


def test_inverted_realism_corridor_is_refused(config_dir):
    _edit(config_dir / "policies/1a.yaml", "gini_outlets: [0.45, 0.62]", "gini_outlets: [0.62, 0.45]")
    msg = _error(config_dir)
    assert "policies/1a.yaml" in msg and "realism.corridors.gini_outlets" in msg
