"""Zones of sites (engine_kernels/civil_time/site_zones.py): each answer and where it came from."""

import numpy as np
import pytest

from engine_kernels.civil_time.site_zones import SOURCES, site_zones

# A toy country of two zones: west of lon 0 is "Z/West", east of it "Z/East"; the polygons miss
# the strip 0.5 < lat < 0.501 (a coast) and everything north of lat 2 (reclaimed land).
ZONES = ("Z/East", "Z/West")


def _lookup(lat, lon):
    answer = np.where(np.asarray(lon) < 0, "Z/West", "Z/East").astype(object)
    answer[((lat > 0.5) & (lat < 0.501)) | (lat > 2)] = None
    return answer


def _labelled():
    return np.array([1.0, 1.0]), np.array([-1.0, 1.0]), np.array(["Z/West", "Z/East"], dtype=object)


def _sources(zones):
    return [SOURCES[s] for s in zones.source]


def test_polygon_nudge_and_nearest_in_that_order():
    lat, lon = np.array([0.1, 0.5005, 3.0]), np.array([-0.3, 0.2, 0.9])
    zones = site_zones(lat, lon, _lookup, _labelled, nudge_deg=0.002, country_zones=ZONES)
    assert zones.tzid.tolist() == ["Z/West", "Z/East", "Z/East"]
    assert _sources(zones) == ["polygon", "nudge", "nearest"]


def test_an_override_replaces_the_answer_and_says_so_where_it_changed_it():
    lat, lon = np.array([0.1, 0.1]), np.array([-0.3, 0.3])
    zones = site_zones(lat, lon, _lookup, _labelled, nudge_deg=0.002, override="Z/East", country_zones=ZONES)
    assert zones.tzid.tolist() == ["Z/East", "Z/East"] and _sources(zones) == ["override", "polygon"]


def test_a_country_of_one_zone_answers_without_asking_the_polygons():
    def refuse(*_):
        raise AssertionError("no lookup for a country of one zone")

    lat, lon = np.array([0.1, 3.0]), np.array([-0.3, 0.9])  # the second lies where the polygons miss
    zones = site_zones(lat, lon, refuse, refuse, nudge_deg=0.002, country_zones=("Z/Only",))
    assert zones.tzid.tolist() == ["Z/Only", "Z/Only"] and _sources(zones) == ["only_zone", "only_zone"]


def test_a_country_without_labelled_cells_cannot_fall_back():
    with pytest.raises(ValueError, match="no populated cell labelled"):
        site_zones(np.array([3.0]), np.array([0.9]), _lookup, lambda: (np.empty(0), np.empty(0), np.empty(0)),
                   nudge_deg=0.002, country_zones=ZONES)
