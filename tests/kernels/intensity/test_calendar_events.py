"""5A calendar of a scenario: holidays on local days, paydays, campaigns, stress and keyed outages."""

import copy
import datetime as dt

import numpy as np

from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.policies import parse_calendar
from engine_kernels.intensity.calendar_events import scenario_events
from engine_kernels.randomness.streams import derive_key

CONTENT = read_yaml(CONFIG_DIR / "policies/5a.yaml")
POLICY = parse_calendar(CONTENT)
SAT_SUN, FRI_SAT = 0b1100000, 0b0110000
ROWS = (np.array([5, 5, 9]), ["US", "DE", "AE"], ["America/New_York", "Europe/Berlin", "Asia/Dubai"])


def keys(label):
    return derive_key(11, "cd" * 32, label)


def events(scenario="baseline", first=dt.date(2026, 11, 20), last=dt.date(2026, 12, 2), holidays=None, policy=POLICY):
    masks = {"US": SAT_SUN, "DE": SAT_SUN, "AE": FRI_SAT, "CN": SAT_SUN}
    out, draws = scenario_events(policy, scenario, first, last, ["AE", "CN", "DE", "US"], masks, holidays or {},
                                 *ROWS, keys)
    return out, draws


def rows(out, kind, country=None):
    return [i for i, t in enumerate(out.kind) if t == kind and (country is None or out.country[i] == country)]


def test_holidays_cover_the_local_day_with_the_class_factors():
    out, _ = events(holidays={"DE": {dt.date(2026, 11, 25): "Buß- und Bettag"}, "US": {dt.date(2026, 11, 26): "Thanksgiving"}})
    de = rows(out, "holiday", "DE")
    assert {out.demand_class[i]: out.factor[i] for i in de} == POLICY.holiday_factor
    assert {(out.start[i], out.end[i]) for i in de} == {(dt.datetime(2026, 11, 25), dt.datetime(2026, 11, 26))}
    assert {out.name[i] for i in rows(out, "holiday", "US")} == {"Thanksgiving"}


def test_paydays_follow_the_country_and_move_before_weekends_and_holidays():
    out, _ = events(first=dt.date(2026, 5, 1), last=dt.date(2026, 5, 31),
                    holidays={"DE": {dt.date(2026, 5, 29): "a holiday"}})
    starts = lambda c: sorted({out.start[i].date() for i in rows(out, "payday", c)})  # noqa: E731
    assert starts("DE") == [dt.date(2026, 4, 30), dt.date(2026, 5, 28)]  # 31 May is a Sunday, 29 May a holiday
    assert starts("AE") == [dt.date(2026, 4, 30), dt.date(2026, 5, 31)]  # Sunday is a working day in the Gulf
    assert starts("US") == [dt.date(2026, 5, 8), dt.date(2026, 5, 22)]  # every other Friday
    i = rows(out, "payday", "US")[0]
    assert out.end[i] - out.start[i] == dt.timedelta(hours=48) and out.ramp_out_hours[i] == 24


def test_campaigns_where_they_are_observed():
    out, _ = events()
    black = [i for i in rows(out, "campaign") if out.name[i] == "black_friday"]
    assert {out.country[i] for i in black} == {"DE", "US"}  # not CN, not AE
    assert {out.start[i] for i in black} == {dt.datetime(2026, 11, 26)}  # 24 h ramp before Friday 27th
    singles, _ = events(first=dt.date(2026, 11, 1), last=dt.date(2026, 11, 15))
    assert {singles.country[i] for i in rows(singles, "campaign") if singles.name[i] == "singles_day"} == {"CN"}
    spring, _ = events(first=dt.date(2026, 3, 1), last=dt.date(2026, 3, 31))
    assert not rows(spring, "campaign")


def test_stress_scales_online_classes_and_outages_are_keyed():
    base, draws = events()
    stress, _ = events("stress")
    assert not rows(base, "stress")
    assert {stress.demand_class[i]: stress.factor[i] for i in rows(stress, "stress")} == {"online_24h": 1.5,
                                                                                        "online_bursty": 1.8}
    assert draws == {"5a.outage": 3 * 13 * 3}
    content = copy.deepcopy(CONTENT)
    content["calendar"]["outages"]["daily_probability"] = 0.5
    busy = parse_calendar(content)
    first, _ = events(policy=busy)
    again, _ = events(policy=busy)
    outages = rows(first, "outage")
    assert 8 <= len(outages) <= 32 and first.start == again.start
    for i in outages:
        hours = (first.end[i] - first.start[i]) / dt.timedelta(hours=1)
        assert first.start[i].minute == 0 and 1 <= hours <= 6 and first.factor[i] == 0.05
        assert first.row[i] >= 0 and first.country[i] == ROWS[1][first.row[i]]
    other, _ = events("stress", policy=busy)
    assert [other.start[i] for i in rows(other, "outage")] != [first.start[i] for i in outages]
