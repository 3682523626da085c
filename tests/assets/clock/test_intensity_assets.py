"""Segment 5A through Dagster on the ci profile: profile, shapes, calendar, validation, gate, local time."""

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from engine_assets.clock.seg_5a import validation as seg_5a_validation
from engine_assets.clock.seg_5a.surface import SURFACE_DATASETS, load_surface
from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import bundle_files, verify_gate
from engine_assets.run.config import load_policies
from engine_assets.run.errors import EngineConfigError
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import load_dataset
from engine_assets.storage.reader import reader_for
from engine_kernels.vocabulary import ONLINE_DEMAND_CLASSES


def _identity(root):
    return EngineResource(data_root=str(root)).identity()


def _read(identity, name, key=None):
    return load_dataset(identity, load_contract(name), key).collect().with_columns(pl.col(pl.Categorical).cast(pl.String))


def test_5a_passes_and_opens_its_gate_with_a_picture(ci_world):
    identity = _identity(ci_world)
    report = verify_gate(identity, "seg_5a")
    names = {c["name"] for c in report["checks"]}
    assert {"shapes_sum_to_one", "weekly_sums_match_volumes", "volumes_match_expected_arrivals", "shares_calibrated",
            "intensity_finite_non_negative[baseline]", "holidays_in_calendar[baseline]", "holiday_office_drop",
            "payday_consumer_lift", "classes_with_volume_share", "max_class_share"} <= names
    picture = bundle_files(identity, "seg_5a")["hourly_volume.png"]
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    weekly = next(c for c in report["checks"] if c["name"] == "weekly_sums_match_volumes")
    assert weekly["details"]["rows_checked"] > 50  # most ci zones keep their clock over the first week


def test_profile_holds_zone_allocs_rows_with_classes_and_calibrated_volume(ci_world):
    identity = _identity(ci_world)
    profile = _read(identity, "seg_5a/merchant_zone_profile")
    alloc, _ = reader_for(identity, "seg_3a/zone_alloc").every_country("seg_3a/zone_alloc")
    assert profile.height == alloc.height and profile["n_sites"].sum() == alloc["n_sites"].sum()
    assert set(profile["channel_group"]) == {"card_present", "card_not_present"}
    online = profile.filter(pl.col("virtual_class") != "NON_VIRTUAL")
    assert online.height > 0 and set(online["demand_class"]) <= set(ONLINE_DEMAND_CLASSES)
    assert profile["demand_class"].n_unique() >= 6 and (profile["weekly_volume"] > 0).all()
    days = len(identity.profile.horizon.days)
    # Three days of a mean week: close to, not exactly, the calibrated total (the shapes decide).
    assert profile["weekly_volume"].sum() * days / 7 == pytest.approx(identity.profile.expected_arrivals, rel=0.3)
    shapes = _read(identity, "seg_5a/weekly_shapes")
    assert shapes.group_by("shape_id").agg(pl.col("weight").sum())["weight"].to_numpy() == pytest.approx(1.0)


def test_holidays_and_paydays_act_on_local_days(ci_world):
    """Ram Navami (IN, UTC+05:30) covers UTC 18:30 on the eve to 18:30 on the day; a US payday starts
    at local midnight, 04:00 UTC in New York in late March. Placed on UTC midnight they would not."""
    identity = _identity(ci_world)
    surface = load_surface(reader_for(identity, *SURFACE_DATASETS), "baseline")
    policy = identity.policies.intensity.calendar
    rows = surface.rows.with_row_index("r")
    outages = set(surface.events.row[surface.events.row >= 0].tolist())

    def ratio(day, country, tzid, klass):
        pick = rows.filter((pl.col("legal_country_iso") == country) & (pl.col("tzid") == tzid)
                           & (pl.col("demand_class") == klass) & ~pl.col("r").is_in(list(outages)))
        assert pick.height, f"the ci world has no {klass} row in {country} {tzid}"
        r = pick["r"].to_numpy()
        return (surface.day(day, 60)[r] / surface.day(day, 60, overlays=False)[r])

    holiday = ratio(dt.date(2026, 3, 26), "IN", "Asia/Kolkata", "consumer_daytime")
    assert np.allclose(holiday[:, :18], policy.holiday_factor["consumer_daytime"]) and np.allclose(holiday[:, 19:], 1)
    assert (holiday[:, 18] > policy.holiday_factor["consumer_daytime"]).all() and (holiday[:, 18] < 1).all()
    pay = ratio(dt.date(2026, 3, 27), "US", "America/New_York", "consumer_daytime")
    assert np.allclose(pay[:, :4], 1) and np.allclose(pay[:, 4:], policy.payday_factor["consumer_daytime"])


def test_validation_catches_a_lost_channel_a_missing_row_and_a_bent_shape(ci_world):
    identity = _identity(ci_world)
    profile = _read(identity, "seg_5a/merchant_zone_profile")
    shapes = _read(identity, "seg_5a/weekly_shapes")
    merchants = _read(identity, "seg_1a/merchants")
    alloc, _ = reader_for(identity, "seg_3a/zone_alloc").every_country("seg_3a/zone_alloc")
    classes = _read(identity, "seg_3b/virtual_classification")

    def failed(p=profile, s=shapes):
        return {o.name for o in seg_5a_validation.structure_outcomes(identity, p, s, merchants, alloc, classes)
                if not o.passed}

    assert not failed()
    mixed = profile.with_columns(channel_group=pl.lit("card_present"))
    assert failed(mixed) == {"channel_group_carried"}
    # A row lost: its volume is missing from the total and from its group's share.
    assert failed(profile.slice(1)) == {"profile_rows_equal_zone_alloc", "volumes_match_expected_arrivals",
                                        "shares_calibrated"}
    bent = shapes.with_columns(weight=pl.when(pl.col("hour_of_week") == 0).then(pl.col("weight") * 2)
                               .otherwise("weight"))
    assert "shapes_sum_to_one" in failed(s=bent)
    doubled = profile.with_columns(weekly_volume=pl.col("weekly_volume") * 2)
    assert failed(doubled) == {"volumes_match_expected_arrivals"}
    # Online merchants twice as busy: the total and the virtual share both leave their calibration.
    online = profile.with_columns(weekly_volume=pl.when(pl.col("virtual_class") != "NON_VIRTUAL")
                                  .then(pl.col("weekly_volume") * 2).otherwise("weekly_volume"))
    assert failed(online) == {"volumes_match_expected_arrivals", "shares_calibrated"}


def test_calendar_rows_are_local_windows_with_a_scope(ci_world):
    identity = _identity(ci_world)
    calendar = _read(identity, "seg_5a/calendar", "baseline")
    assert set(calendar["event_type"]) >= {"holiday", "payday"}
    local_midnight = calendar.filter(pl.col("event_type").is_in(["holiday", "payday"]))["start_local"]
    assert (local_midnight.dt.hour() == 0).all() and local_midnight.dtype == pl.Datetime("us")
    own = calendar.filter(pl.col("event_type") == "outage")
    assert own["merchant_id"].null_count() == 0 and own["tzid"].null_count() == 0
    assert calendar.filter(pl.col("event_type") != "outage")["merchant_id"].null_count() == calendar.height - own.height


def test_a_bad_5a_policy_names_the_file_and_field(tmp_path):
    import shutil

    from engine_assets.run.config import CONFIG_DIR

    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    path = config / "policies/5a.yaml"
    path.write_text(path.read_text().replace("    default: online_24h", "    default: office_hours", 1))
    with pytest.raises(EngineConfigError, match=r"policies/5a.yaml: demand_classes.online: .*office_hours"):
        load_policies(config)


def test_report_figures_are_numbers(ci_world):
    report = json.loads(bundle_files(_identity(ci_world), "seg_5a")["report.json"].read_text())
    shares = next(c for c in report["checks"] if c["name"] == "classes_with_volume_share")["details"]["shares"]
    assert sum(shares.values()) == pytest.approx(1.0, abs=1e-3)
