"""Segment 3B kernels: classification, settlement by rank band, edge profiles and country mixes."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from engine_assets.run.policies import parse_virtual
from engine_kernels.randomness.streams import label_key
from engine_kernels.sites.virtual import classify, draw_edges, internet_adoption, settle

POLICY = parse_virtual(yaml.safe_load((Path(__file__).parents[3] / "config/policies/3b.yaml").read_text())).model


def keys(label):
    return label_key(5, "34" * 32, label)


def test_classes_follow_sector_and_channel():
    sector = np.array(["digital", "digital", "retail", "retail", "grocery"], dtype=object)
    channel = np.array(["card_not_present", "card_present", "card_not_present", "card_present", "card_not_present"])
    assert classify(sector, channel, POLICY).tolist() == [1, 0, 2, 0, 0]


def test_settlement_rank_bands():
    n = 20_000
    pick = settle(np.arange(1, n + 1, dtype=np.uint64), np.full(n, 100), np.full(n, 50), POLICY, keys) - 100
    assert pick.min() >= 0 and pick.max() < 20
    assert abs((pick == 0).mean() - 0.5) < 0.02 and abs(((pick >= 1) & (pick < 5)).mean() - 0.3) < 0.02
    small = settle(np.arange(1, 101, dtype=np.uint64), np.zeros(100, np.int64), np.full(100, 2), POLICY, keys)
    assert set(small.tolist()) <= {0, 1}


def test_adoption_is_half_at_the_midpoint_and_rises():
    share = internet_adoption(np.array([343.0, 3430.0, 34300.0]), POLICY)
    assert share[1] == pytest.approx(0.5) and share[0] < 0.2 < 0.8 < share[2]


def test_edges_follow_profiles_and_locality():
    n = 3000
    # Two countries at the settlement (0, 0) and far away (0, 120) with equal people; the far one richer.
    edges = draw_edges(np.arange(1, n + 1, dtype=np.uint64), np.zeros(n), np.zeros(n), np.array([0.0, 0.0]),
                       np.array([0.0, 120.0]), np.array([1e8, 1e8]), np.array([2000.0, 60000.0]), POLICY, keys)
    counts = np.diff(edges.offsets)
    assert counts.min() >= 6 and counts.max() <= 58 and counts.std() / counts.mean() > 0.25
    near_share = np.array([(edges.country[edges.offsets[i]:edges.offsets[i + 1]] == 0).mean() for i in range(n)])
    for p in range(3):  # more locality, more edges at home
        assert near_share[edges.profile == p].mean() > (0.6 if p == 0 else 0.2)
    assert near_share[edges.profile == 0].mean() > near_share[edges.profile == 2].mean() + 0.3
    sums = np.add.reduceat(edges.weight, edges.offsets[:-1])
    assert np.allclose(sums, 1.0)
