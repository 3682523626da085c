"""Online sessions (engine_kernels/flows/sessions.py): the inactivity-gap rule, sessions kept inside
their UTC day, keyed lead and tail times, ranking, and the flows each session holds."""

import numpy as np
import pytest

from engine_kernels.flows.policy import LogNormal
from engine_kernels.flows.sessions import sessionise

DAY0 = 20_250 * 86_400_000_000  # µs at a UTC midnight
DAY_US = 86_400_000_000
MINUTE = 60_000_000
LEAD, TAIL = LogNormal(4.0, 0.8), LogNormal(1.5, 0.7)


def _sessions(key, party, device, ts, ip=None, gap=30.0, lead=LEAD, tail=TAIL):
    party, device, ts = (np.asarray(a, np.int64) for a in (party, device, ts))
    ip = np.arange(ts.size, dtype=np.int64) + 500 if ip is None else np.asarray(ip, np.int64)
    return sessionise(key("6b.session"), party.astype(np.uint64), device, ip, ts, DAY0, gap, lead, tail)


def test_flows_closer_than_the_gap_share_a_session(key):
    """Gap 30 min: 29 min apart share a session, 31 min apart do not; exactly 30 still shares."""
    t = DAY0 + 10 * 3_600_000_000
    ts = [t, t + 29 * MINUTE, t + 60 * MINUTE, t + 90 * MINUTE]
    s = _sessions(key, [9] * 4, [3] * 4, ts)
    assert s.flows.tolist() == [2, 2]
    assert s.flow_session.tolist() == [0, 0, 1, 1]
    alone = _sessions(key, [9, 9], [3, 3], [t, t + 30 * MINUTE + 1])
    assert alone.flows.tolist() == [1, 1]


def test_other_devices_and_parties_open_their_own_sessions(key):
    t = DAY0 + 12 * 3_600_000_000
    s = _sessions(key, [1, 1, 2, 1], [10, 11, 10, 10], [t, t + MINUTE, t + 2 * MINUTE, t + 3 * MINUTE])
    assert s.flows.size == 3 and sorted(s.flows.tolist()) == [1, 1, 2]
    sessions = s.flow_session
    assert sessions[0] == sessions[3] and len({sessions[0], sessions[1], sessions[2]}) == 3
    assert (s.party[sessions] == [1, 1, 2, 1]).all() and (s.device[sessions] == [10, 11, 10, 10]).all()


@pytest.fixture(scope="module")
def day(key):
    """20,000 online flows of 3,000 parties on 1-3 devices over one day, in random input order."""
    rng = np.random.default_rng(1)
    n = 20_000
    party = rng.integers(0, 3_000, n) * 13 + 5
    device = party * 4 + rng.integers(0, 3, n)
    ts = DAY0 + rng.integers(0, DAY_US, n)
    ts[:50] = DAY0 + rng.integers(0, 60_000_000, 50)  # some right after midnight
    ts[50:100] = DAY0 + DAY_US - 1 - rng.integers(0, 60_000_000, 50)  # and right before the next
    ip = rng.integers(0, 10_000, n)
    return party, device, ts, ip, _sessions(key, party, device, ts, ip=ip)


def test_sessions_stay_inside_their_day_and_around_their_flows(day):
    party, device, ts, _, s = day
    assert (s.start >= DAY0).all() and (s.end <= DAY0 + DAY_US - 1).all() and (s.start < s.end).all()
    first = np.full(s.flows.size, np.iinfo(np.int64).max)
    last = np.full(s.flows.size, np.iinfo(np.int64).min)
    np.minimum.at(first, s.flow_session, ts)
    np.maximum.at(last, s.flow_session, ts)
    assert (s.start <= first).all() and (s.end >= last).all()
    assert (s.start == DAY0).sum() >= 40 and (s.end == DAY0 + DAY_US - 1).sum() >= 40


def test_every_flow_is_in_one_session_of_its_party_and_device(day):
    party, device, ts, ip, s = day
    assert s.flows.sum() == ts.size
    assert np.bincount(s.flow_session, minlength=s.flows.size).tolist() == s.flows.tolist()
    assert (s.party[s.flow_session] == party).all() and (s.device[s.flow_session] == device).all()
    # `first` is the session's earliest flow, whose address the session carries.
    assert (s.flow_session[s.first] == np.arange(s.flows.size)).all()
    first = np.full(s.flows.size, np.iinfo(np.int64).max)
    np.minimum.at(first, s.flow_session, ts)
    assert (ts[s.first] == first).all() and (s.ip == ip[s.first]).all()


def test_flows_of_a_session_are_within_the_gap_and_sessions_of_a_device_are_not(day):
    party, device, ts, _, s = day
    order = np.lexsort((ts, device, party))
    same_device = (party[order][1:] == party[order][:-1]) & (device[order][1:] == device[order][:-1])
    gap = np.diff(ts[order])
    same_session = s.flow_session[order][1:] == s.flow_session[order][:-1]
    assert (same_session == (same_device & (gap <= 30 * MINUTE))).all()


def test_sessions_are_ranked_by_start_party_and_device(day):
    _, _, _, _, s = day
    assert (np.lexsort((s.device, s.party, s.start)) == np.arange(s.start.size)).all()


def test_sessionise_does_not_depend_on_input_order(day, key):
    party, device, ts, ip, s = day
    perm = np.random.default_rng(2).permutation(ts.size)
    again = _sessions(key, party[perm], device[perm], ts[perm], ip=ip[perm])
    for name in ("party", "device", "ip", "start", "end", "flows"):
        assert getattr(again, name).tolist() == getattr(s, name).tolist(), name
    assert again.flow_session.tolist() == s.flow_session[perm].tolist()


def test_lead_and_tail_times_are_log_normal_minutes(key):
    """Single flows mid-day: the lead before and the tail after follow the given log-normals."""
    n = 20_000
    ts = DAY0 + 6 * 3_600_000_000 + np.arange(n, dtype=np.int64) * 1_000_000
    s = _sessions(key, np.arange(n), np.zeros(n), ts)
    assert s.flows.size == n
    start = s.start[s.flow_session]
    end = s.end[s.flow_session]
    lead, tail = (ts - start) / MINUTE, (end - ts) / MINUTE
    assert np.median(lead) == pytest.approx(4.0, rel=0.03) and np.log(lead).std() == pytest.approx(0.8, rel=0.03)
    assert np.median(tail) == pytest.approx(1.5, rel=0.03) and np.log(tail).std() == pytest.approx(0.7, rel=0.03)


def test_no_flows_no_sessions(key):
    s = _sessions(key, [], [], [])
    assert s.flows.size == 0 and s.flow_session.size == 0 and s.start.size == 0
