"""Realism figures of arrivals (engine_kernels/arrivals/realism.py) against known values."""

import numpy as np
import pytest

from engine_kernels.arrivals.realism import dispersion_index, effective_groups


def test_dispersion_index_known_values():
    expected = np.array([[2.0, 2.0, 4.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    observed = np.array([[2.0, 2.0, 4.0], [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    assert dispersion_index(observed, expected) == pytest.approx([0.0, 6.0 / 3.0, 1.0 / 1e-12])


def test_poisson_counts_have_dispersion_near_one():
    lam = np.full((200, 500), 3.0)
    counts = np.random.default_rng(11).poisson(lam)
    assert np.median(dispersion_index(counts, lam)) == pytest.approx(1.0, abs=0.05)


def test_effective_groups_known_values():
    # Class 0: two equal groups (rows 0+1 form one) -> 2; class 1: one group holds 9/10 -> 1/0.82;
    # class 2: nothing.
    klass = np.array([0, 0, 0, 1, 1])
    group = np.array([4, 4, 7, 1, 2])
    weight = np.array([1.0, 2.0, 3.0, 9.0, 1.0])
    assert effective_groups(klass, group, weight, 3) == pytest.approx([2.0, 100 / 82, 0.0])


def test_effective_groups_count_equal_groups_and_ignore_how_they_split_into_rows():
    klass = np.zeros(60, np.int64)
    group = np.repeat(np.arange(6), 10)
    weight = np.random.default_rng(2).uniform(1, 2, 60)
    weight = weight / np.bincount(group, weight)[group]  # every group sums to 1, rows unequal
    assert effective_groups(klass, group, weight, 1) == pytest.approx([6.0])
