"""Segment 5B through Dagster on the ci profile: latent field, counts, arrivals, validation, batching."""

import numpy as np
import polars as pl
import pytest
from worlds import run

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import verify_gate
from engine_assets.run.partitions import DAYS, SCENARIO_DAYS, SCENARIOS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import load_dataset
from engine_assets.storage.reader import Reader

DAYS_ = DAYS.get_partition_keys()


def _identity(root):
    return EngineResource(data_root=str(root)).identity()


def _keys(days):
    return [k for k in SCENARIO_DAYS.get_partition_keys() if k.keys_by_dimension["day"] in days]


@pytest.fixture(scope="module")
def arrivals_world(ci_world):
    run(ci_world, ["seg_5b/latent_groups", "seg_5b/latent_field"], SCENARIOS.get_partition_keys())
    keys = _keys(DAYS_)
    run(ci_world, ["seg_5b/bucket_counts", "seg_5b/arrival_events"], [str(keys[0]), str(keys[-1])])
    run(ci_world, ["seg_5b/seg_5b_validation"])
    return ci_world


def _events(identity, day):
    return load_dataset(identity, load_contract("seg_5b/arrival_events"), {"scenario": "baseline", "day": day}).collect()


def test_5b_passes_its_validation_and_opens_its_gate(arrivals_world):
    report = verify_gate(_identity(arrivals_world), "seg_5b")
    names = {c["name"] for c in report["checks"]}
    assert {"arrivals_equal_counts", "local_time_equals_zoneinfo", "arrival_ids_unique",
            "sites_belong_to_merchant_and_zone", "edges_belong_to_merchant", "dispersion_card_present"} <= names
    compared = next(c for c in report["checks"] if c["name"] == "local_time_equals_zoneinfo")["details"]["compared"]
    assert compared > 1000
    # Each class measured against its shape says over how many burst groups its arrivals spread, and
    # is judged only from the policy's minimum (a class in one or two groups follows their bursts).
    shape = next(c for c in report["checks"] if c["name"] == "arrivals_follow_weekly_shape")["details"]
    measured = {**shape["by_class"], **shape["not_judged_too_few_groups"]}
    assert measured and set(measured) == set(shape["effective_burst_groups"])
    minimum = _identity(arrivals_world).policies.bursts.realism.shape_min_effective_groups
    assert all(shape["effective_burst_groups"][k] >= minimum for k in shape["by_class"])
    assert all(shape["effective_burst_groups"][k] < minimum for k in shape["not_judged_too_few_groups"])


def test_arrivals_have_exact_times_routes_and_typed_columns(arrivals_world):
    identity = _identity(arrivals_world)
    events = _events(identity, DAYS_[1])
    assert events.height > 1000 and events["ts_utc"].is_sorted()
    assert events.schema["ts_utc"] == pl.Datetime("us", "UTC") and events.schema["ts_local"] == pl.Datetime("us")
    offset = (events["ts_local"].dt.epoch("us") - events["ts_utc"].dt.epoch("us")) // 1_000_000
    assert (offset == events["utc_offset_s"]).all()
    virtual = events.filter(pl.col("is_virtual"))
    assert virtual.height > 0 and virtual["site_id"].null_count() == virtual.height
    assert virtual["settlement_tzid"].null_count() == 0 and virtual["edge_id"].null_count() == 0
    physical = events.filter(~pl.col("is_virtual"))
    assert physical["edge_id"].null_count() == physical.height and physical["site_id"].null_count() == 0
    counts = load_dataset(identity, load_contract("seg_5b/bucket_counts"), {"scenario": "baseline", "day": DAYS_[1]}).collect()
    assert counts["count"].sum() == events.height


def test_a_day_alone_gives_the_bytes_it_had_inside_the_batch(arrivals_world):
    identity = _identity(arrivals_world)
    before = _events(identity, DAYS_[1])
    key = str(_keys([DAYS_[1]])[0])
    run(arrivals_world, ["seg_5b/bucket_counts", "seg_5b/arrival_events"], [key, key])
    after = _events(identity, DAYS_[1])
    assert after.equals(before)
    assert np.array_equal(after["arrival_id"].to_numpy(), before["arrival_id"].to_numpy())


def test_validation_catches_moved_dropped_renumbered_and_misclocked_arrivals(arrivals_world):
    from engine_assets.clock.seg_5b import validation as seg_5b_validation
    from engine_assets.storage.datasets import partition_path, publish_dataset
    from engine_assets.storage.publish import Publication, read_manifest

    identity = _identity(arrivals_world)
    contract = load_contract("seg_5b/arrival_events")
    key = {"scenario": "baseline", "day": DAYS_[1]}
    original = load_dataset(identity, contract, key).collect()
    draws = read_manifest(partition_path(identity, contract, key), "seg_5b/arrival_events")["rng_draws"]
    physical = original.filter(~pl.col("is_virtual"))
    stranger = physical.filter(pl.col("merchant_id") != physical["merchant_id"][0])["site_id"][0]
    i = original.with_row_index("i").filter(~pl.col("is_virtual"))["i"][0]
    tampered = original.with_row_index("i").with_columns(
        site_id=pl.when(pl.col("i") == i).then(pl.lit(stranger, pl.UInt64)).otherwise("site_id"),  # another's site
        arrival_id=pl.when(pl.col("i") == 3).then(pl.col("arrival_id") - 1).otherwise("arrival_id"),  # a repeated id
        ts_local=pl.col("ts_local") + pl.duration(microseconds=1),  # every local clock off by 1 µs
    ).filter(pl.col("i") != original.height - 1).drop("i")  # the day's last arrival lost
    try:
        publish_dataset(identity, contract, key, tampered)
        outcomes, _ = seg_5b_validation.evaluate(Reader.for_assets_def(seg_5b_validation.validation, identity))
    finally:
        publish_dataset(identity, contract, key, Publication(original, draws))  # restored as it was, draws included
    figure = {o.name: (o.passed, o.figure) for o in outcomes}
    assert figure["sites_belong_to_merchant_and_zone"] == (False, 1)
    assert figure["arrival_ids_unique"] == (False, 1)  # the repeated id (the lost last one leaves no gap)
    assert figure["arrivals_equal_counts"] == (False, 1)
    assert not figure["local_time_equals_zoneinfo"][0] and figure["local_time_equals_zoneinfo"][1] > 1000
    assert figure["arrivals_inside_their_day_and_sorted"][0]
    assert all(o.passed for o in seg_5b_validation.evaluate(Reader.for_assets_def(seg_5b_validation.validation, identity))[0])  # restored, clean again


def test_burst_groups_take_sigma_from_scenario_class_and_channel(arrivals_world):
    from engine_kernels.vocabulary import DEMAND_CLASSES

    identity = _identity(arrivals_world)
    policy = identity.policies.bursts.model
    groups = load_dataset(identity, load_contract("seg_5b/latent_groups"), "baseline").collect()
    profile = load_dataset(identity, load_contract("seg_5a/merchant_zone_profile"), None).collect()
    rows = groups.with_columns(pl.col(pl.Categorical).cast(pl.String)).join(
        profile.select("merchant_id", "legal_country_iso", "weekly_volume",
                       pl.col("tzid", "demand_class", "channel_group").cast(pl.String)),
        on=["merchant_id", "legal_country_iso", "tzid"], how="inner")
    assert rows.height == groups.height and set(rows["channel_group"]) == {"card_present", "card_not_present"}
    rate = rows.select(pl.col("weekly_volume").median().over("group_id") / 168)["weekly_volume"].to_numpy()
    klass = np.array([DEMAND_CLASSES.index(k) for k in rows["demand_class"]])
    want = policy.burst_sigma("baseline", klass, rows["channel_group"], rate)
    assert np.allclose(rows["sigma"].to_numpy(), want)
    by_channel = np.array([policy.channel_sigma[c] for c in rows["channel_group"]])
    base = policy.sigma["baseline"] * policy.class_sigma[klass] * by_channel
    quiet, sigma = rate <= policy.reference_rate, rows["sigma"].to_numpy()
    assert quiet.any() and (~quiet).any()
    assert np.allclose(sigma[quiet], base[quiet]) and (sigma <= base + 1e-12).all() and (sigma[~quiet] < base[~quiet]).all()
    assert policy.channel_sigma["card_not_present"] > policy.channel_sigma["card_present"]


def test_an_online_merchant_without_settlement_is_an_error_not_zone_zero(arrivals_world, monkeypatch):
    from engine_assets.clock.seg_5b import assets as seg_5b_arrivals
    from engine_assets.clock.seg_5b.fabric import load_fabric

    read = Reader.for_assets_def(seg_5b_arrivals.arrivals, _identity(arrivals_world))
    real = Reader.table
    dropped = real(read, "seg_3b/settlement_nodes")["merchant_id"][0]

    def without_one_node(self, dataset, *key):
        frame = real(self, dataset, *key)
        return frame.filter(pl.col("merchant_id") != dropped) if dataset == "seg_3b/settlement_nodes" else frame

    monkeypatch.setattr(Reader, "table", without_one_node)
    with pytest.raises(ValueError, match=rf"online merchants \[{dropped}\] have no settlement zone"):
        load_fabric(read, "baseline")


def test_latent_field_records_the_words_its_normals_drew(arrivals_world):
    from engine_assets.storage.datasets import partition_path
    from engine_assets.storage.publish import read_manifest
    from engine_kernels.randomness.sampling import NORMAL_WORDS

    identity = _identity(arrivals_world)
    contract = load_contract("seg_5b/latent_field")
    manifest = read_manifest(partition_path(identity, contract, "baseline"), "seg_5b/latent_field")
    field = load_dataset(identity, contract, "baseline").collect()
    groups, buckets = field["group_id"].n_unique(), field["bucket"].n_unique()
    # Each group: one normal for its stationary start and one per bucket of the horizon.
    assert manifest["rng_draws"] == {"5b.latent": groups * (buckets + 1) * NORMAL_WORDS}


def test_counts_and_arrivals_record_their_cell_stream_draws(arrivals_world):
    from engine_assets.storage.datasets import partition_path
    from engine_assets.storage.publish import read_manifest
    from engine_kernels.arrivals.simulation import ARRIVAL_WORDS

    identity = _identity(arrivals_world)
    for day in DAYS.get_partition_keys():
        key = {"scenario": "baseline", "day": day}
        events = read_manifest(partition_path(identity, load_contract("seg_5b/arrival_events"), key), day)
        counts = read_manifest(partition_path(identity, load_contract("seg_5b/bucket_counts"), key), day)
        assert events["rng_draws"] == {"5b.cell": events["rows"] * ARRIVAL_WORDS}
        # Each drawn bucket takes at least one double (two words) from its own block.
        assert counts["rng_draws"]["5b.cell"] >= 2 * counts["rows"] > 0
