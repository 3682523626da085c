"""Segment 3A plan kernel: zone priors, escalation, Dirichlet split, keyed draws."""

import numpy as np
import pytest

from engine_kernels.randomness.streams import label_key
from engine_kernels.sites.zone_plan import ZonePlanPolicy, plan_zones, zone_priors

POLICY = ZonePlanPolicy(min_sites=(3, 6, 12), probability=(0.3, 0.6, 0.9), concentration=6.0, floor=0.01)


def keys(label):
    return label_key(7, "cd" * 32, label)


def us_priors():
    return zone_priors("US", ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
                              "America/Boise"], np.array([150e6, 95e6, 20e6, 60e6, 0.5e6]), floor=0.01)


def test_priors_drop_small_zones_and_renormalise():
    priors = us_priors()
    assert priors.tzids == ("America/Chicago", "America/Denver", "America/Los_Angeles", "America/New_York")
    assert priors.share.sum() == pytest.approx(1.0) and priors.share[3] == pytest.approx(150 / 325)
    assert zone_priors("CN", ["Asia/Shanghai", "Asia/Urumqi"], np.array([1.3e9, 2e7]), 0.01, "Asia/Shanghai").tzids == (
        "Asia/Shanghai",)
    with pytest.raises(ValueError, match="ZZ has no populated zone"):
        zone_priors("ZZ", [], np.array([]), 0.01)


def test_sites_conserved_and_small_pairs_stay_in_one_zone():
    n = np.random.default_rng(1).integers(1, 60, 5000)
    ids = np.arange(1, 5001, dtype=np.uint64)
    plan = plan_zones(ids, n, us_priors(), POLICY, keys)
    assert (np.bincount(plan.merchant_id.astype(np.int64), weights=plan.n_sites, minlength=5001)[1:] == n).all()
    zones_per = np.bincount(plan.merchant_id.astype(np.int64), minlength=5001)[1:]
    assert (zones_per[n < 3] == 1).all()
    escalated = np.zeros(5001, bool)
    escalated[plan.merchant_id.astype(np.int64)] = plan.escalated
    assert not escalated[1:][n < 3].any()
    # Escalation follows the ladder: 0.3 for 3-5 sites, 0.9 from 12 up (binomial, 5 sigma).
    for lo, hi, p in ((3, 6, 0.3), (12, 60, 0.9)):
        band = (n >= lo) & (n < hi)
        observed = escalated[1:][band].mean()
        assert abs(observed - p) < 5 * np.sqrt(p * (1 - p) / band.sum())
    assert (zones_per[escalated[1:]] > 1).mean() > 0.35


def test_single_zone_picks_and_dirichlet_shares_follow_the_prior():
    priors = us_priors()
    ids = np.arange(1, 20001, dtype=np.uint64)
    singles = plan_zones(ids, np.ones(20000, np.int64), priors, POLICY, keys)
    shares = np.bincount(singles.zone, minlength=4) / 20000
    assert np.abs(shares - priors.share).max() < 0.015
    big = plan_zones(ids[:3000], np.full(3000, 200), priors, POLICY, keys)
    mass = np.bincount(big.zone, weights=big.n_sites, minlength=4) / big.n_sites.sum()
    assert np.abs(mass - priors.share).max() < 0.02  # E[Dirichlet(c·p)] = p


def test_plan_of_a_merchant_does_not_depend_on_the_others():
    n = np.random.default_rng(2).integers(1, 40, 1000)
    ids = np.arange(1, 1001, dtype=np.uint64)
    whole = plan_zones(ids, n, us_priors(), POLICY, keys)
    order = np.random.default_rng(3).permutation(1000)[:400]
    part = plan_zones(ids[order], n[order], us_priors(), POLICY, keys)
    keep = np.isin(whole.merchant_id, ids[order])
    for field in ("merchant_id", "zone", "n_sites", "escalated"):
        assert (getattr(whole, field)[keep] == getattr(part, field)).all(), field


def test_one_zone_country_never_escalates():
    priors = zone_priors("GB", ["Europe/London"], np.array([6.7e7]), 0.01)
    plan = plan_zones(np.arange(1, 101, dtype=np.uint64), np.full(100, 50), priors, POLICY, keys)
    assert not plan.escalated.any() and (plan.n_sites == 50).all()
