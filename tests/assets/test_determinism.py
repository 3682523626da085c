"""Same seed, policies and reference data give the same bytes; a different seed does not."""

from pathlib import Path

import numpy as np

from engine_assets.quality.contracts import load_contract
from engine_assets.run.identity import resolve_identity, run_manifest
from engine_assets.storage.datasets import publish_dataset
from engine_kernels.randomness.streams import unit_keys, unit_uniforms


def test_run_manifest_bytes_are_reproducible(tmp_path):
    contract = load_contract("engine/run_manifest")
    digests = []
    for root in ("a", "b"):
        world = resolve_identity("ci", data_root=str(tmp_path / root))
        published = publish_dataset(world, contract, None, run_manifest(world, "2026f", {"reference/mcc": "ab" * 32}))
        digests.append([f.sha256 for f in published.files])
    assert digests[0] == digests[1]


def test_substream_keys_depend_on_seed_label_and_ids_only(tmp_path):
    world = resolve_identity("ci", data_root=str(tmp_path))
    again = resolve_identity("ci", data_root=str(tmp_path / "elsewhere"))
    other_seed = resolve_identity("ci", seed=world.seed + 1, data_root=str(tmp_path))
    key = world.substream_key("1a.hurdle", 42)
    assert key == again.substream_key("1a.hurdle", 42)  # the data root is not an input
    assert len({key, other_seed.substream_key("1a.hurdle", 42), world.substream_key("1a.nb", 42),
                world.substream_key("1a.hurdle", 43)}) == 4


def test_unit_draws_identical_whatever_the_batching(tmp_path):
    world = resolve_identity("ci", data_root=str(tmp_path))
    base = world.substream_key("test.units")
    ids = np.arange(10_000, dtype=np.uint64).reshape(-1, 1)
    whole = unit_uniforms(unit_keys(base, ids), 3)
    order = np.random.default_rng(3).permutation(len(ids))
    shuffled = np.empty_like(whole)
    for chunk in np.array_split(order, 7):
        shuffled[chunk] = unit_uniforms(unit_keys(base, ids[chunk]), 3)
    assert whole.tobytes() == shuffled.tobytes()
    assert world.substream_key("test.units", 17) == int(unit_keys(base, ids[17:18])[0])


ONE_THREAD_BUILD = """
import sys
from pathlib import Path
from worlds import build_world
build_world(Path(sys.argv[1]))
"""


def test_one_thread_builds_the_bytes_of_many(ci_world, share_reference, tmp_path):
    # polars and numba on one thread against the session's world, built on every core: grouped float sums,
    # join orders and parallel kernels must not leave a trace in the published bytes.
    import os
    import subprocess
    import sys

    from worlds import digests

    root = share_reference(tmp_path / "data")
    tests = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "POLARS_MAX_THREADS": "1", "NUMBA_NUM_THREADS": "1", "ENGINE_PROFILE": "ci",
           "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    built = subprocess.run([sys.executable, "-c", ONE_THREAD_BUILD, str(root)], env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr[-3000:]
    assert digests(root) == digests(ci_world)
