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


class _Tampered:
    """A reader whose events of one day went through `tamper`."""

    def __init__(self, read, day, tamper):
        self.read, self.day, self.tamper = read, day, tamper

    def __getattr__(self, name):
        return getattr(self.read, name)

    def scan(self, dataset, key=None):
        frame = self.read.scan(dataset, key) if key is not None else self.read.scan(dataset)
        if dataset == "seg_6b/events" and key and key["day"] == self.day:
            return self.tamper(frame.collect()).lazy()
        return frame


def test_the_validation_finds_broken_lifecycles(flows_world):
    from engine_assets.behaviour.seg_6b import validation as v

    read = Reader.for_assets_def(v.validation, _identity(flows_world))
    day = DAYS_[0]
    events = _table(flows_world, "seg_6b/events", day)
    refunded = events.filter(pl.col("event_type") == "refund")["flow_id"][0]
    cleared = events.filter((pl.col("event_type") == "clearing") & ~pl.col("flow_id").is_in(
        events.filter(pl.col("event_type") == "refund")["flow_id"].implode()))["flow_id"][:2]
    timed = events.filter(pl.col("seq") == 1)["flow_id"][-1]

    def tamper(frame):
        frame = frame.with_columns(  # a refund beyond its clearing; a response no later than its request
            amount=pl.when((pl.col("flow_id") == refunded) & (pl.col("event_type") == "refund"))
            .then(pl.col("amount") * 1000).otherwise(pl.col("amount")),
            ts_utc=pl.when((pl.col("flow_id") == timed) & (pl.col("seq") == 1))
            .then(pl.col("ts_utc").dt.offset_by("-1h")).otherwise(pl.col("ts_utc")))
        # two approvals that never clear
        return frame.filter(~((pl.col("event_type") == "clearing") & pl.col("flow_id").is_in(cleared.implode())))

    figures = {o.name: o.figure for o in v.evaluate(_Tampered(read, day, tamper))[0]}
    clean = {o.name: o.figure for o in v.evaluate(read)[0]}
    assert clean["refunds_within_cleared"] == clean["event_times_increase"] == 0
    assert clean["clearing_only_after_approval"] == clean["events_follow_template"] == 0
    assert figures["refunds_within_cleared"] == 1
    assert figures["event_times_increase"] == 1
    assert figures["clearing_only_after_approval"] == 2
    assert figures["events_follow_template"] == 0  # request, response alone is a declined flow's template
