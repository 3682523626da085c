"""Segment 3A: the zone plan before sites are placed, and the zone allocation after.

`zone_plan` splits each merchant's outlets in a country over the country's zones from population
priors, so that 1B places each site inside its planned zone. `zone_alloc` counts the sites per
final zone (from 2A): the one authority later segments read for demand per zone.
"""

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import per_country
from engine_assets.run.resources import EngineResource
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import upstream
from engine_kernels.sites.zone_plan import plan_zones, zone_priors

GROUP = "seg_3a"
PLAN_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "tzid": pl.String,
               "n_sites_planned": pl.Int32, "is_escalated": pl.Boolean}


def country_priors(identity: RunIdentity, tz_zones: pl.DataFrame, country: str):
    """The zone priors of one country under the 3A policy and the 2A clock overrides."""
    zones = tz_zones.filter((pl.col("country_iso") == country) & (pl.col("population") > 0))
    return zone_priors(country, zones["tzid"].to_list(), zones["population"].to_numpy(),
                       identity.policies.zones.model.floor, identity.policies.civil_time.model.overrides.get(country))


def plan_country(identity: RunIdentity, country: str, catalogue: pl.DataFrame, tz_zones: pl.DataFrame) -> Publication:
    """The zone plan of one country's (merchant, n sites) pairs."""
    pairs = catalogue.group_by("merchant_id").agg(n=pl.len()).sort("merchant_id")
    if pairs.height == 0:
        return Publication(pl.DataFrame(schema=PLAN_SCHEMA))
    priors = country_priors(identity, tz_zones, country)
    plan = plan_zones(pairs["merchant_id"].to_numpy(), pairs["n"].to_numpy(), priors,
                      identity.policies.zones.model, identity.substream_key)
    table = pl.DataFrame({
        "merchant_id": plan.merchant_id,
        "legal_country_iso": [country] * plan.merchant_id.shape[0],
        "tzid": np.asarray(priors.tzids, dtype=object)[plan.zone].tolist(),
        "n_sites_planned": plan.n_sites.astype(np.int32),
        "is_escalated": plan.escalated,
    }, schema=PLAN_SCHEMA)
    return Publication(table, plan.draws)


@dg.asset(
    key=[GROUP, "zone_plan"],
    **upstream(GROUP, ins={"outlet_catalogue": "seg_1a/outlet_catalogue", "tz_zones": "reference/tz_zones"}),
    **per_country(GROUP),
)
def zone_plan(engine: EngineResource, outlet_catalogue: dict[str, pl.LazyFrame], tz_zones: pl.LazyFrame):
    """Sites of each merchant per zone of its country: one zone by prior share, or a Dirichlet split when escalated."""
    identity = engine.identity()
    zones = tz_zones.collect()
    return {c: plan_country(identity, c, lf.select("merchant_id").collect(), zones) for c, lf in outlet_catalogue.items()}


def allocate_country(site_timezones: pl.DataFrame) -> pl.DataFrame:
    """Sites per (merchant, country, final zone)."""
    return (
        site_timezones.group_by("merchant_id", "legal_country_iso", pl.col("tzid").cast(pl.String))
        .agg(n_sites=pl.len().cast(pl.Int32))
        .sort("merchant_id", "tzid")
    )


@dg.asset(
    key=[GROUP, "zone_alloc"],
    **upstream(GROUP, ins={"site_timezones": "seg_2a/site_timezones"}),
    **per_country(GROUP),
)
def zone_alloc(site_timezones: dict[str, pl.LazyFrame]):
    """Sites per merchant, country and final zone: the authority for demand per zone."""
    return {c: allocate_country(lf.collect()) for c, lf in site_timezones.items()}


ASSETS = [zone_plan, zone_alloc]
