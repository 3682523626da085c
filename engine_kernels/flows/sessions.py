"""Online sessions: a party's flows on one device, cut where the party was idle longer than the gap.

Sessions are built per UTC day: a session never spans midnight UTC, so a day computed alone is
complete (a party active across midnight has one session before it and one after). A session opens
a keyed lead time before its first flow and closes a keyed tail after its last, both kept inside
the day.
"""

from __future__ import annotations


import numpy as np
from numba import njit, prange

from engine_kernels.flows.draws import block_uniforms, unit_key
from engine_kernels.flows.lifecycle import _log_normal

__all__ = ["Sessions", "sessionise"]

_MINUTE_US = 60_000_000


class Sessions:
    def __init__(self, flow_session, first, party, device, ip, start, end, flows):
        self.flow_session = flow_session  # per input flow: its session's rank in the day
        self.first, self.party, self.device, self.ip = first, party, device, ip
        self.start, self.end, self.flows = start, end, flows
        self.session_id = np.zeros(flows.size, np.uint64)  # set by the caller, which knows the day
        self.profile_change = np.full(flows.size, -1, np.int8)  # set by the caller, which knows the fraud

    def rows(self, rows: slice) -> "Sessions":
        """A slice of the sessions (views; flow_session, which is per flow, is kept whole)."""
        out = Sessions(self.flow_session, *(a[rows] for a in (self.first, self.party, self.device, self.ip,
                                                               self.start, self.end, self.flows)))
        out.session_id = self.session_id[rows]
        out.profile_change = self.profile_change[rows]
        return out


@njit(cache=True, parallel=True, nogil=True)
def _keys_and_minutes(label_key, party_id, ts, lead_median, lead_sigma, tail_median, tail_sigma, lead, tail):
    for i in prange(party_id.shape[0]):
        u = block_uniforms(unit_key(label_key, party_id[i], ts[i]), 0)
        lead[i] = _log_normal(u[0], lead_median, lead_sigma, np.inf)
        tail[i] = _log_normal(u[1], tail_median, tail_sigma, np.inf)


def sessionise(label_key: int, party_id: np.ndarray, device: np.ndarray, ip: np.ndarray, ts: np.ndarray,
               day_start_us: int, gap_minutes: float, lead, tail) -> Sessions:
    """Sessions of the online flows given by (party id, device index, ip index, ts µs), ranked by
    (start, party, device)."""
    if ts.size == 0:
        none = np.zeros(0, np.int64)
        return Sessions(none, none, party_id[:0], none, none, none, none, none)
    order = np.lexsort((ts, device, party_id))
    p, d, t = party_id[order], device[order], ts[order]
    new = np.ones(order.size, bool)
    new[1:] = (p[1:] != p[:-1]) | (d[1:] != d[:-1]) | (t[1:] - t[:-1] > gap_minutes * _MINUTE_US)
    number = np.cumsum(new) - 1
    heads = np.flatnonzero(new)
    tails = np.append(heads[1:], order.size) - 1
    lead_min, tail_min = np.empty(heads.size), np.empty(heads.size)
    _keys_and_minutes(np.uint64(label_key), p[heads].astype(np.uint64), t[heads].astype(np.uint64), lead.median,
                      lead.sigma, tail.median, tail.sigma, lead_min, tail_min)
    start = np.maximum(t[heads] - (lead_min * _MINUTE_US).astype(np.int64), day_start_us)
    end = np.minimum(t[tails] + (tail_min * _MINUTE_US).astype(np.int64), day_start_us + 86_400_000_000 - 1)
    rank_order = np.lexsort((d[heads], p[heads], start))
    rank = np.empty(heads.size, np.int64)
    rank[rank_order] = np.arange(heads.size)
    flow_session = np.empty(order.size, np.int64)
    flow_session[order] = rank[number]
    pick = lambda a: a[rank_order]  # noqa: E731  (sessions in rank order)
    return Sessions(flow_session, pick(order[heads]), pick(p[heads]), pick(d[heads]), pick(ip[order][heads]),
                    pick(start), pick(end), pick(tails - heads + 1))

