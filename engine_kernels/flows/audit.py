"""One pass over a day's events, flow by flow: what the 6B validation checks of each lifecycle.

Events are published flow by flow in seq order, so the pass needs no sort; a table that is not
grouped by flow is first ordered by flow id stably, keeping each flow's events in file order,
which is the order the checks judge.
"""

from dataclasses import dataclass

import numba
import numpy as np

from engine_kernels.vocabulary import EVENT_TYPES

CLEARING, REFUND, REVERSAL = (EVENT_TYPES.index(n) for n in ("clearing", "refund", "reversal"))


@dataclass
class FlowAudit:
    """Per flow that has events, in flow-id order."""

    flow_id: np.ndarray  # uint64
    signature: np.ndarray  # int64: the event types as base-8 digits, first event least significant
    seq_ok: np.ndarray  # bool: seq runs 0..k-1
    times_ok: np.ndarray  # bool: times strictly increase
    cleared: np.ndarray  # float64: amount cleared
    settled: np.ndarray  # bool: cleared or reversed
    refunded: np.ndarray  # float64: amount refunded
    has_refund: np.ndarray  # bool


@numba.njit(cache=True, nogil=True)
def _audit(flow_id, seq, code, t_us, amount, starts, signature, seq_ok, times_ok, cleared, settled, refunded,
           has_refund):
    for g in range(starts.size - 1):
        sig, s_ok, t_ok, clr, stl, ref, has = 0, True, True, 0.0, False, 0.0, False
        power = 1
        for i in range(starts[g], starts[g + 1]):
            c = code[i]
            sig += (c + 1) * power
            power *= 8
            if seq[i] != i - starts[g]:
                s_ok = False
            if i > starts[g] and t_us[i] <= t_us[i - 1]:
                t_ok = False
            if c == CLEARING:
                clr += amount[i]
                stl = True
            elif c == REVERSAL:
                stl = True
            elif c == REFUND:
                ref += amount[i]
                has = True
        signature[g] = sig if starts[g + 1] - starts[g] <= 20 else -1  # beyond 20 the digits overflow
        seq_ok[g], times_ok[g] = s_ok, t_ok
        cleared[g], settled[g], refunded[g], has_refund[g] = clr, stl, ref, has


def audit_events(flow_id: np.ndarray, seq: np.ndarray, code: np.ndarray, t_us: np.ndarray,
                 amount: np.ndarray) -> FlowAudit:
    """Each flow's lifecycle summary from its events (`code` indexes EVENT_TYPES); a flow of more
    than 20 events, which no template allows, has signature -1."""
    if flow_id.size and np.any(flow_id[1:] < flow_id[:-1]):
        order = np.argsort(flow_id, kind="stable")
        flow_id, seq, code, t_us, amount = (a[order] for a in (flow_id, seq, code, t_us, amount))
    starts = np.flatnonzero(np.concatenate(([True], flow_id[1:] != flow_id[:-1], [True]))) if flow_id.size \
        else np.zeros(1, np.int64)
    n = starts.size - 1
    out = FlowAudit(flow_id[starts[:-1]], np.zeros(n, np.int64), np.zeros(n, np.bool_), np.zeros(n, np.bool_),
                    np.zeros(n), np.zeros(n, np.bool_), np.zeros(n), np.zeros(n, np.bool_))
    _audit(flow_id, seq.astype(np.int64), code.astype(np.int64), t_us, amount, starts, out.signature, out.seq_ok,
           out.times_ok, out.cleared, out.settled, out.refunded, out.has_refund)
    return out
