"""Philox4x32-10 known answers, key derivation and substream uniforms."""

import hashlib

import numba
import numpy as np
import pytest
from scipy import stats

from engine_kernels.randomness import streams as rng

PARAMETER_HASH = "0123456789abcdef" * 4

# Random123 kat_vectors, philox4x32 with 10 rounds: (counter, key, output).
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    (
        (0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF),
        (0xFFFFFFFF, 0xFFFFFFFF),
        (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
    ),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.fixture
def thread_counts():
    """Run a body at 1 and then 2 numba threads, restoring the previous setting."""
    before = numba.get_num_threads()
    counts = [c for c in (1, 2) if c <= numba.config.NUMBA_NUM_THREADS]
    yield counts
    numba.set_num_threads(before)


@pytest.mark.parametrize(("counter", "key", "expected"), KNOWN_ANSWERS)
def test_philox_known_answers(counter, key, expected):
    assert tuple(int(w) for w in rng.philox4x32(*counter, *key)) == expected


def test_philox_many_matches_known_answers():
    for counter, key, expected in KNOWN_ANSWERS:
        out = rng.philox4x32_many(np.array([counter, counter], np.uint32), np.array(key, np.uint32))
        assert out.dtype == np.uint32
        assert out.tolist() == [list(expected)] * 2


def test_stream_matches_randomgen_philox4x32():
    randomgen = pytest.importorskip("randomgen")
    key = rng.derive_key(7, PARAMETER_HASH, "randomgen")
    # randomgen increments its 128-bit counter before each block, so start one below 0.
    bit_gen = randomgen.Philox(counter=2**128 - 1, key=key, number=4, width=32)
    raw = bit_gen.random_raw(64).astype(np.uint32)
    state = rng.new_state(key)
    assert [int(rng.next_u32(state)) for _ in range(64)] == raw.tolist()


def test_label_key_encoding():
    payload = b"".join(
        len(f).to_bytes(8, "big") + f for f in (5 .to_bytes(8, "big"), PARAMETER_HASH.encode(), "événement".encode())
    )
    expected = int.from_bytes(hashlib.sha256(payload).digest()[:8], "big")
    assert rng.label_key(5, PARAMETER_HASH, "événement") == expected
    assert rng.label_key(5, PARAMETER_HASH, "a") != rng.label_key(6, PARAMETER_HASH, "a")
    assert rng.label_key(2**64 - 1, PARAMETER_HASH, "a") != rng.label_key(0, PARAMETER_HASH, "a")


@pytest.mark.parametrize(
    ("args", "bad"),
    [
        ((-1, PARAMETER_HASH, "x"), "seed"),
        ((2**64, PARAMETER_HASH, "x"), "seed"),
        ((1.0, PARAMETER_HASH, "x"), "seed"),
        ((1, PARAMETER_HASH.upper(), "x"), "parameter_hash"),
        ((1, PARAMETER_HASH[:-1], "x"), "parameter_hash"),
        ((1, PARAMETER_HASH, ""), "label"),
    ],
)
def test_label_key_validation(args, bad):
    with pytest.raises(ValueError, match=bad):
        rng.label_key(*args)


def test_derive_key_folds_ids_in_order():
    base = rng.label_key(3, PARAMETER_HASH, "merchants")
    assert rng.derive_key(3, PARAMETER_HASH, "merchants") == base
    k12 = rng.derive_key(3, PARAMETER_HASH, "merchants", 1, 2)
    assert k12 != rng.derive_key(3, PARAMETER_HASH, "merchants", 2, 1)
    assert k12 != rng.derive_key(3, PARAMETER_HASH, "merchants", 1)
    assert rng.derive_key(3, PARAMETER_HASH, "m", "FR") == rng.derive_key(3, PARAMETER_HASH, "m", rng.text_id("FR"))
    assert rng.text_id("FR") == int.from_bytes(hashlib.sha256(b"FR").digest()[:8], "big")
    with pytest.raises(ValueError, match=r"ids\[1\]"):
        rng.derive_key(3, PARAMETER_HASH, "m", 1, -5)


def test_derive_key_single_fold_by_hand():
    base = rng.label_key(3, PARAMETER_HASH, "x")
    ident = 0x0123456789ABCDEF
    w = rng.philox4x32(0x89ABCDEF, 0x01234567, 0, 0x5EED1D5, base & 0xFFFFFFFF, base >> 32)
    assert rng.derive_key(3, PARAMETER_HASH, "x", ident) == int(w[0]) + (int(w[1]) << 32)


def test_unit_keys_equal_derive_key():
    gen = np.random.default_rng(11)
    ids = gen.integers(0, 2**64, size=(300, 3), dtype=np.uint64)
    ids[0] = [0, 0, 0]
    ids[1] = [2**64 - 1] * 3
    base = rng.label_key(9, PARAMETER_HASH, "units")
    keys = rng.unit_keys(base, ids)
    assert keys.dtype == np.uint64
    expected = [rng.derive_key(9, PARAMETER_HASH, "units", *map(int, row)) for row in ids]
    assert keys.tolist() == expected
    assert len(set(keys.tolist())) == len(keys)
    with pytest.raises(ValueError, match="ids"):
        rng.unit_keys(base, np.array([[1], [-1]]))


def test_state_words_and_counter_offset():
    key = rng.derive_key(1, PARAMETER_HASH, "stream")
    state = rng.new_state(key)
    words = [int(rng.next_u32(state)) for _ in range(12)]
    assert rng.words_used(state) == 12
    blocks = [int(w) for b in range(3) for w in rng.stream_block(key, b)]
    assert words == blocks
    shifted = rng.new_state(key, 2)
    assert [int(rng.next_u32(shifted)) for _ in range(4)] == words[8:]


def test_next_double_uses_52_bits():
    key = rng.derive_key(1, PARAMETER_HASH, "double")
    words = rng.new_state(key)
    doubles = rng.new_state(key)
    for _ in range(20):
        hi, lo = int(rng.next_u32(words)), int(rng.next_u32(words))
        m = (hi << 20) | (lo >> 12)
        assert rng.next_double(doubles) == (m + 0.5) * 2.0**-52
    assert rng.words_used(doubles) == 40
    # 52 bits keep the largest value below 1; 53 bits would round it up to 1.
    assert (2**52 - 1 + 0.5) * 2.0**-52 == 1.0 - 2.0**-53
    assert (2**53 - 1 + 0.5) * 2.0**-53 == 1.0


def test_uniforms_equal_scalar_path():
    key = rng.derive_key(2, PARAMETER_HASH, "uniforms")
    for counter in (0, 5, 2**40):
        state = rng.new_state(key, counter)
        expected = [rng.next_uniform(state) for _ in range(23)]
        assert rng.uniforms(key, 23, counter).tolist() == expected
    keys = rng.unit_keys(key, np.arange(7)[:, None])
    table = rng.unit_uniforms(keys, 10, counter=3)
    assert table.shape == (7, 10)
    for i, k in enumerate(keys):
        assert table[i].tolist() == rng.uniforms(int(k), 10, 3).tolist()
    assert rng.uniforms(key, 0).shape == (0,)


def test_uniforms_independent_of_thread_count(thread_counts):
    key = rng.derive_key(2, PARAMETER_HASH, "threads")
    keys = rng.unit_keys(key, np.arange(5000)[:, None])
    runs = []
    for count in thread_counts:
        numba.set_num_threads(count)
        runs.append(
            (
                rng.uniforms(key, 100_003).tobytes(),
                rng.unit_uniforms(keys, 9).tobytes(),
                rng.unit_keys(key, np.arange(5000)[:, None]).tobytes(),
            )
        )
    assert all(run == runs[0] for run in runs)


def test_uniforms_distribution():
    u = rng.uniforms(rng.derive_key(4, PARAMETER_HASH, "ks"), 1_000_000)
    assert u.min() > 0.0 and u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-4
    # Mean within 6 standard errors (sd of U(0,1) is 1/sqrt(12)).
    assert abs(u.mean() - 0.5) < 6 / np.sqrt(12 * u.size)


def test_uniform_extremes_are_open():
    assert rng._u32_to_open(np.uint32(0)) == 2.0**-33
    assert rng._u32_to_open(np.uint32(2**32 - 1)) == 1.0 - 2.0**-33


def test_argument_validation():
    with pytest.raises(ValueError, match="key"):
        rng.uniforms(-1, 3)
    with pytest.raises(ValueError, match="n"):
        rng.uniforms(1, -3)
    with pytest.raises(ValueError, match="keys"):
        rng.unit_uniforms(np.array([1, 2]), 3)
    with pytest.raises(ValueError, match="counters"):
        rng.philox4x32_many(np.zeros((2, 3), np.uint32), np.zeros(2, np.uint32))
