"""The 6A allocator (engine_kernels/entities/allocation.py): known values, conservation, caps, distribution."""

import numpy as np
import pytest
from scipy import stats

from engine_kernels.entities.allocation import allocate


def _draws(n, seed=1):
    rng = np.random.default_rng(seed)
    return rng.random(n), rng.standard_normal(n)


def test_known_values_of_one_cell():
    # Owner 2 is not eligible (u >= p). σ = 0: equal weights, so 7 items over 3 eligible owners are
    # 2, 2, 2 plus one to the lowest index; a floor of 1 changes nothing here.
    u = np.array([0.1, 0.2, 0.95, 0.3])
    z = np.zeros(4)
    got = allocate(np.array([0, 4]), np.array([7]), u, z, p_eligible=0.9, sigma=0.0, floor=1)
    assert got.counts.tolist() == [3, 2, 0, 2] and got.unplaced.tolist() == [0]


def test_every_cell_holds_its_total_and_the_ineligible_hold_nothing():
    n_cells, per = 40, 250
    u, z = _draws(n_cells * per)
    totals = np.arange(n_cells) * 37
    offsets = np.arange(n_cells + 1) * per
    got = allocate(offsets, totals, u, z, p_eligible=0.8, sigma=0.9, floor=1)
    held = np.add.reduceat(got.counts, offsets[:-1])
    assert held.tolist() == totals.tolist() and not got.unplaced.any()
    assert (got.counts[u >= 0.8] == 0).all()
    # With at least one item per eligible owner to go round, every eligible owner holds >= 1.
    rich = np.repeat(totals >= per, per)
    assert (got.counts[rich & (u < 0.8)] >= 1).all()


def test_the_cap_moves_the_excess_to_owners_below_it_and_never_bends():
    u, z = _draws(50, seed=3)
    z[0] = 6.0  # one owner with an enormous propensity
    got = allocate(np.array([0, 50]), np.array([400]), u, z, p_eligible=1.0, sigma=1.0, cap=20)
    assert got.counts.max() == 20 and got.counts.sum() == 400 and got.counts[0] == 20
    # Capacity below the total: everyone full, the rest reported, not placed.
    full = allocate(np.array([0, 50]), np.array([1200]), u, z, p_eligible=1.0, sigma=1.0, cap=20)
    assert (full.counts == 20).all() and full.unplaced.tolist() == [200]


def test_counts_follow_the_log_normal_propensity():
    """Among eligible owners, items held track exp(σz − σ²/2): the log of the count rises with z
    with slope σ, and the counts' coefficient of variation is near sqrt(exp(σ²) − 1)."""
    n, sigma = 200_000, 0.6
    u, z = _draws(n, seed=7)
    got = allocate(np.array([0, n]), np.array([n * 50]), u, z, p_eligible=1.0, sigma=sigma)
    counts = got.counts.astype(float)
    assert counts.mean() == pytest.approx(50)
    assert counts.std() / counts.mean() == pytest.approx(np.sqrt(np.exp(sigma**2) - 1), rel=0.03)
    slope = stats.linregress(z, np.log(counts)).slope
    assert slope == pytest.approx(sigma, rel=0.02)


def test_eligibility_share_is_the_policy_probability():
    n = 100_000
    u, z = _draws(n, seed=11)
    got = allocate(np.array([0, n]), np.array([3 * n]), u, z, p_eligible=0.35, sigma=0.5, floor=1)
    share = (got.counts > 0).mean()
    assert share == pytest.approx(0.35, abs=4 * np.sqrt(0.35 * 0.65 / n))


def test_a_cell_alone_equals_the_same_cell_in_a_batch():
    u, z = _draws(300, seed=5)
    offsets, totals = np.array([0, 120, 300]), np.array([500, 900])
    batch = allocate(offsets, totals, u, z, p_eligible=[0.7, 0.9], sigma=[0.8, 1.1], floor=[1, 0], cap=[15, 9])
    alone = allocate(np.array([0, 180]), totals[1:], u[120:], z[120:], p_eligible=0.9, sigma=1.1, floor=0, cap=9)
    assert (batch.counts[120:] == alone.counts).all() and batch.unplaced[1] == alone.unplaced[0]


def test_empty_cells_and_cells_without_eligible_owners():
    u, z = np.array([0.99, 0.98]), np.zeros(2)
    got = allocate(np.array([0, 0, 2]), np.array([0, 5]), u, z, p_eligible=0.5, sigma=0.3)
    assert got.counts.tolist() == [0, 0] and got.unplaced.tolist() == [0, 5]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"p_eligible": 1.5}, "p_eligible must lie in"),
    ({"cap": 0}, "cap >= 1"),
    ({"sigma": [0.1, 0.2]}, "one value per cell"),
])
def test_bad_parameters_are_refused(kwargs, message):
    u, z = _draws(4)
    args = {"p_eligible": 0.5, "sigma": 0.3} | kwargs
    with pytest.raises(ValueError, match=message):
        allocate(np.array([0, 4]), np.array([3]), u, z, **args)
