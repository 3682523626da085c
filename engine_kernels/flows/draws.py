"""Keyed uniforms inside numba loops: a flow's draws under a label come from the Philox blocks of
the flow's unit key folded into the label's key, so they depend only on (seed, parameter hash,
label, unit) and never on which other flows share the day or the thread."""

from __future__ import annotations

import numpy as np
from numba import njit

from engine_kernels.randomness.streams import _u32_to_open, fold_id, stream_block

__all__ = ["block_uniforms", "unit_key"]

@njit(cache=True, nogil=True)
def unit_key(label_key, a, b):
    """Key of the unit (a, b) under a label: both ids folded in, a at position 0 and b at 1."""
    return fold_id(fold_id(np.uint64(label_key), np.uint64(a), np.uint64(0)), np.uint64(b), np.uint64(1))


@njit(cache=True, nogil=True)
def block_uniforms(key, block):
    """Four uniforms on (0, 1) from block `block` of the unit's stream."""
    w = stream_block(key, np.uint64(block))
    return _u32_to_open(w[0]), _u32_to_open(w[1]), _u32_to_open(w[2]), _u32_to_open(w[3])
