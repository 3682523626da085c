"""5B burst parameters: σ, correlation length and count dispersion of each row from its scenario, class and channel."""

import numpy as np
import pytest

from engine_kernels.arrivals.bursts import BurstPolicy
from engine_kernels.vocabulary import DEMAND_CLASSES

ONLINE, OFFICE = DEMAND_CLASSES.index("online_bursty"), DEMAND_CLASSES.index("office_hours")
POLICY = BurstPolicy(
    band_edges=(50.0, 500.0), clip=(0.2, 5.0), sigma={"baseline": 0.25, "stress": 0.4},
    length_hours={"baseline": 24, "stress": 12},
    class_sigma=np.where(np.arange(len(DEMAND_CLASSES)) == ONLINE, 1.2, 1.0),
    class_length=np.where(np.arange(len(DEMAND_CLASSES)) == OFFICE, 1.5, 1.0),
    channel_sigma={"card_present": 1.0, "card_not_present": 2.8}, kappa={"baseline": 30, "stress": 12},
    class_kappa=np.where(np.arange(len(DEMAND_CLASSES)) == ONLINE, 0.5, 1.0),
    channel_kappa={"card_present": 1.0, "card_not_present": 0.5},
)


def test_sigma_is_scenario_times_class_times_channel():
    sigma = POLICY.burst_sigma("stress", np.array([ONLINE, OFFICE]), ["card_not_present", "card_present"])
    assert sigma.tolist() == pytest.approx([0.4 * 1.2 * 2.8, 0.4])


def test_length_is_scenario_times_class():
    assert POLICY.burst_length_hours("baseline", np.array([ONLINE, OFFICE])).tolist() == [24.0, 36.0]


def test_dispersion_is_scenario_times_class_times_channel():
    kappa = POLICY.count_dispersion("baseline", np.array([ONLINE, OFFICE]), ["card_not_present", "card_present"])
    assert kappa.tolist() == pytest.approx([30 * 0.5 * 0.5, 30.0])


def test_band_is_set_by_weekly_volume():
    assert POLICY.band(np.array([10.0, 50.0, 499.0, 500.0, 9000.0])).tolist() == [0, 1, 1, 2, 2]


def test_burst_variance_follows_taylors_law_above_the_reference_rate():
    from dataclasses import replace

    policy = replace(POLICY, rate_exponent=1.5, reference_rate=1.0)
    klass, channel = np.array([ONLINE] * 4), ["card_not_present"] * 4
    sigma0 = policy.burst_sigma("baseline", klass, channel)
    sigma = policy.burst_sigma("baseline", klass, channel, np.array([0.2, 1.0, 4.0, 16.0]))
    assert np.allclose(sigma[:2], sigma0[:2])  # at or below the reference: σ as the multipliers make it
    variance = np.expm1(sigma ** 2)
    assert np.allclose(variance[2:] / variance[1], [4.0 ** -0.5, 16.0 ** -0.5])  # relative variance ∝ rate^(b − 2)
    assert np.allclose(POLICY.burst_sigma("baseline", klass, channel, np.array([0.2, 1.0, 4.0, 16.0])), sigma0)  # b = 2
