"""Segment-wide checks of 3A: plan and allocation conserve every merchant's sites per country.

Blocking: every country partition of the plan and the allocation published; planned and
allocated sites per (merchant, country) equal the outlet catalogue's; planned zones belong to the
country's zone priors; the allocation counts exactly the sites of seg_2a/site_timezones.
Realism (config/policies/3a.yaml): among escalated pairs the share with more than one zone, and
their median top-zone share.
"""

import polars as pl

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import CheckOutcome, ValidationCheck, validation_asset
from engine_assets.run.identity import RunIdentity
from engine_assets.storage.country_data import scan_countries
from engine_assets.world.seg_3a.assets import GROUP, country_priors
from engine_assets.storage.datasets import load_dataset

PAIR = ["merchant_id", "legal_country_iso"]


def _per_pair(frame: pl.DataFrame, column: str | None) -> pl.DataFrame:
    count = pl.col(column).sum() if column else pl.len()
    return frame.with_columns(pl.col("legal_country_iso").cast(pl.String)).group_by(PAIR).agg(n=count.cast(pl.Int64))


def _mismatch(left: pl.DataFrame, right: pl.DataFrame) -> int:
    joined = left.join(right, on=PAIR, how="full", coalesce=True)
    return joined.filter(pl.col("n").is_null() | pl.col("n_right").is_null() | (pl.col("n") != pl.col("n_right"))).height


def evaluate(identity: RunIdentity):
    plan, plan_missing = scan_countries(identity, "seg_3a/zone_plan")
    alloc, alloc_missing = scan_countries(identity, "seg_3a/zone_alloc")
    catalogue, _ = scan_countries(identity, "seg_1a/outlet_catalogue")
    zones, _ = scan_countries(identity, "seg_2a/site_timezones")
    outlets = _per_pair(catalogue, None)
    tz_zones = load_dataset(identity, load_contract("reference/tz_zones"), None).collect()
    plan = plan.with_columns(pl.col("tzid").cast(pl.String), pl.col("legal_country_iso").cast(pl.String))
    outside = [
        (c, z) for (c, z) in plan.select("legal_country_iso", "tzid").unique().iter_rows()
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
    policy = identity.policies["3a"]["realism"]
    enforced = escalated.height >= policy["enforce_from_pairs"]
    note = {} if enforced else {"enforced": False, "why": f"{escalated.height} escalated pairs < enforce_from_pairs"}
    multi = float((escalated["zones"] > 1).mean()) if escalated.height else float("nan")
    top = float(escalated["top"].median()) if escalated.height else float("nan")
    missing = sorted(set(plan_missing) | set(alloc_missing))
    return [
        CheckOutcome("zone_partitions_complete", not missing, len(missing), "== 0 unpublished", {"missing": missing}),
        CheckOutcome("plan_conserves_sites", (bad := _mismatch(_per_pair(plan, "n_sites_planned"), outlets)) == 0, bad,
                     "== 0 (merchant, country) pairs off the catalogue"),
        CheckOutcome("planned_zones_in_priors", not outside, len(outside), "== 0 (country, zone) pairs",
                     {"outside": outside[:10]}),
        CheckOutcome("alloc_conserves_sites", (bad := _mismatch(_per_pair(alloc, "n_sites"), outlets)) == 0, bad,
                     "== 0 (merchant, country) pairs off the catalogue"),
        CheckOutcome("alloc_counts_site_zones", alloc_off == 0, alloc_off, "== 0 (merchant, country, zone) rows"),
        CheckOutcome("escalated_pairs_with_several_zones", (multi >= policy["multi_zone_share_of_escalated_min"])
                     or not enforced, None if multi != multi else round(multi, 4),
                     f">= {policy['multi_zone_share_of_escalated_min']}", {"escalated_pairs": escalated.height, **note}),
        CheckOutcome("escalated_median_top_zone_share", (top <= policy["median_top_zone_share_max"]) or not enforced,
                     None if top != top else round(top, 4), f"<= {policy['median_top_zone_share_max']}", note),
    ], {}


CHECKS = [ValidationCheck(name, text) for name, text in (
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
    deps=[[GROUP, "zone_plan"], [GROUP, "zone_alloc"]],
    evaluate=evaluate,
    description="Zone plan and allocation conserve sites; escalated merchants spread over zones.",
    checks=CHECKS,
)
