"""Alias tables: exact reconstruction of the weights and sampling frequencies."""

import numpy as np
import pytest
from scipy import stats

from engine_kernels.randomness import streams as rng
from engine_kernels.tables import alias

PARAMETER_HASH = "00112233445566778899aabbccddeeff" * 2


def random_groups(gen, groups):
    """Ragged weights mixing zeros, singletons and extreme skews."""
    sizes = gen.integers(1, 40, groups)
    sizes[:3] = 1
    weights = []
    for size in sizes:
        kind = gen.integers(0, 4)
        if kind == 0:
            w = gen.random(size)
        elif kind == 1:
            w = gen.random(size) * (gen.random(size) < 0.4)
        elif kind == 2:
            w = np.where(gen.random(size) < 0.5, 1e-12, 1.0)
        else:
            w = 10.0 ** gen.uniform(-300, 300, size)
        if not (w > 0).any():
            w[gen.integers(0, size)] = gen.random() + 0.1
        weights.append(w)
    return np.concatenate(weights), np.concatenate(([0], np.cumsum(sizes)))


def normalised(weights, offsets):
    out = np.empty_like(weights)
    for g in range(offsets.size - 1):
        w = weights[offsets[g] : offsets[g + 1]]
        out[offsets[g] : offsets[g + 1]] = (w / w.max()) / (w / w.max()).sum()
    return out


def test_reconstruction_matches_normalised_weights():
    gen = np.random.default_rng(2024)
    for _ in range(20):
        weights, offsets = random_groups(gen, 200)
        prob, table = alias.build_alias_tables(weights, offsets)
        assert prob.dtype == np.float64 and table.dtype == np.int32
        assert ((prob >= 0) & (prob <= 1)).all()
        sizes = np.diff(offsets)
        group_of = np.repeat(np.arange(sizes.size), sizes)
        assert ((table >= 0) & (table < sizes[group_of])).all()
        implied = alias.reconstruct_probabilities(prob, table, offsets)
        np.testing.assert_allclose(implied, normalised(weights, offsets), rtol=0, atol=1e-9)
        zero = weights == 0
        assert (prob[zero] == 0).all()
        assert (implied[zero] == 0).all()


def test_single_entry_and_skewed_tables():
    prob, table = alias.build_alias_tables(np.array([5.0, 1e-12, 1.0, 0.0, 2.0]), np.array([0, 1, 3, 5]))
    assert prob[0] == 1.0 and table[0] == 0
    implied = alias.reconstruct_probabilities(prob, table, [0, 1, 3, 5])
    np.testing.assert_allclose(implied, [1.0, 1e-12 / (1 + 1e-12), 1 / (1 + 1e-12), 0.0, 1.0], rtol=1e-12, atol=0)


def test_pick_frequencies_reproduce_weights():
    weights = np.array([0.5, 0.0, 3.0, 1.0, 0.25, 2.0, 0.0, 1.25])
    offsets = np.array([0, 8])
    prob, table = alias.build_alias_tables(weights, offsets)
    n = 2_000_000
    u = rng.uniforms(rng.label_key(1, PARAMETER_HASH, "alias-chi2"), n)
    picks = alias.alias_pick_many(prob, table, offsets, np.zeros(n, np.int64), u)
    counts = np.bincount(picks, minlength=8)
    assert counts[weights == 0].sum() == 0
    positive = weights > 0
    assert stats.chisquare(counts[positive], n * weights[positive] / weights.sum()).pvalue > 1e-4


def test_picks_never_return_zero_weight_entries():
    gen = np.random.default_rng(7)
    weights, offsets = random_groups(gen, 500)
    prob, table = alias.build_alias_tables(weights, offsets)
    n = 500_000
    groups = gen.integers(0, offsets.size - 1, n)
    u = rng.uniforms(rng.label_key(1, PARAMETER_HASH, "alias-zero"), n)
    picks = alias.alias_pick_many(prob, table, offsets, groups, u)
    assert ((picks >= 0) & (picks < np.diff(offsets)[groups])).all()
    assert (weights[offsets[groups] + picks] > 0).all()
    # The extreme uniforms map into range as well.
    edge = alias.alias_pick_many(prob, table, offsets, groups[:2], np.array([0.0, np.nextafter(1.0, 0.0)]))
    assert (weights[offsets[groups[:2]] + edge] > 0).all()


def test_scalar_pick_matches_vectorised():
    weights = np.array([1.0, 2.0, 3.0, 0.0, 4.0])
    offsets = np.array([0, 2, 5])
    prob, table = alias.build_alias_tables(weights, offsets)
    u = np.linspace(0.0, 0.999, 101)
    many = alias.alias_pick_many(prob, table, offsets, np.ones(101, np.int64), u)
    assert many.tolist() == [alias.alias_pick(prob, table, 2, 3, x) for x in u]


@pytest.mark.parametrize(
    ("weights", "offsets", "pattern"),
    [
        ([1.0, 0.0, 0.0, 2.0], [0, 1, 3, 4], "group 1"),
        ([1.0, np.inf, 2.0], [0, 2, 3], "group 0"),
        ([1.0, 1.0, np.nan], [0, 2, 3], "group 1"),
        ([1.0, -1.0, 2.0], [0, 2, 3], "group 0"),
        ([1.0, 2.0], [0, 2, 2], "group 1"),
        ([1.0, 2.0], [0, 3], "offsets"),
        ([1.0, 2.0], [0, 2, 1, 2], "offsets"),
    ],
)
def test_invalid_groups_are_named(weights, offsets, pattern):
    with pytest.raises(ValueError, match=pattern):
        alias.build_alias_tables(np.array(weights), np.array(offsets))


def test_pick_validation():
    prob, table = alias.build_alias_tables(np.ones(4), np.array([0, 4]))
    with pytest.raises(ValueError, match="u must be"):
        alias.alias_pick_many(prob, table, [0, 4], np.zeros(1, np.int64), np.array([1.0]))
    with pytest.raises(ValueError, match="groups must be"):
        alias.alias_pick_many(prob, table, [0, 4], np.array([1]), np.array([0.5]))
