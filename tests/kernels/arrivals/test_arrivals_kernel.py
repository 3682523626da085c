"""5B kernels: OU latent paths, NB2 bucket counts and the arrival expansion, with fixed seeds."""

import datetime as dt
from zoneinfo import ZoneInfo

import numba
import numpy as np
import pytest

from engine_kernels.arrivals.simulation import (
    bucket_counts,
    expand_arrivals,
    latent_paths,
    modulated_intensity,
    row_columns,
)
from engine_kernels.civil_time.transitions import zones_transitions
from engine_kernels.randomness.streams import derive_key, unit_keys
from engine_kernels.tables.alias import build_alias_tables
from engine_kernels.tables.routing import RoutingTable

UTC = dt.timezone.utc
BASE = derive_key(5, "ef" * 32, "5b.test")


def keys(n, salt=0):
    return unit_keys(BASE, np.column_stack([np.full(n, salt), np.arange(n)]).astype(np.uint64))


def test_latent_paths_have_mean_one_and_the_asked_correlation():
    sigma, length = 0.25, 24.0
    paths = latent_paths(keys(400), 2000, np.full(400, sigma), np.full(400, length), (0.2, 5.0))
    assert paths.dtype == np.float32 and paths.min() >= 0.2 and paths.max() <= 5.0
    assert paths.mean() == pytest.approx(1.0, abs=0.01)
    z = np.log(paths.astype(np.float64))
    z -= z.mean(axis=1, keepdims=True)
    lag = int(length)
    corr = (z[:, lag:] * z[:, :-lag]).mean() / (z * z).mean()
    assert corr == pytest.approx(np.exp(-1), abs=0.04)
    assert np.log(paths).std() == pytest.approx(sigma, rel=0.05)
    again = latent_paths(keys(400)[::-1], 2000, np.full(400, sigma), np.full(400, length), (0.2, 5.0))
    assert np.array_equal(again[::-1], paths)  # keyed by group, not by position


def test_counts_are_nb2_around_lambda_and_zero_without_draws():
    rows, buckets, kappa = 2000, 200, 8.0
    lam = np.full((rows, buckets), 6.0)
    lam[:, :10] = 0.0
    counts = bucket_counts(keys(rows), 1000, lam, np.full(rows, kappa))
    assert (counts[:, :10] == 0).all()
    body = counts[:, 10:].astype(np.float64)
    assert body.mean() == pytest.approx(6.0, rel=0.01)
    assert body.var() == pytest.approx(6.0 + 36.0 / kappa, rel=0.03)
    # A day alone equals the same buckets inside a longer batch: keys use the global bucket number.
    alone = bucket_counts(keys(rows), 1000 + 50, lam[:, 50:80], np.full(rows, kappa))
    assert np.array_equal(alone, counts[:, 50:80])
    with pytest.raises(ValueError, match="finite"):
        bucket_counts(keys(1), 0, np.array([[np.nan]]), np.ones(1))


def test_counts_report_the_words_each_row_drew():
    lam = np.full((3, 4), 2.0)
    lam[1] = 0.0  # a quiet row draws nothing
    words = np.full(3, -1, np.int64)
    counts = bucket_counts(keys(3), 7, lam, np.full(3, 5.0), words=words)
    assert words[1] == 0 and (words[[0, 2]] == 8).all()  # one double (two words) per bucket below mean 10
    assert np.array_equal(counts, bucket_counts(keys(3), 7, lam, np.full(3, 5.0)))  # counting changes no draw
    with pytest.raises(ValueError, match="words must be int64"):
        bucket_counts(keys(3), 7, lam, np.full(3, 5.0), words=np.zeros(3, np.int32))


def _world():
    zones = ["Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"]
    table = zones_transitions(zones, dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))
    rng = np.random.default_rng(4)
    # Three rows, each with its own sites; row 2 is hybrid with two edges in Kathmandu and St John's.
    site_w = [rng.random(3), rng.random(1), rng.random(4)]
    site_items = [np.array([11, 12, 13]), np.array([21]), np.array([31, 32, 33, 34])]
    offsets = np.concatenate(([0], np.cumsum([len(w) for w in site_w]))).astype(np.int64)
    prob, alias = build_alias_tables(np.concatenate(site_w), offsets)
    sites = RoutingTable(prob, alias, offsets, np.concatenate(site_items).astype(np.uint64))
    e_offsets = np.array([0, 2], np.int64)
    e_prob, e_alias = build_alias_tables(np.array([0.3, 0.7]), e_offsets)
    edges = RoutingTable(e_prob, e_alias, e_offsets, np.array([0, 1], np.uint64))
    zone = np.array([table.tzids.index(z) for z in zones])
    return table, sites, edges, zone


def _expand(counts, table, sites, edges, zone, day):
    start = int(dt.datetime(2026, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000
    edge_zone = np.array([zone[1], zone[2]])
    return expand_arrivals(start, 15, counts, keys(3, 9), 77, zone, np.array([0.0, 0.0, 0.35]), np.arange(3),
                           sites, np.array([-1, -1, 0]), edges, edge_zone, np.full(3, zone[0]), table), start


def test_arrivals_conserve_counts_stay_in_their_bucket_and_route_to_their_own_sites():
    table, sites, edges, zone = _world()
    counts = np.random.default_rng(8).integers(0, 40, (3, 96)).astype(np.int32)
    out, start = _expand(counts, table, sites, edges, zone, dt.date(2026, 3, 29))
    assert out.ts_utc.size == counts.sum()
    assert (np.diff(out.ts_utc) >= 0).all()  # the day comes out sorted
    assert np.array_equal(np.bincount(out.row * 96 + out.bucket, minlength=3 * 96), counts.ravel())
    low = start + out.bucket.astype(np.int64) * 15 * 60_000_000
    assert ((out.ts_utc >= low) & (out.ts_utc < low + 15 * 60_000_000)).all()
    own = {0: {11, 12, 13}, 1: {21}, 2: {31, 32, 33, 34}}
    physical = out.edge < 0
    assert all(int(s) in own[r] for s, r in zip(out.site_id[physical], out.row[physical]))
    online = ~physical
    assert (out.row[online] == 2).all()
    assert online.sum() / (out.row == 2).sum() == pytest.approx(0.35, abs=0.05)
    # An edge arrival keeps the edge's clock; Berlin changed to +2 h at 01:00 UTC that day.
    kathmandu = online & (out.edge == 0)
    assert (out.offset_s[kathmandu] == 5 * 3600 + 45 * 60).all()
    berlin = (out.row == 0)
    after = out.ts_utc[berlin] >= start + 3_600_000_000
    assert (out.offset_s[berlin][after] == 7200).all() and (out.offset_s[berlin][~after] == 3600).all()
    assert set(np.unique(out.settlement_offset_s[online])) <= {3600, 7200}


def test_counts_and_arrivals_are_identical_on_one_and_two_threads():
    table, sites, edges, zone = _world()
    counts = np.random.default_rng(9).integers(0, 30, (3, 96)).astype(np.int32)
    lam = np.random.default_rng(10).gamma(0.5, 4.0, (300, 96))  # means from ~0 to past the inversion limit
    numba.set_num_threads(1)
    one, _ = _expand(counts, table, sites, edges, zone, dt.date(2026, 6, 1))
    counts_one = bucket_counts(keys(300), 5000, lam, np.full(300, 3.0))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    two, _ = _expand(counts, table, sites, edges, zone, dt.date(2026, 6, 1))
    assert np.array_equal(counts_one, bucket_counts(keys(300), 5000, lam, np.full(300, 3.0)))
    for name in ("ts_utc", "row", "site_id", "edge", "offset_s"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name


def test_modulated_intensity_takes_the_day_effect_of_the_local_day_and_the_group_burst():
    table, _, _, zone = _world()
    # 2026-03-29: Berlin moves to summer time at 01:00 UTC
    start = int(dt.datetime(2026, 3, 29, tzinfo=UTC).timestamp()) * 1_000_000
    first = int(dt.datetime(2026, 3, 27, tzinfo=UTC).timestamp()) * 1_000_000
    lam_5a = np.random.default_rng(1).random((3, 96)) + 0.5
    gamma = np.array([[0.5, 1.5, 2.0, 3.0, 4.0]] * 3, np.float32) * np.array([[1], [2], [3]], np.float32)
    latent = np.random.default_rng(2).random((96, 2)).astype(np.float32) + 0.5
    group = np.array([1, 0, 1])
    got = modulated_intensity(lam_5a, start, 15, zone, table, gamma, first, latent, group)
    names = ["Europe/Berlin", "Asia/Kathmandu", "America/St_Johns"]
    for r in range(3):
        for b in range(96):
            middle = dt.datetime(2026, 3, 29, tzinfo=UTC) + dt.timedelta(minutes=15 * b + 7.5)
            local_day = (middle.astimezone(ZoneInfo(names[r])).date() - dt.date(2026, 3, 27)).days
            want = lam_5a[r, b] * float(gamma[r, local_day]) * float(latent[b, group[r]])
            assert got[r, b] == pytest.approx(want, rel=1e-12), (r, b)
    with pytest.raises(ValueError, match="gamma"):
        modulated_intensity(lam_5a, start, 15, zone, table, gamma[:2], first, latent, group)


def test_row_columns_take_each_arrivals_row_attributes():
    table, sites, edges, zone = _world()
    counts = np.random.default_rng(3).integers(0, 20, (3, 96)).astype(np.int32)
    out, _ = _expand(counts, table, sites, edges, zone, dt.date(2026, 6, 1))
    merchant = np.array([101, 202, 303], np.uint64)
    attributes = np.array([[7, 8, 9], [0, 1, 0]], np.int32)
    m, a, e = row_columns(out, merchant, attributes, np.array([5000, 6000], np.uint64))
    assert np.array_equal(m, merchant[out.row]) and np.array_equal(a, attributes[:, out.row])
    assert np.array_equal(e, np.where(out.edge >= 0, np.array([5000, 6000], np.uint64)[np.maximum(out.edge, 0)], 0))
