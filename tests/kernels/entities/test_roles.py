"""Risk and fraud roles (engine_kernels/entities/roles.py): tiers in exact shares, score-weighted
picks, the odds ratio of risky items, fraud rings and risky merchants."""

import dataclasses

import numpy as np
import pytest

from engine_kernels.entities.roles import draw_rings, merchant_roles, propagate, risk_scores, risk_tiers, weighted_pick
from engine_kernels.ids import entity_ids
from engine_kernels.tables.integerise import largest_remainder
from engine_kernels.vocabulary import RISK_TIERS, SEGMENTS

CI = 77


def _ids(kind, n, ci=CI):
    return entity_ids(kind, ci, np.arange(1, n + 1, dtype=np.uint64))


@pytest.mark.parametrize("n", [0, 1, 33, 10_001])
def test_risk_tiers_take_exact_shares_and_rise_with_the_score(policy, n):
    score = np.random.default_rng(n).standard_normal(n)
    tier = risk_tiers(score, policy.fraud.tier_shares)
    assert tier.shape == (n,)
    if n == 0:
        return
    assert np.bincount(tier, minlength=len(RISK_TIERS)).tolist() == largest_remainder(policy.fraud.tier_shares,
                                                                                      n).tolist()
    for k in range(len(RISK_TIERS) - 1):
        lower, upper = score[tier <= k], score[tier > k]
        if lower.size and upper.size:
            assert lower.max() <= upper.min()


def test_risk_scores_add_the_features_to_a_keyed_normal(policy, kit):
    n = 200_000
    ids = _ids("party", n)
    rng = np.random.default_rng(3)
    segment = rng.integers(0, len(SEGMENTS), n).astype(np.int8)
    tenure = rng.integers(0, 400, n)
    card, vpn = rng.random(n) < 0.5, rng.random(n) < 0.3
    score = risk_scores(segment, tenure, card, vpn, ids, policy.fraud, kit.make_draws())
    f = policy.fraud
    features = (f.segment_effect[segment] + f.tenure_per_log_year * np.log1p(tenure / 12)
                + f.has_credit_card * card + f.uses_vpn * vpn)
    noise = score - features
    assert noise.mean() == pytest.approx(0, abs=0.02) and noise.std() == pytest.approx(1, abs=0.02)
    assert np.corrcoef(noise, vpn)[0, 1] == pytest.approx(0, abs=0.02)
    # The noise is the party's own: the same ids give the same scores.
    again = risk_scores(segment, tenure, card, vpn, ids, policy.fraud, kit.make_draws())
    assert np.array_equal(score, again)


def test_weighted_pick_meets_its_expected_count_and_prefers_high_scores(kit):
    n, expected, slope = 400_000, 800.0, 0.8
    score = np.random.default_rng(1).standard_normal(n)
    u = kit.make_draws().uniform("test.pick", _ids("party", n))
    picked = weighted_pick(expected, score, slope, u)
    assert picked.sum() == pytest.approx(expected, abs=5 * np.sqrt(expected))
    # P ∝ exp(slope · score) tilts a standard normal's mean to `slope`.
    assert score[picked].mean() == pytest.approx(slope, abs=0.15)
    assert not weighted_pick(0.0, score, slope, u).any()
    assert weighted_pick(5.0, score[:0], slope, u[:0]).shape == (0,)
    # A flat slope picks uniformly; a probability never exceeds one.
    flat = weighted_pick(expected, score, 0.0, u)
    assert flat.sum() == pytest.approx(expected, abs=5 * np.sqrt(expected)) and abs(score[flat].mean()) < 0.15
    assert weighted_pick(float(n), score, slope, u).sum() < n


def test_propagation_realises_the_odds_ratio(policy, kit):
    n = 500_000
    risky_owner = np.arange(n) % 2 == 0
    risky = propagate(risky_owner, _ids("account", n), policy.fraud, kit.make_draws(), field=3)
    p1, p0 = risky[risky_owner].mean(), risky[~risky_owner].mean()
    odds = p1 / (1 - p1) / (p0 / (1 - p0))
    assert policy.fraud.odds_ratio == 1.75
    assert 1.6 <= odds <= 1.9
    assert p0 == pytest.approx(policy.fraud.base_share, abs=0.002)
    stronger = dataclasses.replace(policy.fraud, odds_ratio=4.0)
    risky = propagate(risky_owner, _ids("account", n), stronger, kit.make_draws(), field=3)
    p1, p0 = risky[risky_owner].mean(), risky[~risky_owner].mean()
    assert p1 / (1 - p1) / (p0 / (1 - p0)) == pytest.approx(4.0, rel=0.06)


def _rings(policy, kit, n_candidates, n_retail, ci=CI, fraud=None):
    fraud = fraud or policy.fraud
    candidates = np.arange(10, 10 + n_candidates) * 3  # party positions
    ids = _ids("party", n_candidates, ci)
    ring_ids = _ids("ring", 1 + int(np.ceil(fraud.rings_per_million * n_retail / 1e6)) + 1, ci)
    return candidates, draw_rings(candidates, ids, n_retail, lambda k: ring_ids[:k], ci, fraud, kit.make_draws())


def test_rings_have_one_organiser_and_their_associates_and_farms_in_range(policy, kit):
    candidates, rings = _rings(policy, kit, 5_000, 1_000_000)
    f = policy.fraud
    assert rings.n_rings == 60  # 60 per million retail parties, a whole number here
    assert np.unique(rings.member).shape[0] == rings.member.shape[0]
    assert np.isin(rings.member, candidates).all()
    size = np.bincount(rings.ring, minlength=rings.n_rings)
    assert (size >= 1 + f.ring_associates[0]).all() and (size <= 1 + f.ring_associates[1]).all()
    assert np.bincount(rings.ring[rings.organiser], minlength=rings.n_rings).tolist() == [1] * rings.n_rings
    first = np.r_[0, np.cumsum(size)[:-1]]
    assert rings.organiser[first].all() and (np.diff(rings.ring) >= 0).all()  # the organiser comes first
    assert rings.farm_devices.min() >= f.farm_devices[0] and rings.farm_devices.max() <= f.farm_devices[1]
    assert rings.ips_per_ring.min() >= f.ring_ips[0] and rings.ips_per_ring.max() <= f.ring_ips[1]
    assert set(rings.ip_hosted_type.tolist()) == {0, 1}


def test_rings_stop_at_the_candidates_and_keep_the_expected_count_on_average(policy, kit):
    _, few = _rings(policy, kit, 20, 1_000_000)
    assert few.member.shape[0] <= 20 and few.n_rings >= 2  # as many whole rings as 20 candidates allow
    assert few.member.shape[0] > 20 - (1 + policy.fraud.ring_associates[1])
    # 41,667 retail parties expect 2.5 rings: 2 or 3 by each country's own draw, 2.5 on average.
    counts = np.array([_rings(policy, kit, 60, 41_667, ci=ci)[1].n_rings for ci in range(40)])
    assert set(counts.tolist()) == {2, 3}
    assert counts.mean() == pytest.approx(2.5, abs=4 * 0.5 / np.sqrt(40))
    _, none = _rings(policy, kit, 0, 1_000_000)
    assert none.n_rings == 0 and none.member.shape == (0,)


def test_merchants_of_risky_mccs_are_flagged_far_more_often(policy, kit):
    n = 200_000
    mcc = np.where(np.arange(n) % 2 == 0, 5967, 5411)
    risky, collusive = merchant_roles(np.arange(1, n + 1, dtype=np.uint64), mcc, policy.fraud, kit.make_draws())
    f = policy.fraud
    assert 5967 in f.risky_mccs and 5411 not in f.risky_mccs
    on_risky, on_other = risky[mcc == 5967].mean(), risky[mcc == 5411].mean()
    assert on_risky == pytest.approx(f.risky_mcc_share, abs=0.01)
    assert on_other == pytest.approx(f.risky_other_share, abs=0.003)
    assert on_risky > 20 * on_other
    assert collusive.mean() == pytest.approx(f.collusive_share, abs=0.001)
