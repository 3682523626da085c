"""The rolling trail, its velocity windows and first uses (engine_kernels/fraud/velocity.py)
against brute force, and its independence from how the days are batched."""

import numpy as np

from engine_kernels.fraud.velocity import Trail, extend, first_uses, window_features

HOUR = 3_600_000_000
DAY = 24 * HOUR
WINDOWS = [HOUR, DAY, 7 * DAY]


def _days(seed: int, days: int = 10, per_day: int = 400) -> list[dict[str, np.ndarray]]:
    """Random payments of 40 keys, day by day, with some at the same instant and some items missing."""
    rng = np.random.default_rng(seed)
    out, flow = [], 0
    for d in range(days):
        ts = d * DAY + rng.integers(0, DAY, per_day)
        ts[::50] = ts[1::50]
        out.append({"key": rng.integers(0, 40, per_day), "ts": ts, "flow": np.arange(flow, flow + per_day) * 7 % 10_007,
                    "amount": rng.random(per_day) * 100,
                    "items": np.where(rng.random((per_day, 2)) < 0.1, -1, rng.integers(0, 300, (per_day, 2)))})
        flow += per_day
    return out


def _roll(days: list[dict], first: int = 0) -> tuple[Trail, list[np.ndarray]]:
    trail, ats = Trail.empty(kinds=2), []
    for d, rows in enumerate(days[first:], start=first):
        trail, at = extend(trail, rows["key"], rows["ts"], rows["flow"], rows["amount"], rows["items"],
                           max(d - 7, 0) * DAY)
        ats.append(at)
    return trail, ats


def test_windows_count_strictly_earlier_rows_of_the_key_across_midnight_against_brute_force():
    days = _days(5)
    trail, ats = _roll(days)
    rows, at = days[-1], ats[-1]
    counts, sums = window_features(trail, at, WINDOWS)
    every = {k: np.concatenate([d[k] for d in days]) for k in ("key", "ts", "amount")}
    for r in range(rows["key"].size):
        for k, w in enumerate(WINDOWS):
            mine = (every["key"] == rows["key"][r]) & (every["ts"] < rows["ts"][r]) & (every["ts"] > rows["ts"][r] - w)
            assert counts[r, k] == mine.sum()
            assert np.isclose(sums[r, k], every["amount"][mine].sum())
    assert counts[:, 2].max() > counts[:, 1].max() > counts[:, 0].max()  # the week sees more than the day, the hour
    assert (counts[:, 2] > counts[:, 1]).any()  # and reaches across midnight into earlier days


def test_the_trail_is_sorted_keeps_only_the_week_and_places_every_added_row():
    days = _days(6)
    trail, ats = _roll(days)
    order = np.lexsort((trail.flow, trail.ts, trail.key))
    assert (order == np.arange(trail.key.size)).all()
    assert trail.ts.min() >= 2 * DAY and trail.key.size == 8 * 400  # days 2..9
    rows, at = days[-1], ats[-1]
    assert (trail.key[at] == rows["key"]).all() and (trail.flow[at] == rows["flow"]).all()
    assert (trail.items[at] == rows["items"]).all()


def test_the_trail_is_the_same_whichever_day_a_run_starts_from():
    days = _days(7)
    whole, _ = _roll(days)
    late, _ = _roll(days, first=2)  # a run starting on day 9 reads back to day 2 only
    for a, b in zip(whole, late):
        assert np.array_equal(a, b)


def test_first_use_of_a_device_per_party():
    # party 1 uses device 7 twice and device 8 twice; party 2 uses 7 once and has a payment with none
    rows = {"key": np.array([1, 1, 1, 2, 2, 1]), "ts": np.array([5, 9, 3, 1, 2, 1]), "flow": np.arange(6),
            "amount": np.ones(6), "items": np.array([[7, 0], [7, 0], [8, 0], [7, 1], [-1, 1], [8, 2]])}
    trail, at = extend(Trail.empty(kinds=2), *rows.values(), 0)
    first = first_uses(trail, at)
    assert first[:, 0].tolist() == [True, False, False, True, False, True]
    assert first[:, 1].tolist() == [False, False, True, True, False, True]  # party 1's address 0 is new at ts 3


def test_first_uses_against_brute_force_over_the_week():
    days = _days(8)
    trail, ats = _roll(days)
    first = first_uses(trail, ats[-1])
    rows = days[-1]
    week = {k: np.concatenate([d[k] for d in days[2:]]) for k in ("key", "ts", "flow", "items")}
    for r in range(rows["key"].size):
        earlier = (week["key"] == rows["key"][r]) & (
            (week["ts"] < rows["ts"][r]) | ((week["ts"] == rows["ts"][r]) & (week["flow"] < rows["flow"][r])))
        for c in range(2):
            item = rows["items"][r, c]
            assert first[r, c] == (item >= 0 and not (earlier & (week["items"][:, c] == item)).any())
    assert first.any() and not first.all()
