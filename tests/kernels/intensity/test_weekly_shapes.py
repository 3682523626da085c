"""Weekly shapes: exact hourly masses of the bumps, real weekend days, normalised to one."""

import numpy as np
import pytest

from engine_kernels.intensity.weekly_shapes import Bump, DayProfile, weekly_shape

OFFICE = DayProfile(floor=0.02, bumps=(Bump(10 * 60, 90, 1.0), Bump(15 * 60, 90, 0.8)), weekday_weight=1.0)
QUIET = DayProfile(floor=0.5, bumps=(), weekend_weight=0.3)
SAT_SUN, FRI_SAT = 0b1100000, 0b0110000


def test_shape_sums_to_one_and_peaks_in_office_hours():
    week = weekly_shape(OFFICE, QUIET, SAT_SUN)
    assert week.shape == (168,) and week.sum() == pytest.approx(1.0) and (week >= 0).all()
    monday = week[:24]
    assert monday.argmax() in (9, 10) and monday[3] < 0.05 * monday.max()


def test_weekend_days_follow_the_country():
    western, gulf = weekly_shape(OFFICE, QUIET, SAT_SUN), weekly_shape(OFFICE, QUIET, FRI_SAT)
    day = lambda w, d: w[d * 24:(d + 1) * 24].sum()  # noqa: E731
    assert day(western, 4) > 3 * day(western, 5)  # Friday works in Europe
    assert day(gulf, 4) < day(gulf, 6) / 3  # and rests in the Gulf, where Sunday works
    assert day(western, 6) == pytest.approx(day(gulf, 4))


def test_bump_mass_is_exact_and_wraps_midnight():
    late = DayProfile(floor=0.0, bumps=(Bump(24 * 60 - 30, 20, 1.0),))
    week = weekly_shape(late, late, 0)
    monday = week[:24] / week[:24].sum()
    # A bump centred on 23:30 with σ 20 min: Φ(1.5) − Φ(−1.5) = 86.6% in 23:00-24:00, and the
    # 6.7% past midnight comes back at 00:00 of the (periodic) day.
    assert monday[23] == pytest.approx(0.8663856, abs=1e-6)
    # Φ(−1.5) − Φ(−4.5) on both sides of the peak hour.
    assert monday[0] == pytest.approx(0.0668038, abs=1e-6) and monday[22] == pytest.approx(0.0668038, abs=1e-6)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="weekend_mask"):
        weekly_shape(OFFICE, QUIET, 200)
    with pytest.raises(ValueError, match="width > 0"):
        weekly_shape(DayProfile(0.1, (Bump(600, 0, 1.0),)), QUIET, SAT_SUN)


def test_class_shapes_have_keyed_variants_around_the_template():
    from engine_assets.run.config import load_policies
    from engine_kernels.intensity.weekly_shapes import class_shapes, day_mass

    policy = load_policies().intensity.shapes
    jitter = np.random.default_rng(2).random((policy.variants, 16))
    shop = class_shapes(policy, "office_hours", "card_present", SAT_SUN, jitter)
    online = class_shapes(policy, "office_hours", "card_not_present", SAT_SUN, jitter)
    assert shop.shape == (policy.variants, 168) and np.allclose(shop.sum(axis=1), 1)
    template = policy.templates["office_hours"]
    assert np.allclose(shop[0], weekly_shape(template.weekday, template.weekend, SAT_SUN))
    assert 0 < np.abs(shop[1] - shop[0]).max() < shop[0].max()  # a variant, not another class
    # Card-not-present spreads a share of the week evenly: its quietest hour is busier.
    assert online[0].min() >= policy.flatten["card_not_present"] / 168 > shop[0].min()
    weekend_share = day_mass(shop)[:, 5:].sum(axis=1)
    assert (weekend_share < 0.1).all()  # offices rest at the weekend
