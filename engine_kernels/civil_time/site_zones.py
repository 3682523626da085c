"""Segment 2A: the IANA time zone of every site, with where the answer came from.

0. only_zone: a country with a single zone (Belgium, Macau) gives it to every site; no polygon is
            asked, so a site on reclaimed land or a coast the zone polygons miss is never a fallback;
1. polygon: the zone polygon holding the point, kept only if it is one of the country's zones;
2. nudge:   the first of the four diagonal offsets (±d, ±d) whose polygon zone is one of them
            (a point on a border or a coast that the polygons miss by a hair);
3. nearest: the zone of the nearest populated cell of the country labelled with one of its zones;
4. override: the country's one legal clock from the policy replaces whatever 1–3 said, and the
            source says so wherever that changed the zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from engine_kernels.geography.geodesy import unit_vectors

__all__ = ["SOURCES", "SiteZones", "site_zones"]

SOURCES = ("polygon", "nudge", "nearest", "override", "only_zone")
_NUDGES = ((1, 1), (1, -1), (-1, 1), (-1, -1))


@dataclass(frozen=True)
class SiteZones:
    tzid: np.ndarray  # object (str)
    source: np.ndarray  # int8 index into SOURCES


def site_zones(
    lat: np.ndarray, lon: np.ndarray, lookup: Callable[[np.ndarray, np.ndarray], np.ndarray],
    labelled: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]], nudge_deg: float, override: str | None = None,
    country_zones: tuple[str, ...] = (),
) -> SiteZones:
    """Zones of one country's sites.

    `lookup(lat, lon)` answers the polygon zone if it is one of the country's zones, else None;
    `labelled()` gives (lat, lon, tzid) of the country's populated cells whose zone is one of
    them (asked only if some site needs it); `country_zones` are the country's zones, and one
    alone answers for every site (unless the policy overrides it).
    """
    lat, lon = np.asarray(lat, np.float64), np.asarray(lon, np.float64)
    if len(country_zones) == 1 and override is None:
        return SiteZones(np.full(lat.shape[0], country_zones[0], dtype=object), np.full(lat.shape[0], 4, np.int8))
    tzid = np.asarray(lookup(lat, lon), dtype=object)
    source = np.zeros(lat.shape[0], np.int8)
    missing = np.flatnonzero(np.equal(tzid, None))
    for dlat, dlon in _NUDGES:
        if missing.size == 0:
            break
        answer = np.asarray(lookup(lat[missing] + dlat * nudge_deg, lon[missing] + dlon * nudge_deg), dtype=object)
        found = ~np.equal(answer, None)
        tzid[missing[found]] = answer[found]
        source[missing[found]] = 1
        missing = missing[~found]
    if missing.size:
        cell_lat, cell_lon, cell_tzid = labelled()
        if cell_lat.size == 0:
            raise ValueError("a country with sites has no populated cell labelled with one of its zones")
        _, nearest = cKDTree(unit_vectors(cell_lat, cell_lon)).query(unit_vectors(lat[missing], lon[missing]))
        tzid[missing] = np.asarray(cell_tzid, dtype=object)[nearest]
        source[missing] = 2
    if override is not None:
        changed = tzid != override
        tzid[:] = override
        source[changed] = 3
    return SiteZones(tzid, source)
