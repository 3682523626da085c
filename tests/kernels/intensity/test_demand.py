"""5A demand kernel: classes, Pareto volumes per merchant, zone roles, calibration."""

import numpy as np
import pytest

from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.policies import parse_demand
from engine_kernels.intensity.demand import (
    ShareTargets,
    calibrate,
    classify_demand,
    per_site_volume,
    raw_weekly_volume,
    zone_roles,
)
from engine_kernels.randomness.streams import derive_key
from engine_kernels.vocabulary import DEMAND_CLASSES

CONTENT = read_yaml(CONFIG_DIR / "policies/5a.yaml")
POLICY = parse_demand(CONTENT)


def keys(label):
    return derive_key(7, "ab" * 32, label)


def test_shops_follow_sector_and_channel_and_online_merchants_get_online_classes():
    sector = ["restaurants", "restaurants", "retail", "digital", "services"]
    channel = ["card_present", "card_present", "card_not_present", "card_not_present", "card_present"]
    online = np.array([False, True, True, True, False])
    names = [DEMAND_CLASSES[i] for i in classify_demand(sector, channel, online, POLICY)]
    assert names == ["evening_weekend", "online_bursty", "online_bursty", "online_24h", "office_hours"]


def test_per_site_volume_is_pareto_with_the_class_median_and_clip():
    n = 200_000
    klass = np.full(n, DEMAND_CLASSES.index("consumer_daytime"), np.int8)
    x, draws = per_site_volume(np.arange(1, n + 1), klass, POLICY, keys)
    spec = CONTENT["volumes"]["per_site"]["consumer_daytime"]
    assert draws == {"5a.volume": n}
    assert np.median(x) == pytest.approx(spec["median"], rel=0.01)
    # Pareto tail: P(X > k · median) = P(X > median) · k^-α = k^-α / 2.
    assert (x > 4 * spec["median"]).mean() == pytest.approx(0.5 * 4.0 ** -spec["alpha"], rel=0.05)
    assert x.max() <= spec["clip"] and (x == spec["clip"]).any()
    again, _ = per_site_volume(np.arange(1, n + 1)[::-1], klass, POLICY, keys)
    assert np.array_equal(again[::-1], x)  # keyed on the merchant, not on its position


def test_zone_roles_rank_a_merchants_zones_by_sites():
    merchant = np.array([1, 1, 1, 1, 2])
    sites = np.array([2, 10, 1, 10, 3])
    zone = np.array(["b", "c", "d", "a", "z"])
    roles = zone_roles(merchant, sites, zone, POLICY)
    # 23 sites: "a" wins the tie with "c" by key; "b" holds 2/23 < 10% and is tail like "d".
    assert roles.tolist() == [2, 1, 2, 0, 0]


def test_raw_weekly_volume_is_site_volume_times_sites_and_role():
    volume = raw_weekly_volume(np.array([100.0, 100.0, 40.0]), np.array([3, 3, 1]), np.array([0, 2, 1]), POLICY)
    roles = CONTENT["volumes"]["zone_role"]["multiplier"]
    assert volume.tolist() == pytest.approx([300.0 * roles["primary"], 300.0 * roles["tail"], 40.0 * roles["secondary"]])


WEEKDAYS = np.array([13, 13, 13, 13, 12, 13, 13])
TARGETS = ShareTargets(1e6, 0.055, 0.20)


def _world(seed: int, rows: int = 60):
    """Pareto volumes; merchants online (virtual share 0.35 or 1, card-not-present), other
    card-not-present, or card-present."""
    rng = np.random.default_rng(seed)
    raw = rng.pareto(1.6, rows) + 1
    mass = rng.dirichlet(np.ones(7), rows)
    kind = rng.choice(4, rows, p=[0.1, 0.05, 0.15, 0.7])
    share = np.array([0.35, 1.0, 0.0, 0.0])[kind]
    return raw, mass, share, kind < 3


def _shares(raw, mass, share, cnp, m):
    e = m * raw * (mass @ WEEKDAYS)
    return e.sum(), np.sum(e * share) / e.sum(), e[cnp].sum() / e.sum()


def test_calibration_hits_the_total_and_both_shares_exactly():
    raw, mass, share, cnp = _world(3)
    m = calibrate(raw, mass, WEEKDAYS, share, cnp, TARGETS)
    assert _shares(raw, mass, share, cnp, m) == pytest.approx((1e6, 0.055, 0.20), rel=1e-12)
    # One multiplier per group: the Pareto draws still rank merchants within it.
    for group in (share > 0, cnp & (share == 0), ~cnp):
        assert len(np.unique(m[group])) == 1
    with pytest.raises(ValueError, match="no expected demand"):
        calibrate(np.zeros(3), mass[:3], WEEKDAYS, share[:3], cnp[:3], TARGETS)


def test_the_shares_hold_whatever_heavy_online_merchant_a_seed_draws():
    uncalibrated, calibrated = [], []
    for seed in range(20):
        raw, mass, share, cnp = _world(seed, 200)
        uncalibrated.append(_shares(raw, mass, share, cnp, 1.0)[1:])
        calibrated.append(_shares(raw, mass, share, cnp, calibrate(raw, mass, WEEKDAYS, share, cnp, TARGETS))[1:])
    spread = np.ptp(np.array(uncalibrated), axis=0)
    assert spread[0] > 0.03 and spread[1] > 0.1  # a seed's heavy merchants move both shares by points
    assert np.array(calibrated) == pytest.approx(np.tile([0.055, 0.20], (20, 1)), rel=1e-12)


def test_a_world_missing_a_group_gets_its_total_and_the_shares_its_merchants_make():
    raw, mass, share, cnp = _world(5)
    # No online merchants: the card-not-present share is still pinned, the virtual share is 0.
    m = calibrate(raw, mass, WEEKDAYS, np.zeros(raw.size), cnp, TARGETS)
    assert _shares(raw, mass, np.zeros(raw.size), cnp, m) == pytest.approx((1e6, 0.0, 0.20), rel=1e-12)
    # Card-present merchants only: one multiplier.
    m = calibrate(raw, mass, WEEKDAYS, np.zeros(raw.size), np.zeros(raw.size, bool), TARGETS)
    assert len(np.unique(m)) == 1 and _shares(raw, mass, share, cnp, m)[0] == pytest.approx(1e6, rel=1e-12)


def test_shares_the_online_merchants_cannot_carry_are_refused():
    raw, mass, share, cnp = _world(7)
    # 30% of arrivals virtual needs more card-not-present arrivals than a 20% share allows.
    with pytest.raises(ValueError, match="the card-not-present share must exceed"):
        calibrate(raw, mass, WEEKDAYS, share, cnp, ShareTargets(1e6, 0.30, 0.20))
