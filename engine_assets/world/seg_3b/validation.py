"""Segment-wide checks of 3B: every online merchant settled, with at least six edges on land.

Blocking: every VIRTUAL_ONLY or HYBRID merchant has one settlement node and >= 6 edges; every
edge inside its country's polygon with a zone of its country; edge weights sum to 1 per
merchant; edge alias tables reconstruct the weights within 1e-9. Realism
(config/policies/3b.yaml): virtual or hybrid share of merchants, edge-count CV, median edge to
settlement distance, and how different the merchants' country mixes are (median pairwise
Jensen-Shannon divergence, base 2, over a fixed sample of pairs).
"""

import numpy as np
import polars as pl

from engine_assets.quality.gates import ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_assets.world.seg_2b.slots import reconstruction_gap
from engine_assets.world.seg_3b.assets import GROUP
from engine_kernels.geography.geodesy import haversine_km
from engine_kernels.sites.realism import median_pair_divergence
from engine_kernels.vocabulary import NON_VIRTUAL


def edge_country_mixes(edges: pl.DataFrame) -> np.ndarray:
    """Each merchant's edge weight by country: one row per merchant (in id order), one column per country."""
    mix = edges.group_by("merchant_id", "country_iso").agg(w=pl.col("weight").sum()).pivot(
        on="country_iso", index="merchant_id", values="w", sort_columns=True).fill_null(0.0).sort("merchant_id")
    return mix.drop("merchant_id").to_numpy()


def evaluate(read: Reader):
    identity = read.identity
    classes = read.table(f"{GROUP}/virtual_classification")
    nodes = read.table(f"{GROUP}/settlement_nodes")
    edges = read.table(f"{GROUP}/edge_catalogue")
    tables = read.table(f"{GROUP}/edge_alias_tables").sort("merchant_id", "slot")
    world = reference_world(read)

    online = classes.filter(pl.col("virtual_class") != NON_VIRTUAL).select("merchant_id")
    unsettled = online.join(nodes, on="merchant_id", how="anti").height + (nodes.height - online.height)
    per = edges.group_by("merchant_id").agg(n=pl.len(), total=pl.col("weight").sum())
    few = online.join(per, on="merchant_id", how="left").filter(pl.col("n").is_null() | (pl.col("n") < 6)).height
    off_one = per.filter((pl.col("total") - 1).abs() > 1e-9).height
    outside, bad_zone = 0, 0
    for (code,), part in edges.partition_by("country_iso", as_dict=True).items():
        outside += int((~world.contains(code, part["lat_deg"].to_numpy(), part["lon_deg"].to_numpy(), full=True)).sum())
        valid = set(world.country_zones.get(code, ())) | {identity.policies.civil_time.model.overrides.get(code)}
        bad_zone += int((~part["tzid"].is_in(sorted(z for z in valid if z))).sum())
    gap = reconstruction_gap(tables, ["merchant_id"], "edge_id", edges)

    policy = identity.policies.virtual.realism
    sample = Sample(classes.height, policy.enforce_from_merchants, "merchants")
    share = online.height / classes.height if classes.height else 0.0
    cv = float(per["n"].std() / per["n"].mean()) if per.height > 1 else float("nan")
    far = edges.join(nodes.select("merchant_id", s_lat="lat_deg", s_lon="lon_deg"), on="merchant_id")
    distance = float(np.median(haversine_km(far["lat_deg"].to_numpy(), far["lon_deg"].to_numpy(),
                                            far["s_lat"].to_numpy(), far["s_lon"].to_numpy()))) if far.height else float("nan")
    divergence = median_pair_divergence(edge_country_mixes(edges))
    low, high = policy.virtual_share
    return [
        invariant("online_merchants_settled_once", unsettled, "online merchants without one node, or extra nodes"),
        invariant("online_merchants_have_six_edges", few, "merchants with < 6 edges"),
        invariant("edges_inside_their_country", outside, "edges outside their country (full detail)"),
        invariant("edge_zones_belong_to_their_country", bad_zone, "edges in a zone their country does not use"),
        invariant("edge_weights_sum_to_one", off_one, "merchants off by > 1e-9"),
        corridor("edge_alias_tables_reconstruct_weights", gap, high=1e-9),
        corridor("virtual_or_hybrid_share", share, low, high, digits=4, sample=sample,
                 details={"by_class": dict(classes.group_by("virtual_class").len().iter_rows())}),
        corridor("edge_count_cv", cv, low=policy.edge_count_cv_min, digits=4, sample=sample),
        corridor("median_edge_settlement_km", distance, high=policy.median_edge_distance_km_max, digits=4,
                 sample=sample),
        corridor("median_mix_divergence", divergence, low=policy.median_mix_divergence_min, digits=4, sample=sample,
                 details={"measure": "median Jensen-Shannon divergence (base 2) of two merchants' edge-country mixes"}),
    ], {}


# What to turn when a realism check fails, by check.
REMEDIES = {
    "virtual_or_hybrid_share": (
        "Online merchants are the card-not-present merchants of `classification.virtual_sectors` and "
        "`hybrid_sectors` (config/policies/3b.yaml), so the share follows `merchants.card_not_present` and "
        "`merchants.sector_weights` in config/policies/1a.yaml; raise or lower those, or change the sector lists."),
    "edge_count_cv": (
        "Edge counts vary with the profiles of `edges.profiles` in config/policies/3b.yaml: wider `edges` ranges, "
        "or more weight on both `regional_compact` and `offshore_hub` against `hybrid_footprint`, raise the CV."),
    "median_edge_settlement_km": (
        "Edges sit nearer their settlement city with a higher `locality` in `edges.profiles`, a smaller "
        "`edges.locality_km` or more `regional_compact` probability in config/policies/3b.yaml; the opposite moves "
        "them out."),
    "median_mix_divergence": (
        "Merchants' edge-country mixes differ when they lean on their own settlement rather than the shared "
        "population and internet-adoption mix: raise the `locality` of `edges.profiles` or lower "
        "`edges.locality_km` in config/policies/3b.yaml."),
}


CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("online_merchants_settled_once", "Every online merchant has one settlement node."),
    ("online_merchants_have_six_edges", "Every online merchant has six or more edges."),
    ("edges_inside_their_country", "Every edge lies inside its country's full-detail polygon."),
    ("edge_zones_belong_to_their_country", "Each edge's zone is one its country uses."),
    ("edge_weights_sum_to_one", "Edge weights of each merchant sum to 1."),
    ("edge_alias_tables_reconstruct_weights", "Every edge alias table gives back its weights within 1e-9."),
    ("virtual_or_hybrid_share", "Realism: share of merchants that are virtual or hybrid."),
    ("edge_count_cv", "Realism: edge counts vary between merchants."),
    ("median_edge_settlement_km", "Realism: median distance from an edge to its settlement city."),
    ("median_mix_divergence", "Realism: two merchants' edge-country mixes differ."),
)]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/{name}" for name in ("virtual_classification", "settlement_nodes", "edge_catalogue",
                                           "edge_alias_tables")] + list(WORLD_DATASETS),
    evaluate=evaluate,
    description="Online merchants settled with six or more edges on land; share, spread and variety of edges.",
    checks=CHECKS,
)
