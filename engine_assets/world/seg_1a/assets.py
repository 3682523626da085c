"""Segment 1A: the merchant universe and its outlet catalogue.

`merchant_universe` draws every merchant, its outlet count, its candidate countries and the
countries it operates in, in one pass: the steps share arrays and every draw is keyed on
(label, merchant id), so publishing them as separate steps would only add reads. Each table is
its own asset with its own contract check. `outlet_catalogue` expands the membership into one
row per outlet, written per legal country so country-partitioned segments read only their shard.
"""

import dagster as dg
import polars as pl

from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import countries_in, per_country
from engine_assets.run.resources import EngineResource
from engine_assets.storage.io_manager import dataset_out
from engine_assets.storage.publish import Publication
from engine_assets.storage.reader import upstream
from engine_assets.world.seg_1a.inputs import active_countries, merchant_categories
from engine_assets.world.seg_1a.tables import outlet_catalogue_table, universe_tables
from engine_kernels.ids import merchant_ids
from engine_kernels.merchants.catalogue import MerchantUniverse, build_universe
from engine_kernels.randomness import substreams

GROUP = "seg_1a"
UNIVERSE_TABLES = ("merchants", "outlet_counts", "candidate_countries", "foreign_membership")
# The substream labels whose draws each table records in its manifest.
DRAWS_OF = {
    "merchants": (substreams.MERCHANT_HOME, substreams.MERCHANT_MCC, substreams.MERCHANT_CHANNEL),
    "outlet_counts": (substreams.OUTLET_HURDLE, substreams.OUTLET_COUNT_NB),
    "candidate_countries": (),
    "foreign_membership": (substreams.CROSS_BORDER, substreams.FOREIGN_COUNT, substreams.FOREIGN_PICK),
}


def draw_universe(
    identity: RunIdentity, countries: pl.DataFrame, tz_grid: pl.LazyFrame, mcc: pl.DataFrame
) -> MerchantUniverse:
    """The 1A draws of this world from the reference countries, populated cells and merchant categories."""
    return build_universe(
        merchant_ids(identity.profile.merchants), active_countries(identity, countries, tz_grid),
        merchant_categories(mcc), identity.policies.merchants.model, identity.substream_key,
    )


def catalogue_shards(membership: pl.DataFrame, countries: list[str]) -> dict[str, pl.DataFrame]:
    """The outlet catalogue of the given legal countries (empty where no merchant has an outlet)."""
    catalogue = pl.from_arrow(outlet_catalogue_table(membership.to_arrow()))
    shards = catalogue.partition_by("legal_country_iso", as_dict=True, maintain_order=True)
    return {key: shards.get((key,), catalogue.clear()) for key in countries}


@dg.multi_asset(
    outs={name: dataset_out(f"{GROUP}/{name}") for name in UNIVERSE_TABLES},
    **upstream(GROUP, ins={"countries": "reference/countries", "tz_grid": "reference/tz_grid", "mcc": "reference/mcc"}),
    group_name=GROUP,
)
def merchant_universe(context: dg.AssetExecutionContext, engine: EngineResource, countries: pl.LazyFrame,
                      tz_grid: pl.LazyFrame, mcc: pl.LazyFrame):
    """Merchants (home ∝ GDP^0.85, MCC, channel), outlet counts (hurdle, truncated NB2), gravity-ranked
    candidate countries and the countries each merchant operates in with its outlets there."""
    identity = engine.identity()
    frame = countries.drop("geometry_wkb", "geometry_simplified_wkb").collect()
    universe = draw_universe(identity, frame, tz_grid, mcc.collect())
    tables = universe_tables(universe)
    context.add_output_metadata({"truncation_fallbacks": universe.outlet_counts.truncation_fallbacks},
                                output_name="outlet_counts")
    return tuple(
        Publication(tables[name], {label: universe.rng_draws.get(label, 0) for label in DRAWS_OF[name]})
        for name in UNIVERSE_TABLES
    )


@dg.asset(
    key=[GROUP, "outlet_catalogue"],
    **upstream(GROUP, ins={"foreign_membership": f"{GROUP}/foreign_membership"}),
    **per_country(GROUP),
)
def outlet_catalogue(context: dg.AssetExecutionContext, foreign_membership: pl.LazyFrame):
    """One row per outlet, single-site merchants included, written per legal country."""
    return catalogue_shards(foreign_membership.collect(), countries_in(context.partition_keys))


ASSETS = [merchant_universe, outlet_catalogue]
