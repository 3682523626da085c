"""Segment 2B: the routing fabric of physical sites.

`site_weights` gives each site its share of its merchant's traffic in its zone; `alias_tables`
turns each (merchant, zone) into a Walker table that 5B loads per country as flat arrays;
`day_effects` holds the mean-one daily shocks of each (merchant, zone) over the horizon. Zones
are read from 2A's final answer, never re-derived.
"""

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import per_country
from engine_assets.run.resources import EngineResource
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import upstream
from engine_assets.world.seg_2b.slots import group_offsets, slot_rows
from engine_kernels.sites.weights import SHAPES, day_effects, site_weights

GROUP = "seg_2b"
WEIGHT_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "tzid": pl.String, "site_id": pl.UInt64,
                 "weight": pl.Float64, "shape": pl.String}
ALIAS_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "tzid": pl.String, "slot": pl.Int32,
                "site_id": pl.UInt64, "prob": pl.Float64, "alias": pl.Int32}
DAY_SCHEMA = {"merchant_id": pl.UInt64, "legal_country_iso": pl.String, "tzid": pl.String, "local_date": pl.Date,
              "gamma": pl.Float32}


def _groups(sites: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame]:
    """Sites sorted by (merchant, zone, site), the group offsets, and one row per group."""
    sites = sites.select("merchant_id", "legal_country_iso", pl.col("tzid").cast(pl.String), "site_id").sort(
        "merchant_id", "tzid", "site_id")
    heads = sites.group_by("merchant_id", "tzid", maintain_order=True).agg(n=pl.len())
    return sites, group_offsets(sites, ["merchant_id", "tzid"]), heads


def weigh_country(identity: RunIdentity, country: str, site_zones: pl.DataFrame) -> Publication:
    if site_zones.height == 0:
        return Publication(pl.DataFrame(schema=WEIGHT_SCHEMA))
    sites, offsets, heads = _groups(site_zones)
    weights, shape, draws = site_weights(
        heads["merchant_id"].to_numpy(), heads["tzid"].to_list(), offsets, sites["site_id"].to_numpy(), country,
        identity.policies.routing.model, identity.substream_key,
    )
    shapes = np.repeat(np.asarray(SHAPES, dtype=object)[shape], np.diff(offsets))
    return Publication(sites.with_columns(weight=pl.Series(weights), shape=pl.Series(shapes.tolist(), dtype=pl.String)),
                       draws)


def alias_country(weights: pl.DataFrame) -> pl.DataFrame:
    """One row per slot of each (merchant, zone) table, in slot order."""
    if weights.height == 0:
        return pl.DataFrame(schema=ALIAS_SCHEMA)
    ordered = weights.with_columns(pl.col("tzid").cast(pl.String)).sort("merchant_id", "tzid", "site_id")
    return slot_rows(ordered, ["merchant_id", "legal_country_iso", "tzid"], "site_id").select(list(ALIAS_SCHEMA))


def shock_country(identity: RunIdentity, country: str, site_zones: pl.DataFrame) -> Publication:
    if site_zones.height == 0:
        return Publication(pl.DataFrame(schema=DAY_SCHEMA))
    _, offsets, heads = _groups(site_zones)
    horizon = identity.profile.horizon
    days = horizon.days
    gamma, draws = day_effects(heads["merchant_id"].to_numpy(), heads["tzid"].to_list(), np.diff(offsets),
                               horizon.start.toordinal(), len(days), country,
                               identity.policies.routing.model, identity.substream_key)
    frame = pl.DataFrame({
        "merchant_id": np.repeat(heads["merchant_id"].to_numpy(), len(days)),
        "legal_country_iso": [country] * gamma.size,
        "tzid": np.repeat(np.asarray(heads["tzid"].to_list(), dtype=object), len(days)).tolist(),
        "local_date": days * heads.height,
        "gamma": gamma.ravel().astype(np.float32),
    }, schema=DAY_SCHEMA)
    return Publication(frame, draws)


@dg.asset(key=[GROUP, "site_weights"], **upstream(GROUP, ins={"site_timezones": "seg_2a/site_timezones"}),
          **per_country(GROUP))
def site_weights_asset(engine: EngineResource, site_timezones: dict[str, pl.LazyFrame]):
    """Each site's share of its merchant's traffic in its zone: hub, heavy-tailed or near-uniform by size."""
    identity = engine.identity()
    return {c: weigh_country(identity, c, lf.collect()) for c, lf in site_timezones.items()}


@dg.asset(key=[GROUP, "alias_tables"], **upstream(GROUP, ins={"site_weights": f"{GROUP}/site_weights"}),
          **per_country(GROUP))
def alias_tables(site_weights: dict[str, pl.LazyFrame]):
    """A Walker alias table per (merchant, zone), as flat slot rows 5B loads per country."""
    return {c: alias_country(lf.collect()) for c, lf in site_weights.items()}


@dg.asset(key=[GROUP, "day_effects"], **upstream(GROUP, ins={"site_timezones": "seg_2a/site_timezones"}),
          **per_country(GROUP))
def day_effects_asset(engine: EngineResource, site_timezones: dict[str, pl.LazyFrame]):
    """A mean-one log-normal shock per (merchant, zone, local day) of the horizon."""
    identity = engine.identity()
    return {c: shock_country(identity, c, lf.collect()) for c, lf in site_timezones.items()}


ASSETS = [site_weights_asset, alias_tables, day_effects_asset]
