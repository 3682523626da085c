"""Parties of a country (engine_kernels/entities/parties.py): exact type counts, households, the
region's segment mix, age, income and tenure by segment, and draws keyed on the party alone."""

import numpy as np
import pytest

from engine_kernels.entities.parties import draw_parties, household_sizes
from engine_kernels.ids import entity_ids
from engine_kernels.tables.integerise import largest_remainder
from engine_kernels.vocabulary import AGE_BANDS, PARTY_TYPES, REGIONS, SEGMENTS, SEGMENTS_BY_TYPE

CI = 77
RETAIL = PARTY_TYPES.index("retail")
EUROPE, AFRICA = REGIONS.index("Europe"), REGIONS.index("Africa")


def _binomial_tol(p, n, z=5.0):
    return z * np.sqrt(p * (1 - p) / n) + 1e-9


@pytest.fixture(scope="module")
def europe(policy, kit):
    return draw_parties(200_000, CI, EUROPE, policy.parties, kit.make_draws())


@pytest.mark.parametrize("n", [0, 1, 7, 999, 1_000, 12_345])
def test_type_counts_are_exact_largest_remainder_shares_with_retail_first(policy, kit, n):
    parties = draw_parties(n, CI, EUROPE, policy.parties, kit.make_draws())
    per_type = np.bincount(parties.party_type, minlength=len(PARTY_TYPES))
    expected = largest_remainder(policy.parties.type_shares, n) if n else np.zeros(len(PARTY_TYPES), np.int64)
    assert per_type.tolist() == expected.tolist() and parties.size == n
    # Retail first, then business, then other: the types never decrease along the serials.
    assert (np.diff(parties.party_type) >= 0).all()
    assert parties.party_id.tolist() == entity_ids("party", CI, np.arange(1, n + 1, dtype=np.uint64)).tolist()


def test_known_type_counts_of_a_thousand_parties(policy, kit):
    parties = draw_parties(1_000, CI, EUROPE, policy.parties, kit.make_draws())
    assert np.bincount(parties.party_type).tolist() == [900, 80, 20]  # types {retail 0.90, business 0.08, other 0.02}


def test_households_hold_every_retail_party_in_consecutive_runs_of_one_to_six(europe):
    n_retail = int((europe.party_type == RETAIL).sum())
    household = europe.household
    assert (household[:n_retail] >= 0).all() and (household[n_retail:] == -1).all()
    sizes = np.bincount(household[:n_retail])
    assert sizes.sum() == n_retail and sizes.min() >= 1 and sizes.max() <= 6
    assert sizes.shape[0] == europe.household_id.shape[0]
    # Members of a household are consecutive parties: positions run 0, 0, 1, 1, 1, 2, ... without gaps.
    assert household[0] == 0 and set(np.diff(household[:n_retail]).tolist()) <= {0, 1}
    assert europe.household_id.tolist() == entity_ids(
        "household", CI, np.arange(1, sizes.shape[0] + 1, dtype=np.uint64)).tolist()


def test_home_units_are_households_first_then_the_other_parties(europe):
    unit = europe.home_unit()
    n_households = europe.household_id.shape[0]
    retail = europe.household >= 0
    assert (unit[retail] == europe.household[retail]).all()
    assert unit[~retail].tolist() == list(range(n_households, n_households + int((~retail).sum())))


def test_segments_belong_to_the_party_type(europe):
    for t, name in enumerate(PARTY_TYPES):
        allowed = [SEGMENTS.index(s) for s in SEGMENTS_BY_TYPE[name]]
        assert np.isin(europe.segment[europe.party_type == t], allowed).all()


@pytest.mark.parametrize("region", [*REGIONS, None])
def test_the_region_rows_of_the_segment_mix_and_household_sizes_are_reproduced(policy, kit, region):
    row = kit.region_index(region)
    parties = draw_parties(200_000, CI, row, policy.parties, kit.make_draws())
    for t, name in enumerate(PARTY_TYPES):
        seg = parties.segment[parties.party_type == t]
        first = SEGMENTS.index(SEGMENTS_BY_TYPE[name][0])
        share = np.bincount(seg - first, minlength=len(SEGMENTS_BY_TYPE[name])) / seg.shape[0]
        mix = policy.parties.segment_mix[name][row]
        assert np.abs(share - mix).max() <= _binomial_tol(mix, seg.shape[0]).max(), (name, share, mix)
    # ... and so is the row of household sizes.
    sizes = np.bincount(parties.household[parties.household >= 0])
    freq = np.bincount(sizes, minlength=7)[1:] / sizes.shape[0]
    shares = policy.parties.household_sizes[row]
    assert np.abs(freq - shares).max() <= _binomial_tol(shares, sizes.shape[0]).max(), (freq, shares)


def test_europe_has_many_more_retired_parties_than_africa(policy, kit, europe):
    africa = draw_parties(200_000, CI, AFRICA, policy.parties, kit.make_draws())
    retired = SEGMENTS.index("retired")

    def share(p):
        return (p.segment[p.party_type == RETAIL] == retired).mean()

    assert share(europe) == pytest.approx(0.24, abs=0.006)
    assert share(africa) == pytest.approx(0.05, abs=0.004)


def test_age_and_income_bands_follow_the_segment(policy, europe):
    for field, table in (("age_band", policy.parties.age), ("income_band", policy.parties.income)):
        bands = getattr(europe, field)
        for s in np.unique(europe.segment):
            mine = bands[europe.segment == s]
            share = np.bincount(mine, minlength=table.shape[1]) / mine.shape[0]
            assert (share[table[s] == 0] == 0).all(), (field, SEGMENTS[s])  # a zero share is never drawn
            assert np.abs(share - table[s]).max() <= _binomial_tol(table[s], mine.shape[0]).max(), (field, SEGMENTS[s])
    student, retired = SEGMENTS.index("student"), SEGMENTS.index("retired")
    assert (europe.age_band[europe.segment == student] == AGE_BANDS.index("18-24")).mean() > 0.75
    assert set(np.unique(europe.age_band[europe.segment == retired]).tolist()) == {AGE_BANDS.index("55-64"),
                                                                                  AGE_BANDS.index("65+")}


def test_tenure_is_log_normal_around_the_segment_median(policy, europe):
    tenure = europe.tenure_months
    assert tenure.min() >= 0 and tenure.max() <= 1200
    for s in np.unique(europe.segment):
        mine = tenure[europe.segment == s]
        median, sigma = policy.parties.tenure_median_months[s], policy.parties.tenure_sigma[s]
        # The sample median's standard error is sqrt(pi/2)·sigma/sqrt(n) in log terms; whole months
        # round it down by up to one.
        tol = 5 * 1.2533 * sigma / np.sqrt(mine.shape[0]) * median + 1
        assert abs(np.median(mine) - median) <= tol, (SEGMENTS[s], np.median(mine), median)
        # ... and its log spread is sigma (quartiles at ±0.674 sigma).
        q1, q3 = np.percentile(np.log(np.maximum(mine, 1)), [25, 75])
        if median * np.exp(-0.674 * sigma) > 10:  # far enough from whole-month rounding
            assert (q3 - q1) / (2 * 0.6745) == pytest.approx(sigma, rel=0.1), SEGMENTS[s]


def test_household_sizes_follow_the_region_and_africa_has_the_larger_households(policy, kit):
    n_retail = 300_000
    ids = entity_ids("household", CI, np.arange(1, n_retail + 1, dtype=np.uint64))
    means = {}
    for name in ("Europe", "Africa"):
        shares = policy.parties.household_sizes[REGIONS.index(name)]
        sizes = household_sizes(n_retail, shares, ids, kit.make_draws())
        assert sizes.sum() == n_retail and sizes.min() >= 1 and sizes.max() <= 6
        freq = np.bincount(sizes, minlength=7)[1:] / sizes.shape[0]
        assert np.abs(freq - shares).max() <= _binomial_tol(shares, sizes.shape[0]).max()
        expected = float(np.arange(1, 7) @ shares)
        assert sizes.mean() == pytest.approx(expected, abs=0.02)
        means[name] = sizes.mean()
    assert means["Africa"] > means["Europe"] + 1.0  # ~3.8 against ~2.3


def test_household_sizes_of_no_retail_parties_and_of_a_cut_last_household(policy, kit):
    shares = policy.parties.household_sizes[AFRICA]
    ids = entity_ids("household", CI, np.arange(1, 51, dtype=np.uint64))
    assert household_sizes(0, shares, ids, kit.make_draws()).shape == (0,)
    full = household_sizes(50, shares, ids, kit.make_draws())
    for n in range(1, 50):
        cut = household_sizes(n, shares, ids, kit.make_draws())
        # The same households in the same order, the last one cut so the sizes add up to n.
        assert cut.sum() == n and cut[-1] >= 1
        assert (cut[:-1] == full[: cut.shape[0] - 1]).all() and cut[-1] <= full[cut.shape[0] - 1]


def test_the_same_inputs_give_the_same_parties_and_another_seed_does_not(policy, kit):
    a = draw_parties(20_000, CI, EUROPE, policy.parties, kit.make_draws())
    b = draw_parties(20_000, CI, EUROPE, policy.parties, kit.make_draws())
    c = draw_parties(20_000, CI, EUROPE, policy.parties, kit.make_draws(seed=8))
    arrays = kit.world_arrays(a)
    assert all(np.array_equal(arrays[k], v) for k, v in kit.world_arrays(b).items())
    assert not np.array_equal(a.segment, c.segment) and not np.array_equal(a.tenure_months, c.tenure_months)


def test_a_partys_attributes_depend_only_on_its_id(policy, kit):
    small = draw_parties(1_000, CI, EUROPE, policy.parties, kit.make_draws())
    large = draw_parties(2_000, CI, EUROPE, policy.parties, kit.make_draws())
    same_type = small.party_type == large.party_type[:1_000]
    assert same_type[:900].all()  # the retail prefix of both
    for field in ("party_id", "segment", "age_band", "income_band", "tenure_months"):
        assert np.array_equal(getattr(small, field)[same_type], getattr(large, field)[:1_000][same_type]), field
    # Households are drawn on their own ids: every household but the (cut) last is the same.
    h = small.household_id.shape[0]
    assert np.array_equal(small.household_id, large.household_id[:h])
    assert np.array_equal(np.bincount(small.household[:900])[:-1], np.bincount(large.household[:1_800])[: h - 1])
    # Another country's parties are drawn on other ids.
    other = draw_parties(1_000, CI + 1, EUROPE, policy.parties, kit.make_draws())
    assert (other.tenure_months != small.tenure_months).mean() > 0.9
