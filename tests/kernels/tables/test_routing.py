"""The routing API: picks reproduce the weights (chi-square on 10M draws at a fixed seed)."""

import numpy as np
import pytest
from scipy import stats

from engine_kernels.randomness.streams import label_key, uniforms
from engine_kernels.tables.routing import build_routing_table, pick_items


def test_ten_million_picks_reproduce_the_weights():
    rng = np.random.default_rng(4)
    sizes = rng.integers(1, 40, 300)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    weights = rng.pareto(1.2, offsets[-1]) + 1e-3
    table = build_routing_table(weights, offsets, np.arange(offsets[-1], dtype=np.uint64) + 1000)
    n = 10_000_000
    groups = rng.integers(0, sizes.size, n)
    u = uniforms(label_key(1, "ab" * 32, "test.routing"), n)
    picked = pick_items(table, groups, u).astype(np.int64) - 1000
    # Each pick is a slot of its own group.
    assert ((picked >= offsets[groups]) & (picked < offsets[groups + 1])).all()
    observed = np.bincount(picked, minlength=offsets[-1])
    per_group = np.bincount(groups, minlength=sizes.size)
    share = weights / np.repeat(np.add.reduceat(weights, offsets[:-1]), sizes)
    expected = share * np.repeat(per_group, sizes)
    multi = np.repeat(sizes > 1, sizes)
    chi2 = ((observed - expected)[multi] ** 2 / expected[multi]).sum()
    dof = int(multi.sum() - (sizes > 1).sum())
    assert stats.chi2.sf(chi2, dof) > 1e-3


def test_bad_groups_are_refused():
    table = build_routing_table(np.ones(3), np.array([0, 3]), np.arange(3, dtype=np.uint64))
    with pytest.raises(ValueError, match="groups must lie in 0..0"):
        pick_items(table, np.array([1]), np.array([0.5]))
