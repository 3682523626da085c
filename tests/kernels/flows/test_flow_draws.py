"""Keyed uniforms of the flow kernels (engine_kernels/flows/draws.py): a unit's key is the engine's
derive_key, its uniforms are deterministic, on (0, 1), uniform, and unrelated across units."""

import numpy as np
from numba import njit
from scipy import stats

from engine_kernels.flows.draws import block_uniforms, unit_key
from engine_kernels.randomness.streams import derive_key

SEED, HASH = 7, "ab" * 32


@njit(cache=False)
def _stream(label_key, a, b, blocks):
    """The first 4 x blocks uniforms of unit (a, b)."""
    key = unit_key(label_key, a, b)
    out = np.empty(4 * blocks)
    for j in range(blocks):
        u = block_uniforms(key, j)
        for r in range(4):
            out[4 * j + r] = u[r]
    return out


@njit(cache=False)
def _first_uniforms(label_key, a):
    """Uniform 0 of block 0 of units (a[i], 0)."""
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = block_uniforms(unit_key(label_key, a[i], np.uint64(0)), 0)[0]
    return out


def test_unit_key_is_derive_key_of_the_two_ids(key):
    """Folding (a, b) into a label key inside numba equals derive_key(seed, hash, label, a, b)."""
    for a, b in [(0, 0), (1, 0), (0, 1), (123_456_789, 42), (2**64 - 1, 2**40 + 3)]:
        got = unit_key(np.uint64(key("6b.test")), np.uint64(a), np.uint64(b))
        assert int(got) == derive_key(SEED, HASH, "6b.test", a, b), (a, b)


def test_unit_key_depends_on_order_and_label(key):
    k = np.uint64(key("6b.test"))
    assert unit_key(k, np.uint64(1), np.uint64(2)) != unit_key(k, np.uint64(2), np.uint64(1))
    assert unit_key(k, np.uint64(1), np.uint64(2)) != unit_key(np.uint64(key("6b.other")), np.uint64(1), np.uint64(2))


def test_block_uniforms_are_deterministic_and_inside_the_open_interval(key):
    k = np.uint64(key("6b.test"))
    first, again = _stream(k, np.uint64(5), np.uint64(9), 256), _stream(k, np.uint64(5), np.uint64(9), 256)
    assert first.tolist() == again.tolist()
    assert (first > 0).all() and (first < 1).all()
    assert np.unique(first).size == first.size
    # Extreme words map strictly inside (0, 1): (w + 0.5) / 2^32.
    assert 0 < block_uniforms(np.uint64(0), 0)[0] < 1


def test_distinct_units_and_blocks_give_different_streams(key):
    k = np.uint64(key("6b.test"))
    streams = [_stream(k, np.uint64(a), np.uint64(b), 4) for a, b in [(1, 0), (2, 0), (1, 1), (0, 1)]]
    for i in range(len(streams)):
        for j in range(i + 1, len(streams)):
            assert not np.isin(streams[i], streams[j]).any(), (i, j)
    one = _stream(k, np.uint64(1), np.uint64(0), 2)
    assert one[:4].tolist() != one[4:].tolist()


def test_uniforms_within_one_unit_are_uniform(key):
    """200,000 uniforms from the blocks of one unit pass a Kolmogorov-Smirnov test, and their
    lag-1 correlation is near zero."""
    u = _stream(np.uint64(key("6b.test")), np.uint64(77), np.uint64(3), 50_000)
    assert stats.kstest(u, "uniform").pvalue > 0.01
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01


def test_first_uniform_across_consecutive_units_is_uniform(key):
    """The first uniform of units 0..199,999 (what a kernel reads per arrival) is uniform, and the
    first uniforms of neighbouring unit ids are uncorrelated."""
    u = _first_uniforms(np.uint64(key("6b.test")), np.arange(200_000, dtype=np.uint64))
    assert stats.kstest(u, "uniform").pvalue > 0.01
    counts = np.bincount((u * 20).astype(int), minlength=20)
    assert stats.chisquare(counts).pvalue > 0.01
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
