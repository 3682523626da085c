"""What 1A draws from: the reference world's countries and merchant categories as kernel inputs.

3B places CDN edges among the same active countries, so it reads them from here too.
"""

import numpy as np
import polars as pl

from engine_assets.run.errors import EngineConfigError
from engine_assets.run.identity import RunIdentity
from engine_kernels.geography.geodesy import cell_centres, cell_rows_cols
from engine_kernels.merchants.inputs import Countries, Mccs, national_gdp
from engine_kernels.reference.world import centres_of_population


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
