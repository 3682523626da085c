"""Segment-wide checks of 2A: every site has a zone of its country, and the clock table is right.

Blocking: site zones one to one with site locations; every zone one of the country's zones (or
its override); transitions strictly increasing per zone and present for every zone in use;
UTC -> local through the table equals zoneinfo at every transition in the window (one second
before, at, and after it) and on 500 fixed random instants per zone in use.
Realism (config/policies/2a.yaml): planned zone = final zone share; `nearest` fallback share.
"""

import datetime as dt
import zoneinfo

import numpy as np
import polars as pl

from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_assets.world.seg_2a.clock import read_transitions, transition_window
from engine_kernels.civil_time.transitions import Transitions, utc_to_local
from engine_kernels.civil_time.tzdb import use_pinned_tzdata

GROUP = "seg_2a"
_UTC = dt.timezone.utc


def clock_mismatches(table: Transitions, zones: list[str], start: dt.datetime, end: dt.datetime,
                     per_zone: int = 500) -> tuple[int, int, list[dict]]:
    """(instants compared, mismatches, first mismatches) of the table against zoneinfo."""
    use_pinned_tzdata()
    rng = np.random.default_rng(20260101)  # a fixed sample: the report is reproducible
    lo, hi = int(start.timestamp()), int(end.timestamp())
    compared, bad, examples = 0, 0, []
    for tzid in zones:
        z = table.tzids.index(tzid)
        starts = table.utc_start[table.offsets[z]:table.offsets[z + 1]]
        instants = np.concatenate([starts[1:] - 1, starts[1:], starts[1:] + 1, rng.integers(lo, hi, per_zone)])
        local = utc_to_local(instants * 1_000_000, np.full(instants.size, z), table) // 1_000_000
        zone = zoneinfo.ZoneInfo(tzid)
        for t, got in zip(instants.tolist(), local.tolist()):
            want = int(dt.datetime.fromtimestamp(t, _UTC).astimezone(zone).replace(tzinfo=_UTC).timestamp())
            if got != want:
                bad += 1
                if len(examples) < 5:
                    examples.append({"tzid": tzid, "utc": t, "table_local": got, "zoneinfo_local": want})
        compared += instants.size
    return compared, bad, examples


def evaluate(read: Reader):
    identity = read.identity
    zones, missing = read.every_country("seg_2a/site_timezones")
    sites, _ = read.every_country("seg_1b/site_locations")
    frame = read.scan("seg_2a/tz_transitions").collect()
    table = read_transitions(frame)
    world = reference_world(read)
    overrides = identity.policies.civil_time.model.overrides

    zones = zones.with_columns(pl.col("tzid").cast(pl.String), pl.col("tz_source").cast(pl.String))
    joined = sites.select("site_id", planned=pl.col("planned_tzid").cast(pl.String)).join(
        zones.select("site_id", "tzid", "tz_source", "legal_country_iso"), on="site_id", how="full", coalesce=True)
    unmatched = joined.filter(pl.col("planned").is_null() | pl.col("tzid").is_null()).height
    invalid = [
        r for r in zones.select("legal_country_iso", "tzid").unique().sort("legal_country_iso", "tzid").iter_rows()
        if r[1] != overrides.get(r[0]) and r[1] not in set(world.country_zones.get(r[0], ()))
    ]
    in_use = sorted(set(zones["tzid"].to_list()))
    no_table = [z for z in in_use if z not in table.tzids]
    steps = frame.with_columns(pl.col("tzid").cast(pl.String)).sort("tzid", "utc_start").group_by(
        "tzid", maintain_order=True).agg(ok=(pl.col("utc_start").diff().drop_nulls() > pl.duration(seconds=0)).all())
    not_increasing = steps.filter(~pl.col("ok"))["tzid"].to_list()
    start, end = transition_window(identity)
    compared, mismatched, examples = clock_mismatches(table, [z for z in in_use if z in table.tzids], start, end)

    policy = identity.policies.civil_time.realism
    sample = Sample(zones.height, policy.enforce_from_sites, "sites")
    same = float((joined["planned"] == joined["tzid"]).mean()) if joined.height else 1.0
    nearest = float((zones["tz_source"] == "nearest").mean()) if zones.height else 0.0
    sources = dict(zones["tz_source"].value_counts().iter_rows())
    return [
        invariant("zone_partitions_complete", len(missing), "country partitions unpublished", {"missing": missing}),
        invariant("every_site_has_one_zone", unmatched, "sites without a zone or zones without a site"),
        invariant("zones_belong_to_their_country", len(invalid), "(country, zone) pairs outside the country's zones",
                  {"invalid": invalid[:10]}),
        invariant("transitions_for_every_zone_in_use", len(no_table), "zones in use without transitions",
                  {"missing": no_table}),
        invariant("transitions_strictly_increasing", len(not_increasing), "zones with transitions out of order",
                  {"zones": not_increasing}),
        invariant("utc_to_local_equals_zoneinfo", mismatched, "instants where the table and zoneinfo differ",
                  {"compared": compared, "instants": "every transition ± 1 s and 500 per zone", "examples": examples}),
        corridor("planned_zone_is_final_zone", same, low=policy.planned_equals_final_min, digits=5, sample=sample),
        corridor("nearest_zone_fallback_share", nearest, high=policy.nearest_share_max, digits=5, sample=sample,
                 details={"by_source": sources}),
    ], {}


# What to turn when a realism check fails, by check.
REMEDIES = {
    "zone_partitions_complete": MISSING_PARTITIONS_REMEDY,
    "planned_zone_is_final_zone": (
        "A site leaves its planned zone when its point, drawn in a cell of that zone, lies across a zone border or "
        "needs a fallback: a larger `lookup.nudge_deg` in config/policies/2a.yaml resolves more border and coast "
        "points to a zone of the country, and a country that keeps one legal clock belongs in `overrides` there "
        "(3A's plan honours it too)."),
    "nearest_zone_fallback_share": (
        "A site takes the nearest labelled cell's zone when neither its point nor its four nudges lie in a zone of "
        "its country: raise `lookup.nudge_deg` in config/policies/2a.yaml to catch more points on borders and "
        "coasts."),
}


CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("zone_partitions_complete", "Every country partition of site_timezones is published."),
    ("every_site_has_one_zone", "Every site has exactly one zone, and every zone row a site."),
    ("zones_belong_to_their_country", "Each site's zone is one its country uses."),
    ("transitions_for_every_zone_in_use", "The transition table covers every zone in use."),
    ("transitions_strictly_increasing", "Each zone's transitions strictly increase in time."),
    ("utc_to_local_equals_zoneinfo", "UTC to local through the table equals zoneinfo at transitions and random instants."),
    ("planned_zone_is_final_zone", "Realism: 3A's planned zone is the site's final zone."),
    ("nearest_zone_fallback_share", "Realism: few sites take the nearest labelled cell's zone."),
)]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/site_timezones", f"{GROUP}/tz_transitions", "seg_1b/site_locations", *WORLD_DATASETS],
    evaluate=evaluate,
    description="Every site in a zone of its country; the transition table agrees with zoneinfo.",
    checks=CHECKS,
)
