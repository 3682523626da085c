"""Segment-wide checks of 1B: one site per outlet, every site inside its country, placed like people live.

Blocking: every country partition published with only its own rows; sites and the outlet
catalogue match one to one; site ids unique in the world; every site inside its country's
full-detail polygon. Realism (corridors in config/policies/1b.yaml): fallback share, distinct
coordinates per country, site density against population on a 1° grid for the largest countries,
same-merchant nearest-neighbour distance against the country's random-pair distance.
Attachments: maps of the sites over the population grid (world and the largest country).
"""

import numpy as np
import polars as pl

from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, CheckOutcome, ValidationCheck, validation_asset
from engine_assets.quality.plots import raster_png
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader
from engine_assets.world.reference.tables import read_grids
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_kernels.geography import maps
from engine_kernels.geography.geodesy import cell_area_km2
from engine_kernels.reference.population import density_preview
from engine_kernels.sites import realism as site_realism

GROUP = "seg_1b"


def structure_outcomes(read: Reader, sites: pl.DataFrame, missing: list[str],
                       catalogue: pl.DataFrame) -> list[CheckOutcome]:
    key = ["merchant_id", "legal_country_iso", "site_order"]
    sites_k = sites.select(pl.col(key[0]), pl.col(key[1]).cast(pl.String), pl.col(key[2]))
    cat_k = catalogue.select(pl.col(key[0]), pl.col(key[1]).cast(pl.String), pl.col(key[2]))
    unplaced = cat_k.join(sites_k, on=key, how="anti", maintain_order="left")
    extra = sites_k.join(cat_k, on=key, how="anti", maintain_order="left")
    world = reference_world(read)
    outside = {}
    for (country,), part in sites.partition_by("legal_country_iso", as_dict=True).items():
        bad = int((~world.contains(country, part["lat_deg"].to_numpy(), part["lon_deg"].to_numpy(), full=True)).sum())
        if bad:
            outside[country] = bad
    misplaced = sites.filter(pl.col("legal_country_iso") != pl.col("partition")).height
    return [
        invariant("site_partitions_complete", len(missing), "country partitions unpublished", {"missing": missing}),
        invariant("site_rows_in_their_partition", misplaced, "rows stored under another country"),
        invariant("every_outlet_placed_once",
                  unplaced.height + extra.height + (sites_k.height - sites_k.unique().height),
                  "outlets without a site, sites without an outlet, or repeated",
                  {"unplaced": unplaced.head(5).to_dicts(), "extra": extra.head(5).to_dicts()}),
        invariant("site_ids_unique", sites.height - sites["site_id"].n_unique(), "repeated site ids"),
        invariant("sites_inside_country_polygon", sum(outside.values()), "sites outside their country (full detail)",
                  {"by_country": outside}),
    ]


def _populated_area_km2(world, country: str) -> float:
    cells = world.populated_cells(country)
    return float(cell_area_km2(cells.rows, cells.resolution).sum())


def realism_outcomes(read: Reader, sites: pl.DataFrame) -> list[CheckOutcome]:
    identity = read.identity
    policy = identity.policies.placement.realism
    sample = Sample(sites.height, policy.enforce_from_sites, "sites")
    world = reference_world(read)
    by_country = {c: part for (c,), part in sites.partition_by("legal_country_iso", as_dict=True).items()}

    fallback = float(sites["is_fallback"].mean()) if sites.height else 0.0
    # A micro-state cannot keep dozens of sites 11 m apart (Vatican City is 0.44 km²): the
    # no-collapse test applies where the populated land is large enough to tell.
    distinct = {c: site_realism.distinct_share(p["lat_deg"].to_numpy(), p["lon_deg"].to_numpy())
                for c, p in by_country.items()
                if p.height >= 20 and _populated_area_km2(world, c) >= policy.distinct_min_area_km2}
    # Below a few hundred sites a country has under one site per populated 1° cell, and the
    # correlation measures Poisson noise rather than placement.
    largest = [c for c in sorted(by_country, key=lambda c: (-by_country[c].height, c))
               if by_country[c].height >= policy.density_min_sites][: policy.density_countries]
    correlation = {}
    for c in largest:
        cells = world.populated_cells(c)
        correlation[c] = round(site_realism.density_correlation(
            by_country[c]["lat_deg"].to_numpy(), by_country[c]["lon_deg"].to_numpy(), cells.lat, cells.lon,
            cells.population), 4)
    ratios = []
    for c, p in by_country.items():
        scale = site_realism.random_pair_median_km(p["lat_deg"].to_numpy(), p["lon_deg"].to_numpy())
        d = site_realism.neighbour_distances(p["merchant_id"].to_numpy(), p["lat_deg"].to_numpy(), p["lon_deg"].to_numpy())
        if d.size and scale > 0:
            ratios.append(d / scale)
    ratio = float(np.median(np.concatenate(ratios))) if ratios else float("nan")

    worst_distinct = min(distinct.values()) if distinct else 1.0
    worst_corr = min(correlation.values()) if correlation else None
    return [
        corridor("fallback_share", fallback, high=policy.fallback_share_max, digits=5, sample=sample,
                 details={"fallback_sites": int(sites["is_fallback"].sum())}),
        corridor("distinct_coordinates_min_country", worst_distinct, low=policy.distinct_coordinates_min, digits=5,
                 sample=sample, details={
                     "measure": f"lowest share over the countries with >= 20 sites and "
                                f">= {policy.distinct_min_area_km2:g} km² of populated land",
                     "lowest": sorted(((round(v, 5), c) for c, v in distinct.items()))[:5]}),
        corridor("density_correlation_min_largest", worst_corr, low=policy.density_correlation_min, digits=5,
                 sample=sample, unmeasured=f"no country has >= {policy.density_min_sites} sites", details={
                     "measure": f"lowest correlation on 1° cells over the {policy.density_countries} largest "
                                f"countries with >= {policy.density_min_sites} sites",
                     "by_country": correlation}),
        corridor("same_merchant_neighbour_ratio", ratio, high=policy.nearest_neighbour_ratio_max, digits=5,
                 sample=sample, details={"measure": "median nearest same-merchant distance over the country's "
                                                    "random-pair median"}),
    ]


def maps_of(read: Reader, sites: pl.DataFrame) -> dict[str, bytes]:
    """Sites in red over population density: the world, and the country with most sites."""
    grids = read.artefact("reference/population_grid")
    population, _, _ = read_grids(grids)
    lat, lon = sites["lat_deg"].to_numpy(), sites["lon_deg"].to_numpy()
    out = {"sites_world.png": raster_png(maps.sites_raster(density_preview(population, 1080), maps.WORLD, lat, lon))}
    if sites.height:
        counts = sites["legal_country_iso"].cast(pl.String).value_counts()
        country = counts.sort(["count", "legal_country_iso"], descending=[True, False])["legal_country_iso"][0]
        part = sites.filter(pl.col("legal_country_iso") == country)
        lat, lon = part["lat_deg"].to_numpy(), part["lon_deg"].to_numpy()
        frame = maps.country_frame(population, lat, lon)
        out[f"sites_{country}.png"] = raster_png(
            maps.sites_raster(frame.density, frame.bounds, lat, lon, frame.scale, dot=2))
    return out


def evaluate(read: Reader):
    sites, missing = read.every_country("seg_1b/site_locations")
    catalogue, _ = read.every_country("seg_1a/outlet_catalogue")
    outcomes = structure_outcomes(read, sites, missing, catalogue) + realism_outcomes(read, sites)
    return outcomes, maps_of(read, sites)


# What to turn when a realism check fails, by check.
REMEDIES = {
    "site_partitions_complete": MISSING_PARTITIONS_REMEDY,
    "fallback_share": (
        "No policy knob sets this share: a site falls back when the populated cell it was drawn in holds no part of "
        "its country's full-detail polygon, a property of the reference population grid. The sites with "
        "`is_fallback` in seg_1b/site_locations name the countries, which `countries` in "
        "config/profiles/<name>.yaml can leave out."),
    "distinct_coordinates_min_country": (
        "Sites share coordinates when many of a country's sites land in cells holding only a sliver of it (such "
        "sites take the same point); the details name the countries. A larger `spread.base_km` or "
        "`spread.exponent` in config/policies/1b.yaml spreads each chain over more cells and crowds fewer sites "
        "into one."),
    "density_correlation_min_largest": (
        "Site density strays from population when chains cluster tightly around their anchor cities: raise "
        "`spread.base_km` or `spread.exponent` in config/policies/1b.yaml so large chains cover more of the "
        "country, at some cost to same_merchant_neighbour_ratio."),
    "same_merchant_neighbour_ratio": (
        "A chain's sites sit closer together with a smaller cluster radius: lower `spread.base_km`, "
        "`spread.exponent` or `spread.max_km` in config/policies/1b.yaml for a lower ratio, at some cost to "
        "density_correlation_min_largest."),
}


CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("site_partitions_complete", "Every country partition of site_locations is published."),
    ("site_rows_in_their_partition", "Each site is stored under its own country."),
    ("every_outlet_placed_once", "One site per outlet of the catalogue, and no other."),
    ("site_ids_unique", "site_id is unique in the world."),
    ("sites_inside_country_polygon", "Every site lies inside its country's full-detail polygon."),
    ("fallback_share", "Realism: few sites fall back to an inland cell centre."),
    ("distinct_coordinates_min_country", "Realism: sites of a country have distinct coordinates."),
    ("density_correlation_min_largest", "Realism: site density follows population on 1° cells in the largest countries."),
    ("same_merchant_neighbour_ratio", "Realism: a chain's sites cluster against the country's random-pair distance."),
)]


validation = validation_asset(
    GROUP,
    reads=[f"{GROUP}/site_locations", "seg_1a/outlet_catalogue", *WORLD_DATASETS],
    evaluate=evaluate,
    description="Sites one to one with outlets, inside their countries, placed like people live; maps.",
    checks=CHECKS,
)
