"""Segment 1B: every outlet placed on a populated cell of its planned zone, inside its country.

Works only where sites are: per country and planned zone it asks the reference world for that
zone's populated cells (built lazily and cached per process), never for the whole grid.
"""

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.partitions import per_country
from engine_assets.run.resources import EngineResource
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import Reader, upstream
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_kernels.geography.geodesy import flat_cell
from engine_kernels.ids import site_ids
from engine_kernels.reference.countries import iso_alpha2_codes
from engine_kernels.sites.placement import SiteGroups, place_sites

GROUP = "seg_1b"
# A country's place in the sorted code list is part of its sites' ids: fixed by the code list,
# not by which countries a profile activates.
COUNTRY_INDEX = {code: i for i, code in enumerate(sorted(iso_alpha2_codes()))}
SITE_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "site_order": pl.Int32,
               "site_id": pl.UInt64, "lat_deg": pl.Float64, "lon_deg": pl.Float64, "cell_id": pl.Int32,
               "planned_tzid": pl.String, "is_fallback": pl.Boolean}


def place_country(read: Reader, country: str, plan: pl.DataFrame, cities: pl.DataFrame) -> Publication:
    """Sites of one country from its zone plan (rows sorted by merchant, tzid)."""
    if plan.height == 0:
        return Publication(pl.DataFrame(schema=SITE_SCHEMA))
    identity = read.identity
    world = reference_world(read)
    policy = identity.policies.placement.model
    plan = plan.with_columns(pl.col("tzid").cast(pl.String)).sort("merchant_id", "tzid").with_columns(
        n_country=pl.col("n_sites_planned").sum().over("merchant_id"),
        first_site=(pl.col("n_sites_planned").cum_sum().over("merchant_id") - pl.col("n_sites_planned") + 1),
    )

    def fallback() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The country's populated cell centres inside its polygon, for sites whose cell holds none of it."""
        everywhere = world.populated_cells(country)
        inland = world.contains(country, everywhere.lat, everywhere.lon, full=True)
        flat = flat_cell(everywhere.rows, everywhere.cols, everywhere.resolution)
        return everywhere.lat[inland], everywhere.lon[inland], flat[inland]

    frames, draws = [], {}
    towns = {z: part for (z,), part in cities.partition_by("tzid", as_dict=True).items()}
    for (tzid,), zone in plan.partition_by("tzid", as_dict=True, maintain_order=True).items():
        zone_cities = towns.get(tzid, cities.clear())
        sites = place_sites(
            SiteGroups(zone["merchant_id"].to_numpy(), zone["n_sites_planned"].to_numpy(),
                       zone["n_country"].to_numpy(), zone["first_site"].to_numpy()),
            world.populated_cells(country, tzid),
            (zone_cities["lat_deg"].to_numpy(), zone_cities["lon_deg"].to_numpy(),
             zone_cities["population"].to_numpy().astype(np.float64)),
            world.polygon(country), fallback, policy, identity.substream_key,
        )
        for label, words in sites.draws.items():
            draws[label] = draws.get(label, 0) + words
        frames.append(pl.DataFrame({
            "merchant_id": sites.merchant_id, "legal_country_iso": [country] * sites.lat.shape[0],
            "site_order": sites.site_order.astype(np.int32),
            "site_id": site_ids(sites.merchant_id, COUNTRY_INDEX[country], sites.site_order),
            "lat_deg": sites.lat, "lon_deg": sites.lon, "cell_id": sites.cell.astype(np.int32),
            "planned_tzid": [tzid] * sites.lat.shape[0], "is_fallback": sites.is_fallback,
        }, schema=SITE_SCHEMA))
    return Publication(pl.concat(frames).sort("merchant_id", "site_order"), draws)


@dg.asset(
    key=[GROUP, "site_locations"],
    **upstream(GROUP, ins={"zone_plan": "seg_3a/zone_plan", "cities": "reference/cities"}, reads=WORLD_DATASETS),
    **per_country(GROUP),
)
def site_locations(context: dg.AssetExecutionContext, engine: EngineResource, zone_plan: dict[str, pl.LazyFrame],
                   cities: pl.LazyFrame):
    """Place every outlet on a populated cell of its planned zone, clustered around the merchant's anchor."""
    read = Reader.of(context, engine.identity())
    wanted = list(zone_plan)
    towns = cities.select("country_iso", "lat_deg", "lon_deg", "population", pl.col("tzid").cast(pl.String)).filter(
        pl.col("country_iso").is_in(wanted)).collect()
    by_country = {c: part for (c,), part in towns.partition_by("country_iso", as_dict=True).items()}
    return {
        country: place_country(read, country, plan.collect(), by_country.get(country, towns.clear()))
        for country, plan in zone_plan.items()
    }


ASSETS = [site_locations]
