"""Segment-wide checks of 2B: every site routable, tables exact, shocks mean one.

Blocking: one weight per site of seg_2a/site_timezones; weights sum to 1 per (merchant, zone);
alias tables reconstruct the weights within 1e-9; a shock for every (merchant, zone) and local
day of the horizon, with mean within 0.05 of 1. Realism (config/policies/2b.yaml): median
top-site share of multi-site (merchant, zone) groups.
"""

import polars as pl

from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader
from engine_assets.world.seg_2b.assets import GROUP
from engine_assets.world.seg_2b.slots import reconstruction_gap

KEY = ["merchant_id", "legal_country_iso", "tzid"]


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("legal_country_iso", "tzid").cast(pl.String))


def evaluate(read: Reader):
    identity = read.identity
    weights, missing_w = read.every_country("seg_2b/site_weights")
    tables, missing_a = read.every_country("seg_2b/alias_tables")
    shocks, missing_d = read.every_country("seg_2b/day_effects")
    zones, _ = read.every_country("seg_2a/site_timezones")
    weights, tables, shocks, zones = (_text(f) for f in (weights, tables, shocks, zones))
    missing = sorted(set(missing_w) | set(missing_a) | set(missing_d))

    unmatched = (zones.join(weights, on="site_id", how="anti").height
                 + weights.join(zones, on="site_id", how="anti").height)
    sums = weights.group_by(KEY).agg(total=pl.col("weight").sum(), n=pl.len(), top=pl.col("weight").max())
    off_one = sums.filter((pl.col("total") - 1.0).abs() > 1e-9).height

    tables = tables.sort("merchant_id", "legal_country_iso", "tzid", "slot")
    gap = reconstruction_gap(tables, KEY, "site_id", weights)
    untabled = weights.join(tables, on="site_id", how="anti").height

    days = len(identity.profile.horizon.days)
    per_group = shocks.group_by(KEY).agg(days=pl.len(), mean=pl.col("gamma").cast(pl.Float64).mean())
    groups = sums.select(KEY)
    short = groups.join(per_group, on=KEY, how="left").filter(pl.col("days").is_null() | (pl.col("days") != days)).height
    off_mean = per_group.filter((pl.col("mean") - 1.0).abs() > 0.05).height

    policy = identity.policies.routing.realism
    multi = sums.filter(pl.col("n") > 1)
    sample = Sample(multi.height, policy.enforce_from_groups, "multi-site (merchant, zone) groups")
    top = float(multi["top"].median()) if multi.height else float("nan")
    low, high = policy.median_top_share
    shapes = dict(weights.group_by("shape").len().with_columns(pl.col("shape").cast(pl.String)).iter_rows())
    return [
        invariant("routing_partitions_complete", len(missing), "country partitions unpublished", {"missing": missing}),
        invariant("every_site_weighed_once", unmatched, "sites without a weight or weights without a site"),
        invariant("weights_sum_to_one", off_one, "(merchant, zone) groups off by > 1e-9"),
        corridor("alias_tables_reconstruct_weights", gap, high=1e-9, holds=untabled == 0,
                 details={"sites_without_slot": untabled}),
        invariant("day_effects_cover_the_horizon", short, f"groups without {days} days"),
        invariant("day_effects_mean_one", off_mean, "groups with |mean − 1| > 0.05"),
        corridor("median_top_site_share", top, low, high, digits=4, sample=sample, details={
            "measure": "median top-site share over multi-site (merchant, zone) groups",
            "multi_site_groups": multi.height, "shapes_by_site": shapes}),
    ], {}


# What to turn when a realism check fails, by check.
REMEDIES = {
    "routing_partitions_complete": MISSING_PARTITIONS_REMEDY,
    "median_top_site_share": (
        "The top site's share comes from `site_weights` in config/policies/2b.yaml: more `hub` and `heavy_tail` in "
        "`mixture`, a higher `hub_share` or `zipf_exponent` raise it; more `near_uniform` or a lower "
        "`top_share_cap` lower it."),
}


CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("routing_partitions_complete", "Every country partition of the routing tables is published."),
    ("every_site_weighed_once", "Every site has one weight, and every weight a site."),
    ("weights_sum_to_one", "Site weights of each (merchant, zone) sum to 1."),
    ("alias_tables_reconstruct_weights", "Every alias table gives back its weights within 1e-9."),
    ("day_effects_cover_the_horizon", "Day effects cover every local day of the horizon."),
    ("day_effects_mean_one", "Each (merchant, zone)'s day effects average 1."),
    ("median_top_site_share", "Realism: median share of the top site of multi-site groups."),
)]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/site_weights", f"{GROUP}/alias_tables", f"{GROUP}/day_effects", "seg_2a/site_timezones"],
    evaluate=evaluate,
    description="Every site routable, alias tables exact, day shocks mean one; top-site share.",
    checks=CHECKS,
)
