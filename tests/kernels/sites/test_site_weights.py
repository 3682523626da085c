"""Segment 2B kernels: heterogeneous site popularity within a merchant-zone, mean-one day shocks."""

from pathlib import Path

import numpy as np
import yaml

from engine_assets.run.policies import parse_routing
from engine_kernels.randomness.streams import label_key
from engine_kernels.sites.weights import SHAPES, day_effects, site_weights

POLICY = parse_routing(yaml.safe_load((Path(__file__).parents[3] / "config/policies/2b.yaml").read_text())).model


def keys(label):
    return label_key(3, "12" * 32, label)


def groups(sizes):
    sizes = np.asarray(sizes)
    offsets = np.concatenate(([0], np.cumsum(sizes)))
    return (np.arange(1, sizes.size + 1, dtype=np.uint64), ["Zone/A"] * sizes.size, offsets,
            np.arange(1, offsets[-1] + 1, dtype=np.uint64))


def test_weights_sum_to_one_with_caps_and_runner_up_floor():
    sizes = np.random.default_rng(1).integers(1, 80, 2000)
    ids, zones, offsets, sites = groups(sizes)
    w, shape, _ = site_weights(ids, zones, offsets, sites, "US", POLICY, keys)
    sums = np.add.reduceat(w, offsets[:-1])
    assert np.allclose(sums, 1.0, atol=1e-12) and (w > 0).all()
    band = POLICY.band(sizes)
    for g in np.flatnonzero(sizes > 1):
        part = np.sort(w[offsets[g]:offsets[g + 1]])[::-1]
        assert part[0] <= POLICY.top_share_cap[band[g]] + 1e-12
        assert part[1] >= POLICY.runner_up_floor * part[0] - 1e-12
    assert (shape[sizes == 1] == 0).all() and set(shape[sizes > 1]) == {1, 2, 3}


def test_shapes_follow_the_mixture_and_differ():
    ids, zones, offsets, sites = groups(np.full(6000, 4))
    w, shape, _ = site_weights(ids, zones, offsets, sites, "US", POLICY, keys)
    share = np.bincount(shape, minlength=4)[1:] / 6000
    assert np.abs(share - POLICY.mixture[0]).max() < 0.03
    top = w.reshape(-1, 4).max(axis=1)
    assert top[shape == 1].mean() > top[shape == 2].mean() > top[shape == 3].mean() > 0.25
    assert SHAPES[int(np.bincount(shape).argmax())] in SHAPES


def test_median_top_share_of_multi_site_groups_in_its_corridor():
    sizes = np.random.default_rng(2).choice([2, 3, 4, 6, 10, 25, 60], 3000, p=[.3, .2, .15, .12, .1, .08, .05])
    ids, zones, offsets, sites = groups(sizes)
    w, _, _ = site_weights(ids, zones, offsets, sites, "US", POLICY, keys)
    top = np.maximum.reduceat(w, offsets[:-1])
    assert 0.25 <= np.median(top) <= 0.6


def test_a_groups_weights_do_not_depend_on_other_groups():
    ids, zones, offsets, sites = groups([3, 5, 7])
    w, _, _ = site_weights(ids, zones, offsets, sites, "US", POLICY, keys)
    alone, _, _ = site_weights(ids[1:2], zones[1:2], np.array([0, 5]), sites[3:8], "US", POLICY, keys)
    assert (alone == w[3:8]).all()


def test_day_effects_mean_one_clipped_and_keyed_on_the_date():
    gamma, words = day_effects(np.arange(1, 501, dtype=np.uint64), ["Zone/A"] * 500, np.full(500, 2), 739_000, 90,
                               "US", POLICY, keys)
    assert gamma.shape == (500, 90) and np.allclose(gamma.mean(axis=1), 1.0, atol=1e-12)
    assert gamma.min() > 0.4 and gamma.max() < 2.6 and 0.2 < np.log(gamma).std() < 0.5
    later, _ = day_effects(np.arange(1, 501, dtype=np.uint64), ["Zone/A"] * 500, np.full(500, 2), 739_001, 89,
                           "US", POLICY, keys)
    # The same date draws the same shock (before the horizon's own mean-one scaling).
    ratio = gamma[:, 1:] / later
    assert np.allclose(ratio, ratio[:, :1])
    assert words["2b.day_effect"] == 4 * 500 * 90
