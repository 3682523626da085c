"""Ranking a day's flows: the order depends on (ts, unit) only, and the parallel gather equals numpy's."""

import numpy as np

from engine_kernels.flows.order import rank_order, take


def test_rank_breaks_ties_by_unit_whatever_the_input_order():
    ts = np.array([5, 1, 5, 1, 3], np.int64)
    a = np.array([2, 9, 1, 3, 7], np.uint64)
    b = np.zeros(5, np.uint64)
    order = rank_order(ts, a, b)
    assert list(zip(ts[order], a[order])) == [(1, 3), (1, 9), (3, 7), (5, 1), (5, 2)]
    shuffle = np.array([4, 2, 0, 3, 1])
    again = rank_order(ts[shuffle], a[shuffle], b[shuffle])
    assert list(zip(ts[shuffle][again], a[shuffle][again])) == list(zip(ts[order], a[order]))


def test_take_equals_fancy_indexing_for_every_dtype():
    rng = np.random.default_rng(3)
    order = rng.permutation(10_000)
    for values in (rng.integers(0, 2**63, 10_000, dtype=np.uint64), rng.normal(size=10_000),
                   rng.integers(-5, 5, 10_000).astype(np.int8), rng.random(10_000) < 0.5):
        assert np.array_equal(take(values, order), values[order])
