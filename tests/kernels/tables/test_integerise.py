"""Largest-remainder integerisation."""

import numpy as np
import pytest

from engine_kernels.tables.integerise import largest_remainder, largest_remainder_groups


@pytest.mark.parametrize(
    ("shares", "total", "expected"),
    [
        ([0.5, 0.3, 0.2], 7, [4, 2, 1]),
        ([1, 1, 1], 2, [1, 1, 0]),
        ([1, 1, 1], 0, [0, 0, 0]),
        ([0, 3, 0, 1], 5, [0, 4, 0, 1]),
        ([0.1, 0.2], 3, [1, 2]),
        ([2.0], 11, [11]),
        ([1, 1, 1, 1], 6, [2, 2, 1, 1]),
    ],
)
def test_known_values(shares, total, expected):
    out = largest_remainder(np.array(shares, dtype=float), total)
    assert out.dtype == np.int64
    assert out.tolist() == expected


def test_ties_go_to_lower_indices():
    assert largest_remainder(np.ones(50), 17).tolist() == [1] * 17 + [0] * 33
    shares = np.tile([2.0, 1.0], 40)
    out = largest_remainder(shares, 100)
    # Quotas are 5/3 and 5/6, floors hand out 40 units: the forty remainders
    # of 5/6 get one each, then the lowest-indexed twenty of the 2/3 ones.
    expected = np.tile([1, 1], 40)
    expected[0::2][:20] += 1
    assert out.tolist() == expected.tolist()


def test_exact_sums_and_quota_bounds():
    gen = np.random.default_rng(31)
    for _ in range(2000):
        k = int(gen.integers(1, 30))
        shares = gen.exponential(size=k) * (gen.random(k) < 0.7)
        if not (shares > 0).any():
            shares[0] = 1.0
        total = int(gen.integers(0, 10**int(gen.integers(1, 10))))
        out = largest_remainder(shares, total)
        assert out.sum() == total
        quota = total * shares / shares.sum()
        assert (np.abs(out - quota) < 1 + 1e-9).all()
        assert (out[shares == 0] == 0).all()


def test_scaling_invariance():
    gen = np.random.default_rng(32)
    for _ in range(500):
        k = int(gen.integers(1, 20))
        shares = gen.random(k) + 0.01
        total = int(gen.integers(0, 1000))
        base = largest_remainder(shares, total)
        for scale in (2.0**-40, 0.5, 8.0, 2.0**100):
            assert (largest_remainder(shares * scale, total) == base).all()
        for scale in (3.0, 0.1, 1e7):
            assert (largest_remainder(shares * scale, total) == base).all()
    assert largest_remainder(np.array([1e308, 1e308, 1e308]), 4).tolist() == [2, 1, 1]


def test_groups_equal_scalar():
    gen = np.random.default_rng(33)
    sizes = gen.integers(1, 15, 3000)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    shares = gen.random(offsets[-1]) * (gen.random(offsets[-1]) < 0.8) + np.isin(np.arange(offsets[-1]), offsets[:-1])
    totals = gen.integers(0, 5000, sizes.size)
    out = largest_remainder_groups(shares, offsets, totals)
    for g in range(sizes.size):
        lo, hi = offsets[g], offsets[g + 1]
        assert out[lo:hi].tolist() == largest_remainder(shares[lo:hi], int(totals[g])).tolist()
    assert (np.add.reduceat(out, offsets[:-1]) == totals).all()


@pytest.mark.parametrize(
    ("shares", "total", "pattern"),
    [
        ([0.0, 0.0], 3, "all zero"),
        ([], 3, "all zero"),
        ([1.0, -0.5], 3, "shares"),
        ([1.0, np.nan], 3, "shares"),
        ([1.0, 2.0], -1, "total"),
        ([1.0, 2.0], 2**60, "total"),
    ],
)
def test_validation(shares, total, pattern):
    with pytest.raises(ValueError, match=pattern):
        largest_remainder(np.array(shares, dtype=float), total)


def test_groups_validation():
    with pytest.raises(ValueError, match="group 1"):
        largest_remainder_groups(np.array([1.0, 0.0, 0.0]), np.array([0, 1, 3]), np.array([2, 2]))
    with pytest.raises(ValueError, match="totals"):
        largest_remainder_groups(np.array([1.0, 1.0]), np.array([0, 1, 2]), np.array([2, -1]))
    with pytest.raises(ValueError, match="offsets"):
        largest_remainder_groups(np.array([1.0, 1.0]), np.array([0, 2]), np.array([2, 1]))
