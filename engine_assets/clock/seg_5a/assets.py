"""Segment 5A: the deterministic blueprint of traffic.

Compact on purpose: a weekly volume and a shape id per (merchant, country, zone) row, 168-hour
local-week shapes, and calendar events as rows. 5B evaluates λ per UTC bucket for the day it needs
(engine_assets.clock.seg_5a.surface); no bucket rows are ever stored.
"""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import SCENARIOS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import Reader, upstream
from engine_kernels.intensity.calendar_events import scenario_events
from engine_kernels.intensity.demand import (
    ROLES,
    ShareTargets,
    calibrate,
    classify_demand,
    per_site_volume,
    raw_weekly_volume,
    zone_roles,
)
from engine_kernels.intensity.weekly_shapes import class_shapes, day_mass
from engine_kernels.randomness import substreams
from engine_kernels.randomness.streams import text_id, unit_keys, unit_uniforms
from engine_kernels.vocabulary import CARD_NOT_PRESENT, CHANNELS, DEMAND_CLASSES, NON_VIRTUAL

GROUP = "seg_5a"
_JITTER, _VARIANT = substreams.SHAPE_JITTER, substreams.SHAPE_VARIANT


def shape_catalogue(identity: RunIdentity, weekend_masks: list[int]) -> Publication:
    """Every class × channel × weekend convention × variant shape, 168 rows each, in id order."""
    policy = identity.policies.intensity.shapes
    masks = sorted(set(weekend_masks))
    width = 2 * max(len(t.weekday.bumps) + len(t.weekend.bumps) for t in policy.templates.values())
    units = np.array([[text_id(c), text_id(ch), v]
                      for c in DEMAND_CLASSES for ch in CHANNELS for v in range(policy.variants)], np.uint64)
    jitter = unit_uniforms(unit_keys(identity.substream_key(_JITTER), units), width).reshape(
        len(DEMAND_CLASSES), len(CHANNELS), policy.variants, width)
    meta, weights = [], []
    for i, c in enumerate(DEMAND_CLASSES):
        for j, ch in enumerate(CHANNELS):
            for mask in masks:
                shapes = class_shapes(policy, c, ch, mask, jitter[i, j])
                meta += [(c, ch, mask, v) for v in range(policy.variants)]
                weights.append(shapes)
    weights = np.concatenate(weights)
    n = len(meta)
    frame = pl.DataFrame({
        "shape_id": np.repeat(np.arange(n, dtype=np.int32), 168),
        "demand_class": np.repeat(np.asarray([m[0] for m in meta], dtype=object), 168).tolist(),
        "channel_group": np.repeat(np.asarray([m[1] for m in meta], dtype=object), 168).tolist(),
        "weekend_mask": np.repeat(np.array([m[2] for m in meta], np.uint8), 168),
        "variant": np.repeat(np.array([m[3] for m in meta], np.int8), 168),
        "hour_of_week": np.tile(np.arange(168, dtype=np.int16), n),
        "weight": weights.ravel(),
    })
    return Publication(frame, {_JITTER: int(jitter.size)})


@dg.asset(key=[GROUP, "weekly_shapes"], **upstream(GROUP, ins={"countries": "reference/countries"}),
          io_manager_key="shards", group_name=GROUP)
def weekly_shapes(engine: EngineResource, countries: pl.LazyFrame):
    """168-hour local-week shapes per demand class × channel × weekend convention, with keyed variants."""
    masks = countries.select("weekend_mask").unique().collect()["weekend_mask"].to_list()
    return shape_catalogue(engine.identity(), masks)


def horizon_weekdays(identity: RunIdentity) -> np.ndarray:
    """How many days of the horizon fall on each weekday (0 = Monday)."""
    return np.bincount([d.weekday() for d in identity.profile.horizon.days], minlength=7)


def profile_table(identity: RunIdentity, alloc: pl.DataFrame, merchants: pl.DataFrame, classes: pl.DataFrame,
                  weekend: pl.DataFrame, shapes: pl.DataFrame) -> Publication:
    """One row per (merchant, country, zone) of zone_alloc with its class, shape and calibrated volume."""
    policy = identity.policies.intensity.demand
    variants = identity.policies.intensity.shapes.variants
    m = merchants.select("merchant_id", pl.col("sector", "channel").cast(pl.String)).join(
        classes.select("merchant_id", pl.col("virtual_class").cast(pl.String), "virtual_share"), on="merchant_id"
    ).sort("merchant_id")
    klass = classify_demand(m["sector"].to_list(), m["channel"].to_list(),
                            (m["virtual_class"] != NON_VIRTUAL).to_numpy(), policy)
    per_site, draws = per_site_volume(m["merchant_id"].to_numpy(), klass, policy, identity.substream_key)
    u = unit_uniforms(unit_keys(identity.substream_key(_VARIANT), m["merchant_id"].to_numpy()[:, None]), 1)[:, 0]
    m = m.with_columns(demand_class=pl.Series(np.asarray(DEMAND_CLASSES, dtype=object)[klass].tolist(),
                                              dtype=pl.String),
                       per_site=pl.Series(per_site), variant=pl.Series((u * variants).astype(np.int8)))
    rows = alloc.select("merchant_id", "legal_country_iso", pl.col("tzid").cast(pl.String), "n_sites").sort(
        "merchant_id", "legal_country_iso", "tzid").join(m, on="merchant_id", how="left", maintain_order="left")
    if rows["demand_class"].null_count():
        raise ValueError("seg_5a: zone_alloc names merchants that seg_1a/merchants or seg_3b lacks")
    rows = rows.join(weekend.select(legal_country_iso="country_iso", weekend_mask="weekend_mask"),
                     on="legal_country_iso", how="left", maintain_order="left")
    catalogue = shapes.filter(pl.col("hour_of_week") == 0).select(
        "shape_id", pl.col("demand_class", "channel_group").cast(pl.String), "weekend_mask", "variant")
    rows = rows.join(catalogue, left_on=["demand_class", "channel", "weekend_mask", "variant"],
                     right_on=["demand_class", "channel_group", "weekend_mask", "variant"], how="left",
                     maintain_order="left")
    if rows["shape_id"].null_count():
        raise ValueError("seg_5a: some rows have no weekly shape for their class, channel and weekend; "
                         "rebuild seg_5a/weekly_shapes")
    role = zone_roles(rows["merchant_id"].to_numpy(), rows["n_sites"].to_numpy(),
                      (rows["legal_country_iso"] + "/" + rows["tzid"]).to_numpy().astype(str), policy)
    raw = raw_weekly_volume(rows["per_site"].to_numpy(), rows["n_sites"].to_numpy(), role, policy)
    weights = shapes.sort("shape_id", "hour_of_week")["weight"].to_numpy().reshape(-1, 168)
    mass = day_mass(weights)[rows["shape_id"].to_numpy()]
    targets = ShareTargets(float(identity.profile.expected_arrivals), policy.virtual_share,
                           policy.card_not_present_share)
    multiplier = calibrate(raw, mass, horizon_weekdays(identity), rows["virtual_share"].to_numpy(),
                           (rows["channel"] == CARD_NOT_PRESENT).to_numpy(), targets)
    frame = rows.select(
        "merchant_id", "legal_country_iso", "tzid", "n_sites", "sector", pl.col("channel").alias("channel_group"),
        "virtual_class", "demand_class",
        zone_role=pl.Series(np.asarray(ROLES, dtype=object)[role].tolist(), dtype=pl.String),
        shape_id="shape_id", weekly_volume=pl.Series(raw * multiplier),
    )
    return Publication(frame, draws | {_VARIANT: int(u.size)})


@dg.asset(key=[GROUP, "merchant_zone_profile"],
          **upstream(GROUP, ins={"merchants": "seg_1a/merchants", "virtual_classification": "seg_3b/virtual_classification",
                                 "countries": "reference/countries", "weekly_shapes": f"{GROUP}/weekly_shapes"},
                     reads_whole=["seg_3a/zone_alloc"]),
          io_manager_key="shards", group_name=GROUP)
def merchant_zone_profile(context: dg.AssetExecutionContext, engine: EngineResource, merchants: pl.LazyFrame,
                          virtual_classification: pl.LazyFrame, countries: pl.LazyFrame, weekly_shapes: pl.LazyFrame):
    """Demand class, weekly shape and calibrated weekly volume of every (merchant, country, zone)."""
    identity = engine.identity()
    alloc, missing = Reader.of(context, identity).every_country("seg_3a/zone_alloc")
    if missing:
        raise ValueError(f"seg_5a: seg_3a/zone_alloc is not published for {missing[:5]}...; materialise it first")
    return profile_table(identity, alloc, merchants.collect(), virtual_classification.collect(),
                         countries.select("country_iso", "weekend_mask").collect(), weekly_shapes.collect())


def holiday_map(holidays: pl.DataFrame) -> dict[str, dict]:
    """country -> {local date: names joined}; several holidays on one day are one event."""
    days = holidays.group_by("country_iso", "date").agg(pl.col("name").sort().str.join("; ")).sort("country_iso", "date")
    out: dict[str, dict] = {}
    for country, date, name in days.iter_rows():
        out.setdefault(country, {})[date] = name
    return out


def calendar_table(identity: RunIdentity, scenario: str, profile: pl.DataFrame, holidays: pl.DataFrame,
                   weekend: pl.DataFrame) -> Publication:
    policy = identity.policies.intensity.calendar
    horizon = identity.profile.horizon
    # Local days that meet the UTC horizon somewhere on Earth.
    first, last = horizon.start - dt.timedelta(days=1), horizon.end + dt.timedelta(days=1)
    rows = profile.select("merchant_id", "legal_country_iso", pl.col("tzid").cast(pl.String))
    countries = sorted(rows["legal_country_iso"].unique().to_list())
    masks = dict(weekend.filter(pl.col("country_iso").is_in(countries)).iter_rows())
    events, draws = scenario_events(policy, scenario, first, last, countries, masks,
                                    holiday_map(holidays.with_columns(pl.col(pl.Categorical).cast(pl.String))),
                                    rows["merchant_id"].to_numpy(), rows["legal_country_iso"].to_list(),
                                    rows["tzid"].to_list(), identity.substream_key)
    row = np.asarray(events.row, np.int64)
    own = row >= 0
    merchant = np.where(own, rows["merchant_id"].to_numpy()[np.where(own, row, 0)], 0)
    tzid = np.where(own, np.asarray(rows["tzid"].to_list(), dtype=object)[np.where(own, row, 0)], None)
    frame = pl.DataFrame({
        "scenario_id": [scenario] * len(row), "event_type": events.kind, "name": events.name,
        "country_iso": events.country, "demand_class": events.demand_class,
        "merchant_id": pl.Series(merchant, dtype=pl.UInt64), "tzid": tzid.tolist(),
        "start_local": pl.Series(events.start, dtype=pl.Datetime("us")),
        "end_local": pl.Series(events.end, dtype=pl.Datetime("us")),
        "ramp_in_hours": pl.Series(events.ramp_in_hours, dtype=pl.Int16),
        "ramp_out_hours": pl.Series(events.ramp_out_hours, dtype=pl.Int16),
        "factor": pl.Series(events.factor, dtype=pl.Float64),
    }, schema_overrides={"country_iso": pl.String, "demand_class": pl.String, "tzid": pl.String})
    frame = frame.with_columns(merchant_id=pl.when(pl.Series(own)).then("merchant_id")).sort(
        "event_type", "country_iso", "start_local", "demand_class", "merchant_id", "tzid", nulls_last=False)
    return Publication(frame.with_columns(event_id=pl.int_range(pl.len(), dtype=pl.UInt32)).select(
        "scenario_id", "event_id", *[c for c in frame.columns if c != "scenario_id"]), draws)


@dg.asset(key=[GROUP, "calendar"], partitions_def=SCENARIOS,
          **upstream(GROUP, ins={"merchant_zone_profile": f"{GROUP}/merchant_zone_profile", "holidays": "reference/holidays",
                                 "countries": "reference/countries"}),
          io_manager_key="shards", backfill_policy=dg.BackfillPolicy.single_run(), group_name=GROUP)
def calendar(context: dg.AssetExecutionContext, engine: EngineResource, merchant_zone_profile: pl.LazyFrame,
             holidays: pl.LazyFrame, countries: pl.LazyFrame):
    """Holidays, paydays, campaigns, outages and stress of each scenario, as local-time windows."""
    identity = engine.identity()
    profile, holiday_rows = merchant_zone_profile.collect(), holidays.collect()
    weekend = countries.select("country_iso", "weekend_mask").collect()
    return {s: calendar_table(identity, s, profile, holiday_rows, weekend) for s in context.partition_keys}


ASSETS = [weekly_shapes, merchant_zone_profile, calendar]
