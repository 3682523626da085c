"""Segment 1A kernel: merchant universe, outlet counts, cross-border split and outlet catalogue."""

import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from engine_assets.run.policies import parse_policy_1a
from engine_kernels.ids import merchant_ids
from engine_kernels.merchants.catalogue import MerchantUniverse, OutletRows, build_universe, expand_outlets
from engine_kernels.merchants.inputs import Countries, Mccs, national_gdp
from engine_kernels.merchants.realism import realism_figures
from engine_kernels.randomness.streams import label_key
from engine_kernels.vocabulary import CHANNELS, SECTORS

CONFIG = Path(__file__).resolve().parents[3] / "config"
POLICY = yaml.safe_load((CONFIG / "policies" / "1a.yaml").read_text())

# iso, GDP (USD bn), population (M), representative lat, lon, currency, region: rounded 2023 figures.
WORLD = """
US 27360 335 39.8 -98.6 USD Americas    CN 17790 1410 35.0 103.0 CNY Asia     DE 4460 84 51.2 10.4 EUR Europe
JP 4210 125 36.2 138.3 JPY Asia         IN 3550 1430 21.0 78.0 INR Asia       GB 3340 68 54.0 -2.0 GBP Europe
FR 3030 68 46.6 2.5 EUR Europe          IT 2250 59 42.8 12.6 EUR Europe       BR 2170 216 -10.8 -52.9 BRL Americas
CA 2140 40 56.1 -106.3 CAD Americas     RU 2020 144 61.5 105.3 RUB Europe     MX 1790 129 23.6 -102.6 MXN Americas
KR 1710 52 36.5 127.9 KRW Asia          AU 1720 27 -25.3 133.8 AUD Oceania    ES 1580 48 40.4 -3.7 EUR Europe
ID 1370 278 -2.5 118.0 IDR Asia         NL 1120 18 52.1 5.3 EUR Europe        TR 1110 85 39.0 35.2 TRY Asia
SA 1070 37 23.9 45.1 SAR Asia           CH 885 9 46.8 8.2 CHF Europe          PL 810 37 51.9 19.1 PLN Europe
AR 640 46 -38.4 -63.6 ARS Americas      BE 630 12 50.5 4.5 EUR Europe         SE 590 10.5 62.0 15.0 SEK Europe
IE 545 5.3 53.4 -8.2 EUR Europe         TH 515 72 15.9 101.0 THB Asia         IL 510 9.8 31.0 34.9 ILS Asia
AT 515 9.1 47.5 14.6 EUR Europe         NO 485 5.5 60.5 8.5 NOK Europe       AE 505 9.5 23.4 53.8 AED Asia
SG 500 5.9 1.35 103.8 SGD Asia          NG 363 224 9.1 8.7 NGN Africa         VN 430 99 14.1 108.3 VND Asia
MY 400 34 4.2 102.0 MYR Asia            PH 437 117 12.9 121.8 PHP Asia        DK 405 5.9 56.3 9.5 DKK Europe
EG 396 113 26.8 30.8 EGP Africa         ZA 380 60 -30.6 22.9 ZAR Africa       CO 364 52 4.6 -74.3 COP Americas
CL 335 19.6 -35.7 -71.5 CLP Americas    FI 300 5.6 61.9 25.7 EUR Europe       PT 287 10.4 39.4 -8.2 EUR Europe
NZ 253 5.2 -40.9 174.9 NZD Oceania      PE 268 34 -9.2 -75.0 PEN Americas     GR 240 10.4 39.1 21.8 EUR Europe
KE 108 55 0.0 37.9 KES Africa           MA 141 37 31.8 -7.1 MAD Africa        LU 86 0.66 49.8 6.1 EUR Europe
IR 400 89 32.4 53.7 IRR Asia            MC 9 0.039 43.74 7.42 EUR Europe
"""

SECTOR_CODES = {
    "grocery": [5411, 5422, 5499], "restaurants": [5812, 5814], "fuel": [5541, 5542],
    "retail": [5311, 5651, 5732, 5941], "travel": [3000, 3001, 4111, 4511, 7011],
    "digital": [5815, 5816, 5817], "services": [7230, 7299, 8111], "utilities": [4900],
    "health": [5912, 8011, 8062], "government": [9311, 9399], "financial": [6010, 6011],
    "entertainment": [7832, 7996],
}

# How many leading columns of each kind of row (see `rows`) identify it.
ROW_KEYS = {"merchants": 1, "outlet_counts": 1, "candidates": 2, "membership": 2, "outlets": 3}


def make_countries(rows=None) -> Countries:
    fields = np.array(WORLD.split(), dtype=object).reshape(-1, 7) if rows is None else rows
    gdp = fields[:, 1].astype(float) * 1e9
    population = fields[:, 2].astype(float) * 1e6
    return Countries(
        iso=list(fields[:, 0]), gdp_usd=gdp, gdp_per_capita=gdp / population, population=population,
        lat=fields[:, 3].astype(float), lon=fields[:, 4].astype(float),
        currency=list(fields[:, 5]), region=list(fields[:, 6]),
    )


def make_mccs() -> Mccs:
    pairs = [(code, sector) for sector, codes in SECTOR_CODES.items() for code in codes]
    return Mccs(mcc=np.array([c for c, _ in pairs], np.int16), sector=np.array([s for _, s in pairs], object))


def keys(label: str) -> int:
    return label_key(20260101, "ab" * 32, label)


def build(ids, policy=None, countries=None):
    policy = parse_policy_1a(POLICY) if policy is None else policy
    return build_universe(np.asarray(ids, np.uint64), countries or make_countries(), make_mccs(), policy, keys)


@pytest.fixture(scope="module")
def universe_10k():
    return build(merchant_ids(10_000))


def outlets(u: MerchantUniverse) -> OutletRows:
    return expand_outlets(u.membership.merchant, u.membership.n_country, u.membership.is_home)


def rows(u: MerchantUniverse) -> dict[str, list[np.ndarray]]:
    """Every draw as columns keyed by merchant id, countries by ISO code: independent of which
    merchants and countries were built alongside."""
    ids, iso = u.merchants.merchant_id, u.countries.iso.astype(str)
    m, c, cand, fm, o = u.merchants, u.outlet_counts, u.candidates, u.membership, outlets(u)
    return {
        "merchants": [ids, iso[m.home], m.mcc, m.sector, m.channel, m.gdp_band],
        "outlet_counts": [ids, c.is_multi_site, c.n_total, c.nb_mu, c.nb_phi, c.nb_attempts],
        "candidates": [np.repeat(ids, np.diff(cand.offsets)), cand.rank, iso[cand.country], cand.weight],
        "membership": [ids[fm.merchant], iso[fm.country], fm.n_country, fm.is_home],
        "outlets": [ids[o.merchant], iso[fm.country[o.membership_row]], o.site_order, iso[fm.country[o.home_row]],
                    o.n_country, o.n_total],
    }


def assert_same_rows(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)  # NaN equals NaN here: single-site merchants have no NB2


# --------------------------------------------------------------------------- inputs


def test_missing_gdp_is_gdp_per_head_times_population():
    gdp = national_gdp(np.array([5e12, 0.0]), np.array([40_000.0, 2_000.0]), np.array([1_000_000, 3_000]))
    assert gdp.tolist() == [5e12, 6e6]


# --------------------------------------------------------------------------- bad input


def test_merchant_count_below_one_is_rejected():
    with pytest.raises(ValueError, match="merchants"):
        merchant_ids(0)
    with pytest.raises(ValueError, match="merchants"):
        build(np.array([], np.uint64))
    with pytest.raises(ValueError, match="merchants"):
        build([3, 3])


def test_empty_or_invalid_country_set_is_rejected():
    with pytest.raises(ValueError, match="empty"):
        make_countries(np.empty((0, 7), dtype=object))
    rows = np.array(WORLD.split(), dtype=object).reshape(-1, 7)
    rows[0, 1] = "-5"
    with pytest.raises(ValueError, match="countries.gdp_usd"):
        make_countries(rows)


# --------------------------------------------------------------------------- determinism


def test_output_identical_for_any_batching():
    ids = np.arange(1, 2001, dtype=np.uint64)
    whole = build(ids)
    shuffled = np.random.default_rng(11).permutation(ids)
    parts = [build(chunk) for chunk in np.split(shuffled, [1, 300, 301, 1250])]
    expected = rows(whole)
    for name, keys in ROW_KEYS.items():
        joined = [np.concatenate(columns) for columns in zip(*(rows(p)[name] for p in parts))]
        order = np.lexsort(joined[:keys][::-1])
        assert_same_rows([column[order] for column in joined], expected[name])
    totals = {}
    for part in parts:
        for label, words in part.rng_draws.items():
            totals[label] = totals.get(label, 0) + words
    assert totals == whole.rng_draws
    assert sum(p.outlet_counts.truncation_fallbacks for p in parts) == whole.outlet_counts.truncation_fallbacks


def test_country_order_does_not_matter():
    world = np.array(WORLD.split(), dtype=object).reshape(-1, 7)
    a, b = rows(build(range(1, 801))), rows(build(range(1, 801), countries=make_countries(world[::-1])))
    for name in ROW_KEYS:
        assert_same_rows(a[name], b[name])


def test_rng_draws_account_every_substream(universe_10k):
    draws = universe_10k.rng_draws
    n = 10_000
    assert draws["1a.home"] == n and draws["1a.hurdle"] == n and draws["1a.channel"] == n
    assert draws["1a.mcc"] == 2 * n
    multi = universe_10k.outlet_counts.is_multi_site.sum()
    # Every NB attempt draws at least a Gamma (4 words) and a Poisson (2 words).
    assert draws["1a.nb"] >= 6 * multi
    assert set(draws) == {"1a.home", "1a.mcc", "1a.channel", "1a.hurdle", "1a.nb",
                          "1a.cross_border", "1a.foreign_count", "1a.foreign_pick"}


# --------------------------------------------------------------------------- structure


def test_outlets_conserved_per_merchant(universe_10k):
    n_total = universe_10k.outlet_counts.n_total
    fm, catalogue = universe_10k.membership, outlets(universe_10k)
    per_merchant = np.bincount(catalogue.merchant, minlength=n_total.size)
    assert (per_merchant == n_total).all()  # single-site merchants included: every merchant has >= 1 outlet
    assert (np.bincount(fm.merchant, weights=fm.n_country, minlength=n_total.size) == n_total).all()
    assert (catalogue.n_total == n_total[catalogue.merchant]).all()


def test_catalogue_sorted_with_contiguous_site_order(universe_10k):
    catalogue = outlets(universe_10k)
    merchant, site = catalogue.merchant, catalogue.site_order
    country = universe_10k.membership.country[catalogue.membership_row]
    assert (np.lexsort((site, country, merchant)) == np.arange(site.size)).all()
    first = np.concatenate(([True], (merchant[1:] != merchant[:-1]) | (country[1:] != country[:-1])))
    starts = np.flatnonzero(first)
    assert (site[starts] == 1).all()
    assert (np.diff(site)[~first[1:]] == 1).all()
    ends = np.append(starts[1:], site.size) - 1
    assert (site[ends] == catalogue.n_country[ends]).all()


def test_outlet_expansion_needs_one_home_per_merchant():
    with pytest.raises(ValueError, match="exactly one home row per merchant"):
        expand_outlets(np.array([1, 1, 2]), np.array([2, 1, 3]), np.array([True, True, True]))
    with pytest.raises(ValueError, match="sorted by merchant"):
        expand_outlets(np.array([2, 1]), np.array([1, 1]), np.array([True, True]))


def test_membership_within_candidates_and_ranks_contiguous(universe_10k):
    cand, fm = universe_10k.candidates, universe_10k.membership
    owner = np.repeat(np.arange(10_000), np.diff(cand.offsets))
    rank_of = dict(zip(zip(owner.tolist(), cand.country.tolist()), cand.rank.tolist()))
    ranks = [rank_of.get(pair) for pair in zip(fm.merchant.tolist(), fm.country.tolist())]
    assert None not in ranks
    assert (fm.is_home == (np.array(ranks) == 0)).all()
    first = np.concatenate(([True], owner[1:] != owner[:-1]))
    assert (cand.rank[first] == 0).all() and (np.diff(cand.rank)[~first[1:]] == 1).all()
    assert np.unique(owner).size == 10_000 and (cand.weight > 0).all()
    assert (fm.n_country >= 1).all()


def test_foreign_count_bounded_by_outlets_and_candidates(universe_10k):
    n_total = universe_10k.outlet_counts.n_total
    fm = universe_10k.membership
    k = np.bincount(fm.merchant[~fm.is_home], minlength=n_total.size)
    candidates = np.diff(universe_10k.candidates.offsets) - 1
    assert (k <= n_total - 1).all() and (k <= candidates).all()
    assert (candidates[n_total == 1] == 0).all()


def test_home_keeps_its_floor_up_to_one_outlet_per_foreign_country(universe_10k):
    policy = parse_policy_1a(POLICY)
    fm = universe_10k.membership
    n_total = universe_10k.outlet_counts.n_total
    k = np.bincount(fm.merchant[~fm.is_home], minlength=n_total.size)
    n_home = np.zeros(n_total.size, np.int64)
    n_home[fm.merchant[fm.is_home]] = fm.n_country[fm.is_home]
    crosses = k > 0
    floor = policy.home_share.of(n_total)
    assert crosses.sum() > 100
    assert (n_home[crosses] > floor[crosses] * n_total[crosses] - k[crosses] - 1).all()


def test_sanctioned_homes_get_no_foreign_candidates(universe_10k):
    iso = universe_10k.countries.iso.astype(str)
    cand = universe_10k.candidates
    sanctioned = np.isin(iso[universe_10k.merchants.home], ["IR", "RU"])
    assert sanctioned.sum() > 50
    assert (np.diff(cand.offsets)[sanctioned] == 1).all()  # the home only
    assert not np.isin(iso[cand.country[cand.rank > 0]], ["IR", "RU"]).any()


def test_truncation_falls_back_to_two_and_is_counted():
    policy = copy.deepcopy(POLICY)
    policy["outlet_count"]["mean"]["base"] = 0.01
    policy["outlet_count"]["max_attempts"] = 2
    counts = build(range(1, 3001), policy=parse_policy_1a(policy)).outlet_counts
    multi, attempts = counts.is_multi_site, counts.nb_attempts
    assert (counts.n_total[multi] >= 2).all()
    assert (attempts[~multi] == 0).all() and (attempts[multi] >= 1).all()
    assert np.isnan(counts.nb_mu).sum() == (~multi).sum()
    assert 0 < counts.truncation_fallbacks <= multi.sum()
    assert counts.truncation_fallbacks <= ((counts.n_total == 2) & (attempts == 2)).sum()


def test_outlet_counts_follow_truncated_nb2():
    policy = copy.deepcopy(POLICY)
    policy["outlet_count"]["mean"] = {"base": 8.0}
    policy["outlet_count"]["dispersion"] = {"base": 1.3}
    counts = build(range(1, 20_001), policy=parse_policy_1a(policy)).outlet_counts
    n = counts.n_total[counts.is_multi_site]
    # NB2(μ, φ) is scipy's nbinom(φ, φ / (φ + μ)); condition on N >= 2 and pool the tail above 40.
    pmf = stats.nbinom.pmf(np.arange(2, 41), 1.3, 1.3 / 9.3) / stats.nbinom.sf(1, 1.3, 1.3 / 9.3)
    expected = np.append(pmf, 1.0 - pmf.sum()) * n.size
    observed = np.append(np.bincount(np.minimum(n, 41), minlength=42)[2:41], (n > 40).sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_merchant_attributes_follow_policy(universe_10k):
    merchants, countries = universe_10k.merchants, universe_10k.countries
    codes = {c for codes in SECTOR_CODES.values() for c in codes}
    assert set(merchants.mcc.tolist()) <= codes
    sector = np.asarray(SECTORS)[merchants.sector]
    cnp = np.asarray(CHANNELS)[merchants.channel] == "card_not_present"
    assert cnp[sector == "digital"].mean() > 0.6 and cnp[sector == "grocery"].mean() < 0.2
    homes = countries.iso.astype(str)[merchants.home]
    by_iso = dict(zip(*np.unique(homes, return_counts=True)))
    assert by_iso["US"] > by_iso["DE"] > by_iso["LU"] and by_iso["IN"] > 10 * by_iso.get("MC", 0)
    assert (countries.currency[merchants.home[homes == "FR"]] == "EUR").all()


# --------------------------------------------------------------------------- realism


def test_realism_corridors_at_10k(universe_10k):
    counts, fm = universe_10k.outlet_counts, universe_10k.membership
    f = realism_figures(counts.n_total, counts.is_multi_site, counts.nb_phi, fm.merchant, fm.n_country, fm.is_home)
    assert 0.35 <= f["single_site_share"] <= 0.55
    assert 6 <= f["median_multi_site_outlets"] <= 20
    assert 0.35 <= f["top10_outlet_share"] <= 0.55
    assert 0.45 <= f["gini_outlets"] <= 0.62
    assert 0.08 <= f["foreign_outlet_share"] <= 0.20
    assert f["foreign_share_increasing"] and len(f["foreign_share_by_size_band"]) == 4
    assert f["max_outlets"] < 5000
    assert 0.05 <= f["dispersion_cv"] <= 0.20


def test_another_seed_builds_another_universe():
    ids = merchant_ids(500)
    other = rows(build_universe(ids, make_countries(), make_mccs(), parse_policy_1a(POLICY),
                                lambda label: label_key(20260102, "ab" * 32, label)))
    same = rows(build(ids))
    for name in ROW_KEYS:
        assert_same_rows(rows(build(ids))[name], same[name])
    assert not np.array_equal(other["merchants"][1], same["merchants"][1])  # homes
    assert not np.array_equal(other["outlets"][1], same["outlets"][1])  # outlet countries
