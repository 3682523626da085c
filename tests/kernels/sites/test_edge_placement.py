"""3B edge placement: every edge at a point of its own country, with one of its zones, keyed on (merchant, edge)."""

import numpy as np
import shapely

from engine_kernels.randomness.streams import label_key
from engine_kernels.reference.world import ReferenceWorld
from engine_kernels.sites.edge_placement import place_edges
from engine_kernels.sites.placement import PlacementPolicy
from engine_kernels.sites.virtual import Edges

RES = 10.0  # 18 x 36 cells of 10 degrees
PLACEMENT = PlacementPolicy(base_km=20, exponent=0.6, max_km=2500, max_attempts=64)


def _world() -> ReferenceWorld:
    """AA: two cells at lat 40..50, lon 0..20 in two zones; BB: one cell south of it."""
    population = np.zeros((18, 36), np.float32)
    country = np.zeros((18, 36), np.uint16)
    country[4, 18:20], country[5, 18] = 1, 2
    population[4, 18], population[4, 19], population[5, 18] = 300, 100, 50
    zones = {"Zone/West": np.array([4 * 36 + 18, 5 * 36 + 18]), "Zone/East": np.array([4 * 36 + 19])}
    polygons = {"AA": shapely.to_wkb(shapely.box(0, 40, 20, 50)), "BB": shapely.to_wkb(shapely.box(0, 30, 10, 40))}

    def lookup(lats, lons):
        return np.where(lons < 10, "Zone/West", "Zone/East").astype(object)

    return ReferenceWorld(population, country, ["AA", "BB"], zones, polygons,
                          {"AA": ["Zone/West", "Zone/East"], "BB": ["Zone/West"]}, lookup, resolution=RES)


# Merchant 7 has three edges (AA, BB, AA), merchant 9 two (BB, AA).
EDGES = Edges(profile=np.array([0, 2]), offsets=np.array([0, 3, 5]), country=np.array([0, 1, 0, 1, 0]),
              weight=np.full(5, 0.2), mix=np.full((2, 2), 0.5), draws={})


def keys(label):
    return label_key(9, "56" * 32, label)


def _place(overrides=None):
    def labelled(code):
        raise AssertionError(f"every edge of {code} lies in a zone polygon")

    return place_edges(EDGES, np.array([7, 9], np.uint64), ["AA", "BB"], _world(), labelled, PLACEMENT, 0.002,
                       overrides or {}, keys)


def test_edges_lie_in_their_country_with_its_zones():
    placed = _place()
    aa = np.array([True, False, True, False, True])
    assert ((placed.lat[aa] >= 40) & (placed.lat[aa] <= 50) & (placed.lon[aa] >= 0) & (placed.lon[aa] <= 20)).all()
    assert ((placed.lat[~aa] >= 30) & (placed.lat[~aa] <= 40) & (placed.lon[~aa] <= 10)).all()
    assert set(placed.tzid[~aa]) == {"Zone/West"} and set(placed.tzid[aa]) <= {"Zone/West", "Zone/East"}


def test_edge_ids_carry_merchant_and_index():
    placed = _place()
    assert placed.merchant_id.tolist() == [7, 7, 7, 9, 9] and placed.edge_index.tolist() == [0, 1, 2, 0, 1]
    assert placed.edge_id.tolist() == [7 << 16, (7 << 16) + 1, (7 << 16) + 2, 9 << 16, (9 << 16) + 1]
    assert placed.profile.tolist() == [0, 0, 0, 2, 2]


def test_an_override_gives_the_country_one_clock_and_draws_do_not_move():
    plain, held = _place(), _place({"AA": "Zone/East"})
    assert set(held.tzid[[0, 2, 4]]) == {"Zone/East"} and held.tzid[1] == "Zone/West"
    assert np.array_equal(plain.lat, held.lat) and np.array_equal(plain.lon, held.lon)
