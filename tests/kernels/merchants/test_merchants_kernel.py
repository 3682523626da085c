"""Segment 1A kernel: merchant universe, outlet counts, cross-border split and outlet catalogue."""

import copy
from pathlib import Path

import jsonschema
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml
from scipy import stats

from engine_assets.run.policies import parse_policy_1a
from engine_kernels.ids import merchant_ids
from engine_kernels.merchants.catalogue import build_universe
from engine_kernels.merchants.inputs import Countries, Mccs, national_gdp
from engine_kernels.merchants.realism import realism_figures
from engine_kernels.randomness.streams import label_key

CONFIG = Path(__file__).resolve().parents[3] / "config"
POLICY = yaml.safe_load((CONFIG / "policies" / "1a.yaml").read_text())
SCHEMA = yaml.safe_load((CONFIG / "schemas" / "policies" / "1a.schema.yaml").read_text())

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

SORT_KEYS = {
    "merchants": ["merchant_id"],
    "outlet_counts": ["merchant_id"],
    "candidate_countries": ["merchant_id", "rank"],
    "foreign_membership": ["merchant_id", "country_iso"],
    "outlet_catalogue": ["merchant_id", "legal_country_iso", "site_order"],
}


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


def ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table.combine_chunks())
    return sink.getvalue().to_pybytes()


def canonical(table: pa.Table, name: str) -> bytes:
    return ipc_bytes(table.sort_by([(k, "ascending") for k in SORT_KEYS[name]]))


# --------------------------------------------------------------------------- policy and schema


def test_policy_file_passes_its_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA).validate(POLICY)
    assert parse_policy_1a(POLICY).n_gdp_bands == 4


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("outlet_count", "dispersion", "base"), -1.3),
        (("outlet_count", "dispersion", "base"), 0),
        (("outlet_count", "mean", "base"), -9.0),
        (("hurdle", "sector", "pets"), 0.4),
        (("merchants", "sector_weights", "casinos"), 0.1),
        (("cross_border", "openness", "grocery"), 1.5),
        (("hurdle", "slope"), 1.0),
        (("candidates", "sanctioned_countries"), ["iran"]),
        (("split", "home_share_floor", "share"), [0.92, 0.85, 0.75, 0.4]),
    ],
)
def test_schema_rejects_bad_policy(path, value):
    bad = copy.deepcopy(POLICY)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("hurdle", "gdp_band"), [0.1, 0.2], "hurdle.gdp_band"),
        (("gdp_bands", "per_capita_edges_usd"), [14000, 4500, 40000], "gdp_bands.per_capita_edges_usd"),
        (("split", "home_share_floor", "max_outlets"), [10, 20], "split.home_share_floor.share"),
    ],
)
def test_cross_field_errors_name_the_field(path, value, field):
    bad = copy.deepcopy(POLICY)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        parse_policy_1a(bad)


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
    for name in SORT_KEYS:
        joined = pa.concat_tables([getattr(p, name) for p in parts])
        assert canonical(joined, name) == ipc_bytes(getattr(whole, name)), name
    totals = {}
    for part in parts:
        for label, words in part.rng_draws.items():
            totals[label] = totals.get(label, 0) + words
    assert totals == whole.rng_draws
    assert sum(p.truncation_fallbacks for p in parts) == whole.truncation_fallbacks


def test_country_order_does_not_matter():
    rows = np.array(WORLD.split(), dtype=object).reshape(-1, 7)
    reversed_world = make_countries(rows[::-1])
    a, b = build(range(1, 801)), build(range(1, 801), countries=reversed_world)
    for name in SORT_KEYS:
        assert ipc_bytes(getattr(a, name)) == ipc_bytes(getattr(b, name)), name


def test_rng_draws_account_every_substream(universe_10k):
    draws = universe_10k.rng_draws
    n = 10_000
    assert draws["1a.home"] == n and draws["1a.hurdle"] == n and draws["1a.channel"] == n
    assert draws["1a.mcc"] == 2 * n
    multi = pc.sum(universe_10k.outlet_counts["is_multi_site"]).as_py()
    # Every NB attempt draws at least a Gamma (4 words) and a Poisson (2 words).
    assert draws["1a.nb"] >= 6 * multi
    assert set(draws) == {"1a.home", "1a.mcc", "1a.channel", "1a.hurdle", "1a.nb",
                          "1a.cross_border", "1a.foreign_count", "1a.foreign_pick"}


# --------------------------------------------------------------------------- structure


def _per_merchant(table: pa.Table, column: str, n: int) -> np.ndarray:
    ids = table["merchant_id"].to_numpy().astype(np.int64) - 1
    return np.bincount(ids, weights=table[column].to_numpy(), minlength=n).astype(np.int64)


def test_outlets_conserved_per_merchant(universe_10k):
    n_total = universe_10k.outlet_counts["n_total"].to_numpy()
    catalogue = universe_10k.outlet_catalogue
    rows = np.bincount(catalogue["merchant_id"].to_numpy().astype(np.int64) - 1, minlength=n_total.size)
    assert (rows == n_total).all()  # single-site merchants included: every merchant has >= 1 row
    assert (_per_merchant(universe_10k.foreign_membership, "n_country", n_total.size) == n_total).all()
    owner = catalogue["merchant_id"].to_numpy().astype(np.int64) - 1
    assert (catalogue["n_total"].to_numpy() == n_total[owner]).all()


def test_catalogue_sorted_with_contiguous_site_order(universe_10k):
    catalogue = universe_10k.outlet_catalogue
    assert ipc_bytes(catalogue) == canonical(catalogue, "outlet_catalogue")
    merchant = catalogue["merchant_id"].to_numpy()
    country = catalogue["legal_country_iso"].to_numpy(zero_copy_only=False)
    first = np.concatenate(([True], (merchant[1:] != merchant[:-1]) | (country[1:] != country[:-1])))
    starts = np.flatnonzero(first)
    site = catalogue["site_order"].to_numpy()
    assert (site[starts] == 1).all()
    assert (np.diff(site)[~first[1:]] == 1).all()
    ends = np.append(starts[1:], site.size) - 1
    assert (site[ends] == catalogue["n_country"].to_numpy()[ends]).all()


def test_membership_within_candidates_and_ranks_contiguous(universe_10k):
    cand = universe_10k.candidate_countries
    joined = universe_10k.foreign_membership.join(
        cand.drop_columns(["is_home"]), ["merchant_id", "country_iso"], join_type="left outer"
    )
    assert joined["rank"].null_count == 0
    assert (joined["is_home"].to_numpy(zero_copy_only=False) == (joined["rank"].to_numpy() == 0)).all()
    ids = cand["merchant_id"].to_numpy()
    rank = cand["rank"].to_numpy()
    first = np.concatenate(([True], ids[1:] != ids[:-1]))
    assert (rank[first] == 0).all() and (np.diff(rank)[~first[1:]] == 1).all()
    assert np.unique(ids).size == 10_000 and (cand["weight"].to_numpy() > 0).all()
    assert (universe_10k.foreign_membership["n_country"].to_numpy() >= 1).all()


def test_foreign_count_bounded_by_outlets_and_candidates(universe_10k):
    n = 10_000
    n_total = universe_10k.outlet_counts["n_total"].to_numpy()
    fm = universe_10k.foreign_membership
    abroad = ~fm["is_home"].to_numpy(zero_copy_only=False)
    k = np.bincount(fm["merchant_id"].to_numpy().astype(np.int64)[abroad] - 1, minlength=n)
    candidates = np.bincount(universe_10k.candidate_countries["merchant_id"].to_numpy().astype(np.int64) - 1) - 1
    assert (k <= n_total - 1).all() and (k <= candidates).all()
    assert (candidates[n_total == 1] == 0).all()


def test_home_keeps_its_floor_up_to_one_outlet_per_foreign_country(universe_10k):
    policy = parse_policy_1a(POLICY)
    fm = universe_10k.foreign_membership
    idx = fm["merchant_id"].to_numpy().astype(np.int64) - 1
    home = fm["is_home"].to_numpy(zero_copy_only=False)
    n_total = universe_10k.outlet_counts["n_total"].to_numpy()
    k = np.bincount(idx[~home], minlength=n_total.size)
    n_home = np.zeros(n_total.size, np.int64)
    n_home[idx[home]] = fm["n_country"].to_numpy()[home]
    crosses = k > 0
    floor = policy.home_share.of(n_total)
    assert crosses.sum() > 100
    assert (n_home[crosses] > floor[crosses] * n_total[crosses] - k[crosses] - 1).all()


def test_sanctioned_homes_get_no_foreign_candidates(universe_10k):
    merchants = universe_10k.merchants
    sanctioned = pc.is_in(merchants["home_country_iso"], pa.array(["IR", "RU"]))
    ids = pc.filter(merchants["merchant_id"], sanctioned)
    assert len(ids) > 50
    cand = universe_10k.candidate_countries
    rows = cand.filter(pc.is_in(cand["merchant_id"], ids))
    assert rows.num_rows == len(ids) and pc.all(rows["is_home"]).as_py()
    foreign = cand.filter(pc.invert(cand["is_home"]))
    assert not pc.any(pc.is_in(foreign["country_iso"], pa.array(["IR", "RU"]))).as_py()


def test_truncation_falls_back_to_two_and_is_counted():
    policy = copy.deepcopy(POLICY)
    policy["outlet_count"]["mean"]["base"] = 0.01
    policy["outlet_count"]["max_attempts"] = 2
    u = build(range(1, 3001), policy=parse_policy_1a(policy))
    counts = u.outlet_counts
    multi = counts["is_multi_site"].to_numpy(zero_copy_only=False)
    assert (counts["n_total"].to_numpy()[multi] >= 2).all()
    attempts = counts["nb_attempts"].to_numpy()
    assert (attempts[~multi] == 0).all() and (attempts[multi] >= 1).all()
    assert counts["nb_mu"].null_count == (~multi).sum()
    assert 0 < u.truncation_fallbacks <= multi.sum()
    assert u.truncation_fallbacks <= ((counts["n_total"].to_numpy() == 2) & (attempts == 2)).sum()


def test_outlet_counts_follow_truncated_nb2():
    policy = copy.deepcopy(POLICY)
    policy["outlet_count"]["mean"] = {"base": 8.0}
    policy["outlet_count"]["dispersion"] = {"base": 1.3}
    counts = build(range(1, 20_001), policy=parse_policy_1a(policy)).outlet_counts
    n = counts["n_total"].to_numpy()[counts["is_multi_site"].to_numpy(zero_copy_only=False)]
    # NB2(μ, φ) is scipy's nbinom(φ, φ / (φ + μ)); condition on N >= 2 and pool the tail above 40.
    pmf = stats.nbinom.pmf(np.arange(2, 41), 1.3, 1.3 / 9.3) / stats.nbinom.sf(1, 1.3, 1.3 / 9.3)
    expected = np.append(pmf, 1.0 - pmf.sum()) * n.size
    observed = np.append(np.bincount(np.minimum(n, 41), minlength=42)[2:41], (n > 40).sum())
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_merchant_attributes_follow_policy(universe_10k):
    merchants = universe_10k.merchants
    codes = {c for codes in SECTOR_CODES.values() for c in codes}
    assert set(merchants["mcc"].to_pylist()) <= codes
    sector = np.array(merchants["sector"].to_pylist())
    cnp = np.array(merchants["channel"].to_pylist()) == "card_not_present"
    assert cnp[sector == "digital"].mean() > 0.6 and cnp[sector == "grocery"].mean() < 0.2
    homes = pc.value_counts(merchants["home_country_iso"]).to_pylist()
    by_iso = {h["values"]: h["counts"] for h in homes}
    assert by_iso["US"] > by_iso["DE"] > by_iso["LU"] and by_iso["IN"] > 10 * by_iso.get("MC", 0)
    french = pc.equal(merchants["home_country_iso"], "FR")
    assert pc.all(pc.equal(merchants["currency"].filter(french), "EUR")).as_py()


# --------------------------------------------------------------------------- realism


def test_realism_corridors_at_10k(universe_10k):
    f = realism_figures(universe_10k.outlet_counts, universe_10k.foreign_membership)
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
    other = build_universe(ids, make_countries(), make_mccs(), parse_policy_1a(POLICY),
                           lambda label: label_key(20260102, "ab" * 32, label))
    same = build(ids)
    assert ipc_bytes(build(ids).outlet_catalogue) == ipc_bytes(same.outlet_catalogue)
    assert ipc_bytes(other.merchants) != ipc_bytes(same.merchants)
    assert ipc_bytes(other.outlet_catalogue) != ipc_bytes(same.outlet_catalogue)
