"""Shared setup of the 6A entity-world kernel tests: the parsed policy, keyed draws, a fake map and
small worlds built by build_country.

Everything here is deterministic: draws are keyed on a fixed seed, and the fake map places a home
unit at coordinates read off its id, so a test can tell which unit a party was given.
"""

import dataclasses
import functools
import hashlib
from types import SimpleNamespace

import numpy as np
import pytest

from engine_assets.run.config import load_policies
from engine_kernels.entities.country import CountryInputs, Homes, build_country
from engine_kernels.entities.draws import Draws
from engine_kernels.randomness.streams import derive_key
from engine_kernels.vocabulary import REGIONS

SEED = 7
RISKY_MCC, PLAIN_MCC = 5967, 5411  # 5967 is among the policy's risky MCCs, 5411 (grocery) is not


@functools.cache
def _key(seed: int, label: str) -> int:
    return derive_key(seed, "ab" * 32, label)


def make_draws(seed: int = SEED) -> Draws:
    """Draws keyed as the engine keys them, on run seed `seed` (keys are memoised: they are pure)."""
    return Draws(lambda label: _key(seed, label))


def fake_homes(units: np.ndarray) -> Homes:
    """Coordinates read off each unit's id (so they are checkable), every home in tz UTC."""
    serial = (np.asarray(units, np.uint64) & np.uint64((1 << 50) - 1)).astype(np.int64)
    kind = (np.asarray(units, np.uint64) >> np.uint64(60)).astype(np.int64)
    lat = (serial % 1_000) / 20.0 - 25.0 + kind  # household units (kind 6) and party units (kind 1) differ
    lon = (serial // 1_000) / 10.0
    return Homes(lat, lon, (serial % 50_000).astype(np.int32), np.full(serial.shape[0], "UTC", dtype=object))


def region_index(region: str | None) -> int:
    return REGIONS.index(region) if region in REGIONS else len(REGIONS)


def country_inputs(country: str, n_parties: int, region: str | None, country_index: int = 77, n_sites: int = 1_000,
                   n_merchants: int = 2_000) -> CountryInputs:
    """A country with n_sites sites (10 per merchant) and n_merchants merchants at home, every other
    merchant of a risky MCC."""
    site_ids = np.arange(1, n_sites + 1, dtype=np.uint64)
    return CountryInputs(country, country_index, region_index(region), n_parties, site_ids,
                         site_ids // np.uint64(10) + np.uint64(1), np.arange(1, n_merchants + 1, dtype=np.uint64),
                         np.where(np.arange(n_merchants) % 2 == 0, RISKY_MCC, PLAIN_MCC))


def world_arrays(obj, prefix: str = "") -> dict[str, np.ndarray]:
    """Every array of a (nested) dataclass of the entity world, by dotted name; ints become 0-d arrays."""
    out = {}
    for field in dataclasses.fields(obj):
        value, name = getattr(obj, field.name), f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value):
            out |= world_arrays(value, f"{name}.")
        else:
            out[name] = np.asarray(value)
    return out


def digest(world) -> str:
    h = hashlib.sha256()
    for name, arr in sorted(world_arrays(world).items()):
        h.update(name.encode())
        h.update(repr(arr.tolist()).encode() if arr.dtype == object else arr.tobytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def kit():
    """The helpers above, for the test modules (which cannot import this conftest by name)."""
    return SimpleNamespace(make_draws=make_draws, fake_homes=fake_homes, country_inputs=country_inputs,
                           region_index=region_index, world_arrays=world_arrays, digest=digest, SEED=SEED,
                           RISKY_MCC=RISKY_MCC, PLAIN_MCC=PLAIN_MCC)


@pytest.fixture(scope="session")
def policy():
    """The entity world's policy as parsed from config/policies/6a.yaml."""
    return load_policies().entities.model


@pytest.fixture(scope="session")
def build(policy):
    """build(country, n_parties, region, seed=SEED, policy=None, **inputs) -> CountryWorld."""

    def _build(country: str, n_parties: int, region: str | None, seed: int = SEED, policy_=None, **kwargs):
        return build_country(country_inputs(country, n_parties, region, **kwargs), fake_homes, policy_ or policy,
                             make_draws(seed))

    return _build
