"""Segment 6B part 1 through Dagster on the ci profile: patronage, flows, events, sessions, validation."""

import numpy as np
import polars as pl
from worlds import DAY_TABLES, day_keys, run

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import verify_gate
from engine_assets.run.partitions import DAYS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import load_dataset
from engine_assets.storage.reader import Reader

DAYS_ = DAYS.get_partition_keys()


def _identity(root):
    return EngineResource(data_root=str(root)).identity()


def _table(root, dataset, day):
    return load_dataset(_identity(root), load_contract(dataset), {"scenario": "baseline", "day": day}).collect()


def test_6b_passes_its_validation_and_opens_its_gate(flows_world):
    report = verify_gate(_identity(flows_world), "seg_6b")
    checks = {c["name"]: c for c in report["checks"]}
    assert {"every_arrival_one_flow", "events_follow_template", "event_times_increase", "clearing_only_after_approval",
            "refunds_within_cleared", "flow_foreign_keys", "amounts_positive_in_currency"} <= set(checks)
    assert all(checks[name]["figure"] == 0 for name in ("every_arrival_one_flow", "events_follow_template",
                                                        "flow_foreign_keys"))
    # Realism figures are measured even when the ci world is too small to judge them.
    assert 0 < checks["decline_rate_card_present"]["figure"] < 0.2
    assert checks["home_to_site_km"]["figure"]["median"] > 0


def test_flows_are_typed_ranked_and_pay_every_arrival(flows_world):
    flows = _table(flows_world, "seg_6b/flows", DAYS_[1])
    arrivals = _table(flows_world, "seg_5b/arrival_events", DAYS_[1])
    assert flows.schema["flow_id"] == pl.UInt64 and flows.schema["ts_utc"] == pl.Datetime("us", "UTC")
    assert flows.schema["ts_local"] == pl.Datetime("us") and flows.schema["flow_type"] == pl.Categorical
    assert flows["flow_id"].is_sorted() and flows["ts_utc"].is_sorted()
    assert flows["flow_id"].n_unique() == flows.height
    card = flows.filter(pl.col("arrival_id").is_not_null())
    assert sorted(card["arrival_id"].to_list()) == sorted(arrivals["arrival_id"].to_list())
    # A card flow keeps its arrival's instant and clock.
    joined = card.join(arrivals.select("arrival_id", pl.col("ts_utc").alias("arrival_ts"),
                                       pl.col("ts_local").alias("arrival_local")), on="arrival_id")
    assert (joined["ts_utc"] == joined["arrival_ts"]).all() and (joined["ts_local"] == joined["arrival_local"]).all()
    transfers = flows.filter(pl.col("flow_type") == "transfer")
    assert transfers.height > 0 and transfers["arrival_id"].null_count() == transfers.height
    assert transfers["rail"].null_count() == 0 and transfers["instrument_id"].null_count() < transfers.height


def test_store_payers_are_the_sites_patrons_and_online_ones_its_markets(flows_world):
    identity = _identity(flows_world)
    flows = pl.concat([_table(flows_world, "seg_6b/flows", d) for d in DAYS_])
    read = Reader(identity, "seg_6b", ["seg_6b/patronage"])
    patronage = read.table("seg_6b/patronage")
    regulars = flows.filter(pl.col("attachment") == "regular").select("site_id", "party_id")
    known = regulars.join(patronage.filter(pl.col("relation") == "regular"), on=["site_id", "party_id"], how="semi")
    assert regulars.height > 100 and known.height == regulars.height
    neighbours = flows.filter(pl.col("attachment") == "neighbour").select("site_id", "party_id")
    known = neighbours.join(patronage.filter(pl.col("relation") == "neighbour"), on=["site_id", "party_id"], how="semi")
    assert neighbours.height > 100 and known.height == neighbours.height
    visitors = flows.filter(pl.col("attachment").is_in(["visitor", "online_foreign"]))
    assert (visitors["party_country_iso"].cast(pl.String) != visitors["merchant_country_iso"].cast(pl.String)).mean() > 0.9
    # In store the device is a terminal, so the payer's own devices never appear there.
    store = flows.filter(pl.col("flow_type") == "card_present_purchase")
    assert store["device_id"].null_count() == 0 and store["session_id"].null_count() == store.height


def test_events_follow_their_flows(flows_world):
    flows = _table(flows_world, "seg_6b/flows", DAYS_[0])
    events = _table(flows_world, "seg_6b/events", DAYS_[0])
    assert events.select("flow_id", "seq").is_unique().all()
    first = events.filter(pl.col("seq") == 0).join(flows.select("flow_id", "ts_utc"), on="flow_id")
    assert first.height == flows.height and (first["ts_utc"] == first["ts_utc_right"]).all()
    declined = flows.filter(pl.col("outcome") == "declined")["flow_id"]
    after = events.filter(pl.col("flow_id").is_in(declined.implode()) & pl.col("event_type").is_in(["clearing", "refund"]))
    assert declined.len() > 0 and after.height == 0
    sessions = _table(flows_world, "seg_6b/sessions", DAYS_[0])
    online = flows.filter(pl.col("session_id").is_not_null())
    assert sessions["flows"].sum() == online.height
    assert set(online["session_id"].unique().to_list()) == set(sessions["session_id"].to_list())


def test_a_day_alone_gives_the_bytes_it_had_inside_the_batch(flows_world):
    before = {d: _table(flows_world, d, DAYS_[1]) for d in DAY_TABLES}
    key = day_keys([DAYS_[1]])[0]
    run(flows_world, list(DAY_TABLES), [key, key])
    for dataset in DAY_TABLES:
        after = _table(flows_world, dataset, DAYS_[1])
        assert after.equals(before[dataset]), dataset
    ids = _table(flows_world, "seg_6b/flows", DAYS_[1])["flow_id"].to_numpy()
    assert np.array_equal(ids, before["seg_6b/flows"]["flow_id"].to_numpy())
