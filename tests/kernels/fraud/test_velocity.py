"""Velocity windows and first uses (engine_kernels/fraud/velocity.py) against a brute-force count."""

import numpy as np

from engine_kernels.fraud.velocity import first_uses, window_counts

HOUR = 3_600_000_000


def test_windows_count_strictly_earlier_rows_of_the_group_against_brute_force():
    rng = np.random.default_rng(5)
    n = 3_000
    group = np.sort(rng.integers(0, 40, n))
    ts = rng.integers(0, 10 * 24 * HOUR, n)
    ts[::50] = ts[1::50]  # some rows at the same instant
    order = np.lexsort((ts, group))
    group, ts = group[order], ts[order]
    amount = rng.random(n) * 100
    windows = [HOUR, 24 * HOUR, 7 * 24 * HOUR]
    counts, sums = window_counts(group, ts, amount, windows)
    for i in rng.choice(n, 400, replace=False):
        for k, w in enumerate(windows):
            mine = (group == group[i]) & (ts < ts[i]) & (ts > ts[i] - w)
            assert counts[i, k] == mine.sum()
            assert np.isclose(sums[i, k], amount[mine].sum())
    assert counts[:, 2].max() > counts[:, 0].max()  # the week sees more than the hour


def test_first_use_of_a_device_per_party():
    group = np.array([1, 1, 1, 2, 2, 1])
    item = np.array([7, 7, 8, 7, -1, 8])
    ts = np.array([5, 9, 3, 1, 2, 1])
    assert first_uses(group, item, ts).tolist() == [True, False, False, True, False, True]
