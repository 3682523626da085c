"""Segment 1B placement kernel on a synthetic country with known geometry."""

import numpy as np
import shapely

from engine_kernels.geography.geodesy import cell_rows_cols, flat_cell
from engine_kernels.randomness.streams import label_key
from engine_kernels.reference.world import CountryCells
from engine_kernels.sites.placement import PlacementPolicy, SiteGroups, place_sites

RES = 1 / 12
POLICY = PlacementPolicy(base_km=20, exponent=0.6, max_km=2500, max_attempts=64)
# A 4° x 4° country at 40-44 N, 0-4 E, with a 1° x 1° lake (not country) in its south-west corner.
COUNTRY = shapely.difference(shapely.box(0, 40, 4, 44), shapely.box(0, 40, 1, 41))
shapely.prepare(COUNTRY)


def keys(label):
    return label_key(11, "ef" * 32, label)


def cells() -> CountryCells:
    rows, cols = np.meshgrid(np.arange(552, 600), np.arange(2160, 2208), indexing="ij")  # lat 44..40, lon 0..4
    rows, cols = rows.ravel(), cols.ravel()
    lat = 90 - (rows + 0.5) * RES
    # People crowd in a city at (43, 3) and thin out; the lake cells carry population too (a
    # coarse grid smears it), so sites drawn there must fall back or be rejected into land.
    population = 1 + 5000 * np.exp(-((lat - 43) ** 2 + ((-180 + (cols + 0.5) * RES) - 3) ** 2) / 0.05)
    cumulative = np.cumsum(population) / population.sum()
    return CountryCells("AA", "Zone/A", rows.astype(np.int32), cols.astype(np.int32), population, cumulative, RES)


def inside(lat, lon):
    return shapely.contains_xy(COUNTRY, lon, lat)


def fallback(c: CountryCells):
    ok = inside(c.lat, c.lon)
    return c.lat[ok], c.lon[ok], flat_cell(c.rows, c.cols)[ok]


def groups(n_sites):
    n = np.asarray(n_sites)
    first = np.ones(n.size, np.int64)
    return SiteGroups(np.arange(1, n.size + 1, dtype=np.uint64), n, n, first)


def place(g, c=None, policy=POLICY):
    c = c or cells()
    return place_sites(g, c, (np.array([43.0]), np.array([3.0]), np.array([1e6])), COUNTRY, lambda: fallback(c), policy, keys)


def test_every_site_inside_the_country_and_in_its_cell_unless_it_fell_back():
    c = cells()
    sites = place(groups(np.random.default_rng(1).integers(1, 30, 800)), c)
    assert inside(sites.lat, sites.lon).all()
    rows, cols = cell_rows_cols(sites.cell)
    ok = ~sites.is_fallback
    assert (np.abs(sites.lat[ok] - (90 - (rows[ok] + 0.5) * RES)) <= RES / 2 + 1e-12).all()
    assert (np.abs(sites.lon[ok] - (-180 + (cols[ok] + 0.5) * RES)) <= RES / 2 + 1e-12).all()
    # Uniform jitter: 12k sites in a few hundred cells almost never share a 4-decimal coordinate.
    assert np.unique(np.round(sites.lat * 1e4) + 1j * np.round(sites.lon * 1e4)).size >= 0.999 * sites.lat.size


def test_a_cell_wholly_in_the_lake_falls_back_to_the_nearest_inland_centre():
    lake = CountryCells("AA", "Zone/A", np.array([594, 590], np.int32), np.array([2165, 2190], np.int32),
                        np.array([1e6, 1e-9]), np.array([1.0 - 1e-15, 1.0]), RES)
    land = cells()
    sites = place_sites(groups([1] * 50), lake, (np.empty(0), np.empty(0), np.empty(0)), COUNTRY, lambda: fallback(land),
                        POLICY, keys)
    assert sites.is_fallback.all() and inside(sites.lat, sites.lon).all()
    assert sites.lat.max() < 41.1 and sites.lon.min() >= 1.0  # the nearest land to (40.5, 0.45)


def test_chains_cluster_and_spread_grows_with_size():
    c = cells()
    small = place(SiteGroups(np.arange(1, 201, dtype=np.uint64), np.full(200, 5), np.full(200, 5),
                             np.ones(200, np.int64)), c)
    big = place(SiteGroups(np.arange(1, 21, dtype=np.uint64), np.full(20, 300), np.full(20, 300),
                           np.ones(20, np.int64)), c)

    def spread(s):
        return np.mean([np.std(s.lat[s.merchant_id == m]) + np.std(s.lon[s.merchant_id == m])
                        for m in np.unique(s.merchant_id)])
    assert spread(small) < 0.65 * spread(big)


def test_sites_do_not_depend_on_other_merchants():
    c = cells()
    n = np.random.default_rng(4).integers(1, 12, 300)
    whole = place(groups(n), c)
    chosen = np.array([3, 77, 150, 299])
    part = place(SiteGroups(np.arange(1, 301, dtype=np.uint64)[chosen], n[chosen], n[chosen],
                            np.ones(4, np.int64)), c)
    keep = np.isin(whole.merchant_id, chosen + 1)
    assert (whole.lat[keep] == part.lat).all() and (whole.lon[keep] == part.lon).all()


def test_an_atoll_without_inland_cell_centres_still_gets_its_sites_inside():
    atoll = shapely.Polygon([(3.01, 43.01), (3.02, 43.01), (3.02, 43.015)])  # a sliver far from any cell centre
    shapely.prepare(atoll)
    c = cells()
    sites = place_sites(groups([3]), c, (np.array([43.0]), np.array([3.0]), np.array([1e6])), atoll,
                        lambda: (np.empty(0), np.empty(0), np.empty(0, np.int64)), POLICY, keys)
    assert shapely.intersects_xy(atoll, sites.lon, sites.lat).all()
    assert np.unique(sites.lat).size == 3  # sampled inside the atoll, not stacked on one point
    # Only a site whose cell holds part of the atoll keeps its cell; the others are fallbacks.
    assert (sites.is_fallback == (sites.cell != flat_cell(563, 2196))).all()
