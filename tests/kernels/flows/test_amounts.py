"""Amounts of card flows (engine_kernels/flows/lifecycle.py: _normal, price_point, nice_note,
draw_amounts): the normal inversion, price points at known values, banknotes, and the log-normal
purchase amounts."""

import math

import numpy as np
import pytest
from scipy import stats

from engine_kernels.flows.lifecycle import _normal, draw_amounts, nice_note, price_point
from engine_kernels.vocabulary import ATM_WITHDRAWAL, CNP_PURCHASE, CP_PURCHASE


def _notes(lo=-3, hi=8):
    return np.array([m * 10.0**e for e in range(lo, hi) for m in (1, 2, 5)])


def test_normal_inversion_matches_scipy_in_all_three_regions():
    u = np.concatenate([[1e-12, 1e-6, 0.001, 0.02, 0.024, 0.0243, 0.5, 0.9757, 0.976, 0.999, 1 - 1e-9],
                        np.linspace(0.001, 0.999, 999)])
    got = np.array([_normal(x) for x in u])
    assert got == pytest.approx(stats.norm.ppf(u), abs=1e-8)
    assert _normal(0.5) == 0.0 and _normal(0.3) == pytest.approx(-_normal(0.7), abs=1e-12)


def test_price_point_known_values():
    """37.40 -> 37.99 in the 99 band, 35 in the round band, 37.40 otherwise; 4,980 JPY -> 4,999 or 5,000."""
    assert price_point(37.4, 0.10, 0.18, 0.14, 0.01) == pytest.approx(37.99, abs=1e-9)
    assert price_point(37.4, 0.20, 0.18, 0.14, 0.01) == pytest.approx(35.0, abs=1e-9)
    assert price_point(37.4, 0.50, 0.18, 0.14, 0.01) == pytest.approx(37.4, abs=1e-9)
    assert price_point(4_980.0, 0.10, 0.18, 0.14, 1.0) == 4_999.0
    assert price_point(4_980.0, 0.20, 0.18, 0.14, 1.0) == 5_000.0
    assert price_point(4_980.4, 0.90, 0.18, 0.14, 1.0) == 4_980.0
    assert price_point(1_234.567, 0.90, 0.18, 0.14, 0.01) == pytest.approx(1_234.57, abs=1e-9)
    # Two significant digits: under 10 the step is 0.1, so the 99 band ends in 9 cents.
    assert price_point(2.34, 0.10, 0.18, 0.14, 0.01) == pytest.approx(2.39, abs=1e-9)
    assert price_point(2.34, 0.20, 0.18, 0.14, 0.01) == pytest.approx(2.5, abs=1e-9)
    assert price_point(0.3, 0.90, 0.18, 0.14, 1.0) == 1.0
    # Below 100 minor units there is no room for a 99 ending: the 99 band rounds to a whole 5 step.
    assert price_point(37.0, 0.10, 0.18, 0.14, 1.0) == 35.0
    assert price_point(0.374, 0.10, 0.18, 0.14, 0.01) == pytest.approx(0.35)


def test_price_point_is_never_below_one_minor_unit():
    for u in (0.01, 0.2, 0.9):
        for x, minor in ((0.001, 0.01), (0.0, 0.01), (0.4, 1.0), (0.004, 0.001), (3.0, 100.0)):
            assert price_point(x, u, 0.18, 0.14, minor) >= minor - 1e-12, (x, u, minor)


def test_price_point_bands_on_many_amounts():
    """Over log-uniform amounts: the 99 band gives (next step of two significant digits) - 1 minor
    unit, the round band a whole multiple of 5 x that step, the rest the amount to the minor unit."""
    rng = np.random.default_rng(1)
    xs = np.exp(rng.uniform(np.log(1.0), np.log(1e6), 3_000))
    for minor in (0.01, 1.0):
        for x in xs:
            scale = max(10.0 ** (math.floor(math.log10(x)) - 1), minor)
            nine = price_point(x, 0.05, 0.18, 0.14, minor)
            if scale > minor:
                assert (nine + minor) / scale == pytest.approx(round((nine + minor) / scale), abs=1e-6), x
                assert x - minor - 1e-9 <= nine < x + scale, x
            five = price_point(x, 0.25, 0.18, 0.14, minor)
            assert five / (5 * scale) == pytest.approx(round(five / (5 * scale)), abs=1e-6), x
            assert abs(five - x) <= 2.5 * scale + 1e-9 or five == 5 * scale, x
            plain = price_point(x, 0.9, 0.18, 0.14, minor)
            assert abs(plain - x) <= minor / 2 + 1e-9 and plain / minor == pytest.approx(round(plain / minor)), x


def test_nice_note_known_values():
    assert [nice_note(x, 0.01) for x in (20.0, 40.0, 60.0, 100.0, 140.0, 150.0, 300.0, 7.0, 0.3)] == \
        pytest.approx([20.0, 50.0, 50.0, 100.0, 100.0, 200.0, 200.0, 5.0, 0.2])
    assert nice_note(2_900.0, 1.0) == 2_000.0 and nice_note(3_500.0, 1.0) == 5_000.0
    assert nice_note(0.3, 1.0) == 1.0  # no note below the minor unit


def test_nice_note_is_the_nearest_1_2_5_value_on_a_log_scale():
    notes = _notes()
    rng = np.random.default_rng(2)
    for x in np.exp(rng.uniform(np.log(0.05), np.log(1e6), 2_000)):
        v = nice_note(x, 0.01)
        assert np.isclose(notes, v, rtol=1e-12).any(), x
        assert abs(math.log(v / x)) <= np.abs(np.log(notes[notes >= 0.01] / x)).min() + 1e-12, x


def _band(p, n=100_000):
    return 4.5 * np.sqrt(p * (1 - p) / n)


def _draw(key, flow_type, median, sigma=0.85, minor=0.01, ninety_nine=0.0, round_share=0.0, atm_scale=1.0,
          atm_values=(20, 40, 60, 100, 200, 300), atm_weights=(0.18, 0.22, 0.15, 0.25, 0.15, 0.05), unit_a=None):
    n = len(flow_type) if unit_a is None else unit_a.size
    out = np.empty(n)
    unit_a = np.arange(1, n + 1, dtype=np.uint64) if unit_a is None else unit_a
    draw_amounts(np.uint64(key("6b.amount")), unit_a, np.zeros(n, np.uint64), np.asarray(flow_type, np.int8),
                 np.full(n, float(median)), np.full(n, sigma), np.full(n, minor), ninety_nine, round_share,
                 np.array(atm_values, np.float64), np.cumsum(atm_weights), np.full(n, atm_scale), out)
    return out


def test_purchase_amounts_are_log_normal_around_the_median(key):
    """Without price points: the median of 100,000 draws is within 3% of the given median, and
    log-amounts are normal with the given sigma."""
    x = _draw(key, np.full(100_000, CP_PURCHASE), 38.0, sigma=0.85)
    assert np.median(x) == pytest.approx(38.0, rel=0.03)
    logs = np.log(x)
    assert logs.std() == pytest.approx(0.85, rel=0.02)
    assert stats.kstest((logs - np.log(38.0)) / 0.85, "norm").pvalue > 0.001
    assert (x >= 0.01).all() and np.allclose(np.round(x / 0.01) * 0.01, x)


def test_purchase_amounts_take_price_points_at_the_policy_shares(key, flows):
    """Amounts between 100 and 1,000 or so (step 10): the 99 band ends in .99 (as do ~1 in 100
    plainly rounded amounts), the round band on a whole 50."""
    a = flows.amounts
    x = _draw(key, np.full(100_000, CNP_PURCHASE), 380.0, sigma=0.5, ninety_nine=a.ninety_nine,
              round_share=a.round_share)
    cents = np.round(x * 100).astype(np.int64) % 100
    scale = 10.0 ** (np.floor(np.log10(x)) - 1)
    expected = a.ninety_nine + (1 - a.ninety_nine - a.round_share) * 0.01
    assert (cents == 99).mean() == pytest.approx(expected, abs=_band(expected))
    on_five = np.isclose(x / (5 * scale), np.round(x / (5 * scale)))
    # (a plainly rounded amount lands on a whole 50 about once in 5,000)
    assert on_five.mean() == pytest.approx(a.round_share, abs=_band(a.round_share))


def test_amounts_are_keyed_on_the_unit(key):
    units = np.random.default_rng(3).choice(2**40, 1_000, replace=False).astype(np.uint64)
    a = _draw(key, np.full(1_000, CP_PURCHASE), 50.0, unit_a=units)
    b = _draw(key, np.full(1_000, CP_PURCHASE), 50.0, unit_a=units)
    c = _draw(key, np.full(500, CP_PURCHASE), 50.0, unit_a=units[500:])
    assert a.tolist() == b.tolist() and a[500:].tolist() == c.tolist()


def test_atm_amounts_are_whole_notes_of_the_policy_values(key):
    """ATM amounts are whole notes of the 1-2-5 note nearest the smallest policy value: at US prices
    the policy's own values at its weights; in yen (145 per dollar) multiples of a 2,000 note."""
    x = _draw(key, np.full(100_000, ATM_WITHDRAWAL), 1.0)
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [20.0, 40.0, 60.0, 100.0, 200.0, 300.0]
    assert counts / x.size == pytest.approx([0.18, 0.22, 0.15, 0.25, 0.15, 0.05], abs=0.006)
    jpy = _draw(key, np.full(20_000, ATM_WITHDRAWAL), 1.0, minor=1.0, atm_scale=145.0)
    assert set(np.unique(jpy).tolist()) == {2_000.0, 6_000.0, 8_000.0, 14_000.0, 28_000.0, 44_000.0}
