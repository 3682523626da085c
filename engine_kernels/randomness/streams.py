"""Philox4x32-10 counter-based random numbers and keyed substreams.

Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3",
SC'11) is a bijection of a 128-bit counter under a 64-bit key.  One round maps
the counter words (x0, x1, x2, x3) under key words (k0, k1) to

    (hi(M1·x2) ^ x1 ^ k0,  lo(M1·x2),  hi(M0·x0) ^ x3 ^ k1,  lo(M0·x0))

with M0 = 0xD2511F53, M1 = 0xCD9E8D57 and hi/lo the upper/lower 32 bits of
the exact 64-bit product.  Between rounds the key is bumped by the Weyl
constants (0x9E3779B9, 0xBB67AE85) modulo 2^32; ten rounds make one block.

A *substream* is identified by a 64-bit key.  Its block number b (64 bits)
is the counter (lo32(b), hi32(b), 0, 0), its key words are
(lo32(key), hi32(key)), and its word stream is the four output words of
block `counter`, then of block `counter + 1`, and so on, in order.  Because a
word depends only on (key, block), any unit can be drawn on any thread and
the result never depends on scheduling or thread count.

Keys are derived, never chosen: `label_key` hashes (seed, parameter hash,
label) with SHA-256, and `derive_key`/`unit_keys` fold unit identifiers into
that key with Philox used as a keyed pseudo-random function.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
from numba import njit, prange

from engine_kernels.digest import length_prefixed_sha256

__all__ = [
    "STATE_SIZE",
    "as_u64",
    "derive_key",
    "fold_id",
    "label_key",
    "new_state",
    "next_double",
    "next_u32",
    "next_uniform",
    "philox4x32",
    "philox4x32_many",
    "seed_state",
    "stream_block",
    "text_id",
    "unit_keys",
    "unit_uniforms",
    "uniforms",
    "words_used",
]

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_ONE = np.uint64(1)
_THREE = np.uint64(3)
# Third counter word of every key-folding call: keeps the PRF inputs used for
# key derivation disjoint from the (b_lo, b_hi, 0, 0) counters of draw blocks.
_FOLD_TAG = np.uint64(0x5EED1D5)

_U64_LIMIT = 1 << 64
_HEX64 = re.compile(r"[0-9a-f]{64}")


# --------------------------------------------------------------------------
# The block function
# --------------------------------------------------------------------------


@njit(cache=True)
def philox4x32(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1).

    All arguments are taken modulo 2^32.  Returns the four output words as a
    tuple of uint32.  Products are formed in 64 bits so both halves of the
    32x32-bit multiplication are kept.
    """
    x0 = np.uint64(c0) & _MASK32
    x1 = np.uint64(c1) & _MASK32
    x2 = np.uint64(c2) & _MASK32
    x3 = np.uint64(c3) & _MASK32
    ka = np.uint64(k0) & _MASK32
    kb = np.uint64(k1) & _MASK32
    for _ in range(10):
        p0 = _M0 * x0
        p1 = _M1 * x2
        x0, x1, x2, x3 = (
            (p1 >> _SHIFT32) ^ x1 ^ ka,
            p1 & _MASK32,
            (p0 >> _SHIFT32) ^ x3 ^ kb,
            p0 & _MASK32,
        )
        ka = (ka + _W0) & _MASK32
        kb = (kb + _W1) & _MASK32
    return np.uint32(x0), np.uint32(x1), np.uint32(x2), np.uint32(x3)


@njit(cache=True, parallel=True)
def _philox_many_kernel(counters, k0, k1):
    n = counters.shape[0]
    out = np.empty((n, 4), np.uint32)
    for i in prange(n):
        w = philox4x32(counters[i, 0], counters[i, 1], counters[i, 2], counters[i, 3], k0, k1)
        out[i, 0] = w[0]
        out[i, 1] = w[1]
        out[i, 2] = w[2]
        out[i, 3] = w[3]
    return out


def philox4x32_many(counters: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Row-wise Philox4x32-10: out[i] = philox4x32(*counters[i], *key).

    counters is uint32[n, 4] and key is uint32[2]; returns uint32[n, 4].
    """
    counters = np.asarray(counters)
    key = np.asarray(key)
    if counters.dtype != np.uint32 or counters.ndim != 2 or counters.shape[1] != 4:
        raise ValueError(f"counters must be uint32[n, 4], got {counters.dtype}{list(counters.shape)}")
    if key.dtype != np.uint32 or key.shape != (2,):
        raise ValueError(f"key must be uint32[2], got {key.dtype}{list(key.shape)}")
    return _philox_many_kernel(np.ascontiguousarray(counters), key[0], key[1])


@njit(cache=True)
def stream_block(key, block):
    """Block `block` of substream `key`: Philox of (lo(block), hi(block), 0, 0)."""
    key = np.uint64(key)
    block = np.uint64(block)
    return philox4x32(block & _MASK32, block >> _SHIFT32, 0, 0, key & _MASK32, key >> _SHIFT32)


# --------------------------------------------------------------------------
# Key derivation
# --------------------------------------------------------------------------


def as_u64(value, name: str) -> int:
    """value as a Python int, after checking it is an integer in [0, 2^64)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {value!r}")
    value = int(value)
    if not 0 <= value < _U64_LIMIT:
        raise ValueError(f"{name} must be in [0, 2**64), got {value}")
    return value


def label_key(seed: int, parameter_hash: str, label: str) -> int:
    """64-bit key of a labelled substream family.

    key = first 8 bytes (big-endian) of SHA-256(F(seed) ‖ F(parameter_hash) ‖ F(label))
    where F(x) = len(x) as 8-byte big-endian ‖ x, the seed is encoded as an
    8-byte big-endian unsigned integer, parameter_hash as its 64-character
    lowercase hex text and label as UTF-8.
    """
    seed = as_u64(seed, "seed")
    if not isinstance(parameter_hash, str) or _HEX64.fullmatch(parameter_hash) is None:
        raise ValueError(f"parameter_hash must be 64 lowercase hex characters, got {parameter_hash!r}")
    if not isinstance(label, str) or not label:
        raise ValueError(f"label must be a non-empty string, got {label!r}")
    digest = length_prefixed_sha256(
        (seed.to_bytes(8, "big"), parameter_hash.encode("ascii"), label.encode("utf-8"))).digest()
    return int.from_bytes(digest[:8], "big")


def text_id(text: str) -> int:
    """64-bit identifier of a string: first 8 bytes (big-endian) of SHA-256(UTF-8)."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {text!r}")
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def derive_key(seed: int, parameter_hash: str, label: str, *ids) -> int:
    """Key of the substream (label, id_0, id_1, ...).

    Starting from k = label_key(seed, parameter_hash, label), each id at
    position p is folded in as

        (w0, w1, _, _) = philox4x32(lo(id), hi(id), p, 0x5EED1D5, lo(k), hi(k))
        k = w0 + 2^32·w1

    Philox under key k is a pseudo-random permutation of its counter, so
    distinct id tuples give unrelated keys, and the position word makes the
    fold order-sensitive ((1, 2) and (2, 1) differ).  Integer ids must lie in
    [0, 2^64); string ids are replaced by text_id(id).
    """
    key = label_key(seed, parameter_hash, label)
    for position, ident in enumerate(ids):
        if isinstance(ident, str):
            value = text_id(ident)
        else:
            value = as_u64(ident, f"ids[{position}]")
        w = philox4x32(value & 0xFFFFFFFF, value >> 32, position, int(_FOLD_TAG), key & 0xFFFFFFFF, key >> 32)
        key = int(w[0]) | (int(w[1]) << 32)
    return key


@njit(cache=True)
def fold_id(key, ident, position):
    """One step of unit_keys: fold identifier `ident` at `position` into key. Folding ids
    0..m-2 with unit_keys and then id m-1 here at position m-1 equals folding all m at once,
    so a hot loop can fold a shared prefix once and only the last id per unit."""
    w = philox4x32(ident & _MASK32, ident >> _SHIFT32, position, _FOLD_TAG, key & _MASK32, key >> _SHIFT32)
    return np.uint64(w[0]) | (np.uint64(w[1]) << _SHIFT32)


@njit(cache=True)
def _fold_ids(key, row):
    for position in range(row.shape[0]):
        key = fold_id(key, row[position], np.uint64(position))
    return key


# nogil: a writer thread (PublishQueue) encodes the previous partition while keys are derived.
@njit(cache=True, parallel=True, nogil=True)
def _unit_keys_kernel(base_key, ids):
    n = ids.shape[0]
    out = np.empty(n, np.uint64)
    for i in prange(n):
        out[i] = _fold_ids(base_key, ids[i])
    return out


def unit_keys(base_key: int, ids: np.ndarray) -> np.ndarray:
    """Vectorised derive_key: out[i] = fold of ids[i, 0..m-1] into base_key.

    ids is an integer array of shape (n, m) with values in [0, 2^64);
    out[i] equals derive_key(seed, parameter_hash, label, *ids[i]) when
    base_key = label_key(seed, parameter_hash, label).  Returns uint64[n].
    """
    base_key = as_u64(base_key, "base_key")
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise ValueError(f"ids must be a 2-D array (units x id fields), got shape {ids.shape}")
    if ids.dtype.kind == "i":
        if ids.size and ids.min() < 0:
            raise ValueError(f"ids must be non-negative; {int((ids < 0).sum())} values are negative")
    elif ids.dtype.kind != "u":
        raise ValueError(f"ids must have an integer dtype, got {ids.dtype}")
    return _unit_keys_kernel(np.uint64(base_key), np.ascontiguousarray(ids, dtype=np.uint64))


# --------------------------------------------------------------------------
# Stream state for sequential draws inside numba code
# --------------------------------------------------------------------------
#
# A stream state is a uint64[STATE_SIZE] array:
#   [0]     substream key
#   [1]     number of the next block to generate
#   [2]     words consumed since the state was seeded
#   [3..6]  the four words of the current block
# Seeding always starts at a block boundary, so the position inside the
# buffered block is words_used mod 4 and needs no slot of its own.

STATE_SIZE = 7


@njit(cache=True)
def seed_state(state, key, counter):
    """(Re)initialise `state` in place to the start of block `counter` of `key`."""
    state[0] = np.uint64(key)
    state[1] = np.uint64(counter)
    state[2] = np.uint64(0)


@njit(cache=True)
def new_state(key, counter=0):
    """A fresh stream state positioned at block `counter` of substream `key`."""
    state = np.zeros(STATE_SIZE, np.uint64)
    seed_state(state, key, counter)
    return state


@njit(cache=True)
def next_u32(state):
    """Next 32-bit word of the stream."""
    position = np.int64(state[2] & _THREE)
    if position == 0:
        w = stream_block(state[0], state[1])
        state[3] = np.uint64(w[0])
        state[4] = np.uint64(w[1])
        state[5] = np.uint64(w[2])
        state[6] = np.uint64(w[3])
        state[1] += _ONE
    state[2] += _ONE
    return np.uint32(state[3 + position])


@njit(cache=True)
def _u32_to_open(x):
    # (x + 1/2)·2^-32 lies in [2^-33, 1 - 2^-33]; both ends are exact doubles.
    return (np.float64(x) + 0.5) * 2.3283064365386963e-10


@njit(cache=True)
def next_uniform(state):
    """Uniform on the open interval (0, 1) from one word: (x + 1/2)·2^-32."""
    return _u32_to_open(next_u32(state))


@njit(cache=True)
def next_double(state):
    """Uniform on (0, 1) from two words: u = (m + 1/2)·2^-52.

    m holds the 32 bits of the first word followed by the top 20 bits of the
    second, so m is uniform on [0, 2^52).  Only 52 bits are used because
    m + 1/2 then needs 53 significant bits, which a double holds exactly, so
    the largest value is exactly 1 - 2^-53.  With 53 random bits the largest
    value would be 1 - 2^-54, which is not representable and rounds to 1.0.
    """
    hi = np.uint64(next_u32(state))
    lo = np.uint64(next_u32(state))
    m = (hi << np.uint64(20)) | (lo >> np.uint64(12))
    return (np.float64(m) + 0.5) * 2.220446049250313e-16


@njit(cache=True)
def words_used(state):
    """Number of 32-bit words consumed since the state was seeded.

    The stream resumes with fresh words at block counter + ceil(words / 4).
    """
    return np.int64(state[2])


# --------------------------------------------------------------------------
# Vectorised uniforms
# --------------------------------------------------------------------------


@njit(cache=True)
def _fill_uniforms(out, key, counter):
    # Full blocks are written with the four words unpacked by name: indexing
    # the word tuple with a loop variable compiles to a branchy switch that
    # halves throughput.
    n = out.shape[0]
    full = n // 4
    for b in range(full):
        w0, w1, w2, w3 = stream_block(key, counter + np.uint64(b))
        out[4 * b] = _u32_to_open(w0)
        out[4 * b + 1] = _u32_to_open(w1)
        out[4 * b + 2] = _u32_to_open(w2)
        out[4 * b + 3] = _u32_to_open(w3)
    if n > 4 * full:
        w = stream_block(key, counter + np.uint64(full))
        for j in range(n - 4 * full):
            out[4 * full + j] = _u32_to_open(w[j])


@njit(cache=True, parallel=True)
def _uniforms_kernel(key, n, counter):
    out = np.empty(n, np.float64)
    # Each work item owns a run of whole blocks, so splitting never changes
    # which word lands where.
    per_chunk = 4 * 4096
    for c in prange((n + per_chunk - 1) // per_chunk):
        lo = c * per_chunk
        _fill_uniforms(out[lo : min(n, lo + per_chunk)], key, counter + np.uint64(c * 4096))
    return out


@njit(cache=True, parallel=True, nogil=True)
def _unit_uniforms_kernel(keys, k, counter):
    n = keys.shape[0]
    out = np.empty((n, k), np.float64)
    for i in prange(n):
        _fill_uniforms(out[i], keys[i], counter)
    return out


def _check_count(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {n!r}")
    return int(n)


def uniforms(key: int, n: int, counter: int = 0) -> np.ndarray:
    """The first n words of substream `key` from block `counter`, as open-interval uniforms.

    out[i] = (w_i + 1/2)·2^-32 where w_i is word i of the stream, so
    out[i] equals the i-th next_uniform of new_state(key, counter).
    """
    key = as_u64(key, "key")
    n = _check_count(n, "n")
    counter = as_u64(counter, "counter")
    return _uniforms_kernel(np.uint64(key), np.int64(n), np.uint64(counter))


def unit_uniforms(keys: np.ndarray, k: int, counter: int = 0) -> np.ndarray:
    """float64[n, k]: row i holds the first k uniforms of substream keys[i]."""
    keys = np.asarray(keys)
    if keys.ndim != 1 or keys.dtype != np.uint64:
        raise ValueError(f"keys must be a 1-D uint64 array, got {keys.dtype}{list(keys.shape)}")
    k = _check_count(k, "k")
    counter = as_u64(counter, "counter")
    return _unit_uniforms_kernel(np.ascontiguousarray(keys), np.int64(k), np.uint64(counter))
