"""Segment-wide checks of 3A: plan and allocation conserve every merchant's sites per country.

Blocking: every country partition of the plan and the allocation published; planned and
allocated sites per (merchant, country) equal the outlet catalogue's; planned zones belong to the
country's zone priors; the allocation counts exactly the sites of seg_2a/site_timezones.
Realism (config/policies/3a.yaml): among escalated pairs the share with more than one zone, and
their median top-zone share.
"""

import polars as pl

from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader
from engine_assets.world.seg_3a.assets import GROUP, country_priors

PAIR = ["merchant_id", "legal_country_iso"]


def _per_pair(frame: pl.DataFrame, column: str | None) -> pl.DataFrame:
    count = pl.col(column).sum() if column else pl.len()
    return frame.with_columns(pl.col("legal_country_iso").cast(pl.String)).group_by(PAIR).agg(n=count.cast(pl.Int64))


def _mismatch(left: pl.DataFrame, right: pl.DataFrame) -> int:
    joined = left.join(right, on=PAIR, how="full", coalesce=True)
    return joined.filter(pl.col("n").is_null() | pl.col("n_right").is_null() | (pl.col("n") != pl.col("n_right"))).height


def evaluate(read: Reader):
    identity = read.identity
    plan, plan_missing = read.every_country("seg_3a/zone_plan")
    alloc, alloc_missing = read.every_country("seg_3a/zone_alloc")
    catalogue, _ = read.every_country("seg_1a/outlet_catalogue")
    zones, _ = read.every_country("seg_2a/site_timezones")
    outlets = _per_pair(catalogue, None)
    tz_zones = read.scan("reference/tz_zones").collect()
    plan = plan.with_columns(pl.col("tzid").cast(pl.String), pl.col("legal_country_iso").cast(pl.String))
    pairs = plan.select("legal_country_iso", "tzid").unique().sort("legal_country_iso", "tzid")
    outside = [
        (c, z) for (c, z) in pairs.iter_rows()
        if z not in country_priors(identity, tz_zones, c).tzids
    ]
    by_zone = zones.with_columns(pl.col("tzid").cast(pl.String), pl.col("legal_country_iso").cast(pl.String)).group_by(
        PAIR + ["tzid"]).agg(n=pl.len().cast(pl.Int64))
    alloc_k = alloc.with_columns(pl.col("tzid").cast(pl.String), pl.col("legal_country_iso").cast(pl.String)).select(
        PAIR + ["tzid"], n=pl.col("n_sites").cast(pl.Int64))
    alloc_off = by_zone.join(alloc_k, on=PAIR + ["tzid"], how="full", coalesce=True).filter(
        pl.col("n").is_null() | pl.col("n_right").is_null() | (pl.col("n") != pl.col("n_right"))).height

    escalated = plan.filter(pl.col("is_escalated")).group_by(PAIR).agg(
        zones=pl.len(), top=pl.col("n_sites_planned").max() / pl.col("n_sites_planned").sum())
    policy = identity.policies.zones.realism
    sample = Sample(escalated.height, policy.enforce_from_pairs, "escalated (merchant, country) pairs")
    multi = float((escalated["zones"] > 1).mean()) if escalated.height else float("nan")
    top = float(escalated["top"].median()) if escalated.height else float("nan")
    missing = sorted(set(plan_missing) | set(alloc_missing))
    return [
        invariant("zone_partitions_complete", len(missing), "country partitions unpublished", {"missing": missing}),
        invariant("plan_conserves_sites", _mismatch(_per_pair(plan, "n_sites_planned"), outlets),
                  "(merchant, country) pairs off the catalogue"),
        invariant("planned_zones_in_priors", len(outside), "(country, zone) pairs outside the priors",
                  {"outside": outside[:10]}),
        invariant("alloc_conserves_sites", _mismatch(_per_pair(alloc, "n_sites"), outlets),
                  "(merchant, country) pairs off the catalogue"),
        invariant("alloc_counts_site_zones", alloc_off, "(merchant, country, zone) rows off the site zones"),
        corridor("escalated_pairs_with_several_zones", multi, low=policy.multi_zone_share_of_escalated_min, digits=4,
                 sample=sample, details={"escalated_pairs": escalated.height}),
        corridor("escalated_median_top_zone_share", top, high=policy.median_top_zone_share_max, digits=4,
                 sample=sample),
    ], {}


# What to turn when a realism check fails, by check.
REMEDIES = {
    "zone_partitions_complete": MISSING_PARTITIONS_REMEDY,
    "escalated_pairs_with_several_zones": (
        "An escalated chain splits its sites by Dirichlet(`escalation.concentration` · prior) in "
        "config/policies/3a.yaml: a higher concentration, or escalating only larger chains (higher "
        "`escalation.min_sites`), puts sites in more than one zone more often."),
    "escalated_median_top_zone_share": (
        "A higher `escalation.concentration` in config/policies/3a.yaml keeps escalated chains' zone shares near "
        "the population prior and lowers the top zone's share; a lower one lets one zone take everything."),
}


CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("zone_partitions_complete", "Every country partition of zone_plan and zone_alloc is published."),
    ("plan_conserves_sites", "The zone plan holds every outlet once."),
    ("planned_zones_in_priors", "Planned zones are among the country's priors."),
    ("alloc_conserves_sites", "The zone allocation holds every outlet once."),
    ("alloc_counts_site_zones", "zone_alloc counts the sites of each final zone."),
    ("escalated_pairs_with_several_zones", "Realism: escalated chains spread over several zones."),
    ("escalated_median_top_zone_share", "Realism: escalated chains' top zone does not hold everything."),
)]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/zone_plan", f"{GROUP}/zone_alloc", "seg_1a/outlet_catalogue", "seg_2a/site_timezones",
           "reference/tz_zones"],
    evaluate=evaluate,
    description="Zone plan and allocation conserve sites; escalated merchants spread over zones.",
    checks=CHECKS,
)
