"""Realism figures of arrivals (engine_kernels/arrivals/realism.py) against known values."""

import numpy as np
import pytest

from engine_kernels.arrivals.realism import dispersion_index


def test_dispersion_index_known_values():
    expected = np.array([[2.0, 2.0, 4.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    observed = np.array([[2.0, 2.0, 4.0], [0.0, 3.0, 0.0], [1.0, 0.0, 0.0]])
    assert dispersion_index(observed, expected) == pytest.approx([0.0, 6.0 / 3.0, 1.0 / 1e-12])


def test_poisson_counts_have_dispersion_near_one():
    lam = np.full((200, 500), 3.0)
    counts = np.random.default_rng(11).poisson(lam)
    assert np.median(dispersion_index(counts, lam)) == pytest.approx(1.0, abs=0.05)
