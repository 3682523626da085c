"""Offset transitions from the pinned tz database and UTC -> local through them."""

import datetime as dt
import zoneinfo

import numpy as np
import pytest

from engine_kernels.civil_time.transitions import offset_period, utc_to_local, zone_transitions, zones_transitions

UTC = dt.timezone.utc


def _epoch(*args) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp())


def test_berlin_2026_switches_on_the_last_sundays_of_march_and_october():
    rows = zone_transitions("Europe/Berlin", _epoch(2026, 1, 1), _epoch(2027, 1, 1))
    assert rows == [(_epoch(2026, 1, 1), 3600, False, "CET"), (_epoch(2026, 3, 29, 1), 7200, True, "CEST"),
                    (_epoch(2026, 10, 25, 1), 3600, False, "CET")]


def test_zones_without_dst_and_with_odd_offsets():
    assert zone_transitions("Asia/Kolkata", _epoch(2025, 1, 1), _epoch(2028, 1, 1)) == [
        (_epoch(2025, 1, 1), 19800, False, "IST")]
    kathmandu = zone_transitions("Asia/Kathmandu", _epoch(2025, 1, 1), _epoch(2028, 1, 1))
    assert [r[1] for r in kathmandu] == [20700]
    # Lord Howe moves by half an hour; Chatham sits at +12:45 / +13:45.
    assert {r[1] for r in zone_transitions("Australia/Lord_Howe", _epoch(2026, 1, 1), _epoch(2027, 1, 1))} == {
        37800, 39600}
    assert {r[1] for r in zone_transitions("Pacific/Chatham", _epoch(2026, 1, 1), _epoch(2027, 1, 1))} == {
        45900, 49500}


@pytest.mark.parametrize("tzid", ["America/New_York", "Europe/London", "Australia/Sydney", "America/Sao_Paulo",
                                  "Africa/Casablanca", "Australia/Lord_Howe", "Asia/Tehran", "America/St_Johns"])
def test_utc_to_local_equals_zoneinfo_at_every_edge_and_between(tzid):
    table = zones_transitions([tzid, "UTC"], dt.datetime(2025, 1, 1, tzinfo=UTC), dt.datetime(2028, 1, 1, tzinfo=UTC))
    z = table.tzids.index(tzid)
    starts = table.utc_start[table.offsets[z]:table.offsets[z + 1]]
    edges = np.concatenate([starts + d for d in (-1, 0, 1)])
    instants = np.concatenate([edges, np.random.default_rng(5).integers(_epoch(2025, 1, 1), _epoch(2028, 1, 1), 2000)])
    local = utc_to_local(instants * 1_000_000, np.full(instants.size, z), table)
    zone = zoneinfo.ZoneInfo(tzid)
    expected = [int(dt.datetime.fromtimestamp(int(t), UTC).astimezone(zone).replace(tzinfo=UTC).timestamp())
                for t in instants]
    assert (local // 1_000_000 == np.array(expected)).all()


def test_bad_zone_index_is_refused():
    table = zones_transitions(["UTC"], dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="zone indices"):
        utc_to_local(np.array([0]), np.array([1]), table)


def test_offset_period_is_the_last_period_started_and_the_first_before_any():
    starts = np.array([100, 200, 300, 50], np.int64)  # zone 0 owns rows 0-2, zone 1 row 3
    offsets = np.array([0, 3, 4], np.int64)
    instants = np.array([0, 99, 100, 199, 200, 250, 300, 10**12], np.int64)
    assert offset_period(starts, offsets, 0, instants).tolist() == [0, 0, 0, 0, 1, 1, 2, 2]
    assert offset_period(starts, offsets, 1, instants).tolist() == [3] * instants.size
    assert [int(offset_period(starts, offsets, 0, t)) for t in instants] == [0, 0, 0, 0, 1, 1, 2, 2]
