"""Shared setup of the 6B flow-kernel tests: the parsed 6b.yaml and label keys on a fixed seed.

Everything is deterministic: keys come from derive_key on a fixed seed and parameter hash, and
synthetic inputs from numpy generators with fixed seeds.
"""

import functools

import pytest

from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.flow_policy import parse_flows
from engine_kernels.randomness.streams import derive_key

SEED = 7
PARAMETER_HASH = "ab" * 32


@functools.cache
def _key(label: str, seed: int = SEED) -> int:
    return derive_key(seed, PARAMETER_HASH, label)


@pytest.fixture(scope="session")
def key():
    """key(label, seed=SEED) -> the 64-bit label key the engine would use on that seed."""
    return _key


@pytest.fixture(scope="session")
def flow_document():
    """config/policies/6b.yaml as read from disk (copy it before editing)."""
    return read_yaml(CONFIG_DIR / "policies" / "6b.yaml")


@pytest.fixture(scope="session")
def flows(flow_document):
    """The payments' model (FlowPolicy) parsed from config/policies/6b.yaml."""
    return parse_flows(flow_document)[0]
