"""Segment 1A: the merchant universe and its outlet catalogue.

`merchant_universe` draws every merchant, its outlet count, its candidate countries and the
countries it operates in, in one pass: the steps share arrays and every draw is keyed on
(label, merchant id), so publishing them as separate steps would only add reads. Each table is
its own asset with its own contract check. `outlet_catalogue` expands the membership into one
row per outlet, written per legal country so country-partitioned segments read only their shard.
"""

import dagster as dg
import numpy as np
import polars as pl

from engine_assets.run.errors import EngineConfigError
from engine_assets.run.identity import RunIdentity
from engine_assets.storage.io_manager import dataset_out
from engine_assets.run.partitions import per_country
from engine_assets.storage.publish import Publication
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import upstream
from engine_assets.world.seg_1a.tables import outlet_catalogue_table, universe_tables
from engine_kernels.geography.geodesy import cell_centres, cell_rows_cols
from engine_kernels.randomness import substreams
from engine_kernels.ids import merchant_ids
from engine_kernels.merchants.catalogue import MerchantUniverse, build_universe
from engine_kernels.merchants.inputs import Countries, Mccs, national_gdp
from engine_kernels.reference.world import centres_of_population

GROUP = "seg_1a"
UNIVERSE_TABLES = ("merchants", "outlet_counts", "candidate_countries", "foreign_membership")
# The substream labels whose draws each table records in its manifest.
DRAWS_OF = {
    "merchants": (substreams.MERCHANT_HOME, substreams.MERCHANT_MCC, substreams.MERCHANT_CHANNEL),
    "outlet_counts": (substreams.OUTLET_HURDLE, substreams.OUTLET_COUNT_NB),
    "candidate_countries": (),
    "foreign_membership": (substreams.CROSS_BORDER, substreams.FOREIGN_COUNT, substreams.FOREIGN_PICK),
}


def population_centres(tz_grid: pl.LazyFrame, codes: list[str]) -> np.ndarray:
    """float64[len(codes), 2]: (lat, lon) of each country's centre of population, from its populated cells."""
    index = pl.LazyFrame({"country_iso": codes, "group": np.arange(len(codes))})
    # Cells in file order: the sums below are floating point, so their order must never vary.
    cells = tz_grid.select("cell", pl.col("country_iso").cast(pl.String), "population").join(
        index, on="country_iso", maintain_order="left").collect()
    lat, lon = cell_centres(*cell_rows_cols(cells["cell"].to_numpy()))
    return np.column_stack(centres_of_population(lat, lon, cells["population"].to_numpy().astype(np.float64),
                                                 cells["group"].to_numpy(), len(codes)))


def active_countries(identity: RunIdentity, countries: pl.DataFrame, tz_grid: pl.LazyFrame) -> Countries:
    """Countries merchants may call home: the profile's, or every populated country of the reference world.

    GDP missing in Natural Earth is rebuilt from the imputed GDP per head, and the country's
    centre of population stands for it in gravity distances.
    """
    frame = countries.filter(pl.col("is_populated_world") & (pl.col("population") > 0))
    wanted = identity.profile.countries
    if wanted is not None:
        missing = sorted(set(wanted) - set(frame["country_iso"]))
        if missing:
            raise EngineConfigError(
                f"{identity.profile.path.name}: countries {', '.join(missing)} have no populated land in the "
                "reference world, so no merchant can live there; remove them from the profile's countries"
            )
        frame = frame.filter(pl.col("country_iso").is_in(list(wanted)))
    centres = population_centres(tz_grid, frame["country_iso"].to_list())
    return Countries(
        iso=frame["country_iso"].to_list(),
        gdp_usd=national_gdp(frame["gdp_usd"].to_numpy(), frame["gdp_per_capita"].to_numpy(),
                             frame["population"].to_numpy()),
        gdp_per_capita=frame["gdp_per_capita"].to_numpy(),
        population=frame["population"].to_numpy().astype(np.float64),
        lat=centres[:, 0],
        lon=centres[:, 1],
        currency=frame["currency"].to_list(),
        region=frame["region"].to_list(),
    )


def merchant_categories(mcc: pl.DataFrame) -> Mccs:
    return Mccs(mcc=mcc["mcc"].to_numpy(), sector=np.asarray(mcc["demand_sector"].cast(pl.String).to_list(), object))


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
    return catalogue_shards(foreign_membership.collect(), list(context.partition_keys))


ASSETS = [merchant_universe, outlet_catalogue]
