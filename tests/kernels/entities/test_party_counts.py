"""Parties per country (engine_kernels/entities/party_counts.py): known values and bad input."""

import numpy as np
import pytest

from engine_kernels.entities.party_counts import party_counts


def test_known_values_of_the_payments_anchor_alone():
    # 8 payments a week per active party, 80% active: 6,400 weekly payments are 1,000 parties.
    counts = party_counts(np.array([6400.0, 3200.0, 0.0]), np.array([1e6, 1e6, 1e6]), 8, 0.8, 0.0)
    assert counts.tolist() == [1000, 500, 0]


def test_the_population_blend_gives_every_populated_country_customers():
    weekly, people = np.array([6400.0, 3200.0, 0.0]), np.array([1.0, 1.0, 2.0])
    counts = party_counts(weekly, people, 8, 0.8, 0.5)
    # Σ anchor = 1,500 parties: half on payments (500, 250, 0) plus half of 1,500 by people
    # (187.5, 187.5, 375); the half-party remainders tie and go to the lower index.
    assert counts.tolist() == [688, 437, 375] and counts.sum() == 1500


def test_the_party_scale_scales_and_the_total_is_exact():
    rng = np.random.default_rng(4)
    weekly, people = rng.pareto(1.5, 200) * 1e4, rng.pareto(1.2, 200) * 1e6
    base = party_counts(weekly, people, 7, 0.7, 0.3)
    half = party_counts(weekly, people, 7, 0.7, 0.3, scale=0.5)
    assert base.sum() == round(weekly.sum() / (7 * 0.7))
    assert abs(half.sum() - base.sum() * 0.5) <= 1
    assert np.abs(half - base * 0.5).max() <= 1


def test_a_world_without_payments_has_no_parties():
    assert party_counts(np.zeros(3), np.ones(3), 8, 0.8, 0.5).tolist() == [0, 0, 0]


@pytest.mark.parametrize(("args", "message"), [
    ((np.ones(2), np.ones(3), 8, 0.8, 0.5), "one value per country"),
    ((np.array([1.0, -1.0]), np.ones(2), 8, 0.8, 0.5), "finite and >= 0"),
    ((np.ones(2), np.ones(2), 0, 0.8, 0.5), "payments_per_party_week"),
    ((np.ones(2), np.ones(2), 8, 1.2, 0.5), "active_share"),
])
def test_bad_input_is_refused(args, message):
    with pytest.raises(ValueError, match=message):
        party_counts(*args)
