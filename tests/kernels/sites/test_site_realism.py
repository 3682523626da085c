"""Realism figures of sites and edges (engine_kernels/sites/realism.py) against known values."""

import numpy as np
import pytest

from engine_kernels.sites import realism


def test_jensen_shannon_known_values():
    p = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    q = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.8]])
    # Disjoint supports differ by one bit; [1/2, 1/2] against [1, 0] by 0.311278 bits; equal rows not at all.
    assert realism.jensen_shannon(p, q) == pytest.approx([1.0, 0.3112781244591328, 0.0], abs=1e-15)


def test_median_pair_divergence_is_reproducible_and_needs_two_rows():
    rows = np.random.default_rng(5).dirichlet(np.ones(6), 40)
    assert realism.median_pair_divergence(rows) == realism.median_pair_divergence(rows)
    assert 0.0 < realism.median_pair_divergence(rows) < 1.0
    assert np.isnan(realism.median_pair_divergence(rows[:1]))
