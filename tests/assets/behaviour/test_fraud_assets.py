"""6B part 2 on the ci world: the fraud plan, truth labels, the bank's view and the training table.

The published ci world has too few parties for more than a campaign or two, so the campaigns are
also drawn in memory with the policy's rates multiplied (`SCALE`): every type then acts, and a
day built over them shows what each does to flows, labels and the bank's view.
"""

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest
from worlds import day_keys, run

import engine_assets.behaviour.seg_6b.assets as seg_6b
from engine_assets.behaviour.seg_6b.assets import flows as flows_asset
from engine_assets.behaviour.seg_6b.assets import load_world
from engine_assets.behaviour.seg_6b.campaigns import draw_fraud, plan_tables, windows
from engine_assets.behaviour.seg_6b.day import ARRIVAL_COLUMNS, build_day
from engine_assets.behaviour.seg_6b.world import market_pools, weekly_volumes
from engine_assets.run.partitions import DAYS
from engine_assets.run.resources import EngineResource
from engine_assets.storage.reader import Reader
from engine_kernels.fraud.bank import FRAUD_DISPUTE
from engine_kernels.fraud.plan import FIRST_PARTY
from engine_kernels.vocabulary import DECLINE_REASONS, FRAUD_TYPES, LABEL_ROLES, LABELS, TRANSFER

SCALE = 800  # the ci world's 1,600 parties stand for 1.3M
DAY_US = 86_400_000_000


def _scan(root, dataset: str) -> pl.DataFrame:
    identity = EngineResource(data_root=str(root)).identity()
    read = Reader(identity, "seg_6b", [dataset], asset="a test")
    return pl.concat([read.scan(dataset, {"scenario": "baseline", "day": d}).collect()
                      for d in DAYS.get_partition_keys()])


def test_every_flow_has_one_truth_one_bank_row_and_one_training_row(flows_world):
    flows = _scan(flows_world, "seg_6b/flows")["flow_id"].sort()
    for dataset in ("seg_6b/truth_labels", "seg_6b/bank_view", "seg_6b/transactions"):
        ids = _scan(flows_world, dataset)["flow_id"]
        assert ids.is_unique().all(), dataset
        assert ids.sort().equals(flows), dataset


def test_published_plan_matches_the_day_labels(flows_world):
    campaigns = _scan_plan(flows_world, "seg_6b/fraud_campaigns")
    labels = _scan(flows_world, "seg_6b/truth_labels").filter(pl.col("campaign_id").is_not_null())
    assert labels["campaign_id"].is_in(campaigns["campaign_id"].implode()).all()


def _scan_plan(root, dataset):
    identity = EngineResource(data_root=str(root)).identity()
    return Reader(identity, "seg_6b", [dataset], asset="a test").scan(dataset, "baseline").collect()


@pytest.fixture(scope="module")
def scaled(flows_world):
    identity = EngineResource(data_root=str(flows_world)).identity()
    model = identity.policies.fraud.model
    rates = tuple(dataclasses.replace(c, per_million_month=c.per_million_month * SCALE) for c in model.campaigns)
    fraud_policy = dataclasses.replace(identity.policies.fraud, model=dataclasses.replace(model, campaigns=rates))
    identity = dataclasses.replace(identity, policies=dataclasses.replace(identity.policies, fraud=fraud_policy))
    read = Reader.for_assets_def(flows_asset, identity)
    world = load_world(read)
    fraud = draw_fraud(read, world, "baseline")
    pools = market_pools(world, weekly_volumes(read)[1])
    days = {}
    for key in DAYS.get_partition_keys():
        arrivals = read.scan("seg_5b/arrival_events", {"scenario": "baseline", "day": key}).select(
            ARRIVAL_COLUMNS).collect()
        days[key] = build_day(world, "baseline", dt.date.fromisoformat(key), arrivals, pools, fraud)
    return world, fraud, days


def test_every_campaign_type_is_planned_and_published(scaled):
    world, fraud, _ = scaled
    assert set(np.unique(fraud.plan.fraud_type)) == set(range(len(FRAUD_TYPES)))
    campaigns, targets = plan_tables(world, fraud)
    assert campaigns["campaign_id"].to_numpy().tolist() == sorted(set(campaigns["campaign_id"].to_numpy().tolist()))
    assert set(targets["campaign_id"].to_numpy()) <= set(campaigns["campaign_id"].to_numpy())
    assert np.isin(targets["party_id"].to_numpy(), world.party_id).all()
    start, end = (campaigns[c].to_numpy().astype("datetime64[us]").astype(np.int64)
                  for c in ("window_start", "window_end"))
    assert (start < end).all()


def test_every_fraud_flow_lies_in_its_campaign_window_with_its_role(scaled):
    _, fraud, days = scaled
    start, end, _ = windows(fraud)
    row = {c: i for i, c in enumerate(fraud.plan.campaign_id)}
    seen = set()
    for day in days.values():
        f, t = day.flows, day.flows.truth
        hit = np.flatnonzero(t.label > 0)
        assert (t.campaign_id[hit] > 0).all() and (t.role[hit] >= 0).all()
        assert (t.campaign_id[t.label == 0] == 0).all() and (t.role[t.label == 0] == -1).all()
        c = np.array([row[x] for x in t.campaign_id[hit]])
        assert (f.ts_utc[hit] >= start[c]).all() and (f.ts_utc[hit] < end[c]).all()
        assert (fraud.plan.fraud_type[c] + 1 == t.label[hit]).all()
        seen |= set(t.label[hit].tolist())
        first = t.label == FIRST_PARTY + 1
        assert (t.role[first] == LABEL_ROLES.index("fraudster")).all()
    assert len(seen) >= 5, [LABELS[s] for s in seen]


def test_dead_cards_fail_for_invalid_data_and_the_rule_declines_what_it_scores_high(scaled):
    world, _, days = scaled
    threshold = world.identity.policies.fraud.model.bank.rule.threshold
    invalid, suspected = DECLINE_REASONS.index("invalid_card_data"), DECLINE_REASONS.index("suspected_fraud")
    probes = rule = 0
    for day in days.values():
        life, t = day.flows.life, day.flows.truth
        answered = life.auth_at >= 0
        assert (life.reason[t.invalid & answered] == invalid).all()
        probes += int((t.invalid & answered).sum())
        high = (t.rule_score >= threshold) & answered & ~t.invalid & (day.flows.flow_type != TRANSFER) \
            | (t.rule_score >= threshold) & answered & ~t.invalid & (day.flows.transfer_kind <= 1)
        assert (life.reason[high] == suspected).all()
        rule += int(high.sum())
        # a decline for suspected fraud always scores at or above the threshold
        assert (t.rule_score[life.reason == suspected] >= threshold).all()
        assert np.array_equal(t.rule_decision == 1, life.reason == suspected)
    assert probes > 0 and rule > 0


def test_the_bank_learns_after_the_payment_and_within_the_caps(scaled):
    world, _, days = scaled
    bank_policy = world.identity.policies.fraud.model.bank
    disputes = []
    for day in days.values():
        f, t = day.flows, day.flows.truth
        b = t.bank
        for at in (b.detected_at, b.disputed_at, b.confirmed_legit_at):
            known = at >= 0
            assert (at[known] > f.ts_utc[known]).all()
        charged = b.chargeback_at >= 0
        assert (b.chargeback_at[charged] > b.disputed_at[charged]).all() and (b.disputed_at[charged] >= 0).all()
        assert (t.label[b.detected_at >= 0] > 0).all()  # the bank never detects a legitimate payment as fraud
        assert (t.label[b.confirmed_legit_at >= 0] == 0).all()
        fraud_disputes = b.dispute_kind == FRAUD_DISPUTE
        assert (t.label[(b.dispute_kind >= 0) & ~fraud_disputes] == 0).all()
        d = b.disputed_at >= 0
        disputes.append((b.disputed_at[d] - f.ts_utc[d]) / DAY_US)
    delay = np.concatenate(disputes)
    assert delay.size > 20 and delay.max() <= bank_policy.dispute_days.cap + 1


def test_training_rows_count_the_card_s_earlier_payments_across_midnight(flows_world):
    rows = _scan(flows_world, "seg_6b/transactions").sort("ts_utc")
    first_day = rows["ts_utc"].dt.date().min()
    later = rows.filter(pl.col("ts_utc").dt.date() > first_day, pl.col("card_id").is_not_null())
    # brute force on a sample: the card's payments in the 24 hours before, the day before included
    sample = later.filter(pl.col("flow_id") % 7 == 0).head(300)
    earlier = rows.filter(pl.col("card_id").is_not_null()).select("card_id", "ts_utc")
    checked = crossing = 0
    for card, ts, count, week in sample.select("card_id", "ts_utc", "card_count_24h", "card_count_7d").iter_rows():
        mine = earlier.filter(pl.col("card_id") == card, pl.col("ts_utc") < ts)
        day_before = mine.filter(pl.col("ts_utc") > ts - dt.timedelta(hours=24))
        assert count == day_before.height and week == mine.height
        crossing += int((day_before["ts_utc"].dt.date() < ts.date()).any())
        checked += 1
    assert checked > 100 and crossing > 0
    # the features a bank has at authorisation are there for the rows that have them
    online = rows.filter(pl.col("channel") == "card_not_present")
    assert online["new_device"].null_count() < online.height
    assert rows["amount_vs_usual"].drop_nulls().min() > 0


def test_takeovers_change_the_profile_before_they_pay(scaled):
    world, _, days = scaled
    shares = world.identity.policies.fraud.model.account_takeover.profile_change
    takeover_label = LABELS.index("account_takeover")
    counts = np.zeros((2, 2), np.int64)  # [takeover?][changed?]
    for day in days.values():
        f, s = day.flows, day.sessions
        takeover = np.zeros(s.party.size, bool)
        online = f.session >= 0
        takeover[f.session[online & (f.truth.label == takeover_label)]] = True
        changed = s.profile_change >= 0
        np.add.at(counts, (takeover.astype(int), changed.astype(int)), 1)
        assert (s.start[changed] <= f.ts_utc[s.first[changed]]).all()  # made before the session's first flow
    takeover_rate, legit_rate = counts[1, 1] / counts[1].sum(), counts[0, 1] / counts[0].sum()
    assert counts[1].sum() >= 20, counts
    assert takeover_rate > 0.5 and legit_rate < 3 * shares.legit_share, counts


def test_a_run_of_training_days_in_any_order_reads_its_week_back_once(flows_world, monkeypatch):
    # Dagster hands a run of several scenarios its keys day by day, alternating the scenarios: the run
    # builds each scenario's days in order so the week carries from one day to the next.
    days = [dt.date.fromisoformat(d) for d in DAYS.get_partition_keys()[-3:]]
    given = [("baseline", days[2]), ("baseline", days[0]), ("baseline", days[1])]
    identity = EngineResource(data_root=str(flows_world)).identity()
    read = Reader(identity, "seg_6b", ["seg_6b/transactions"], asset="a test")
    keys = [{"scenario": s, "day": d.isoformat()} for s, d in given]
    before = [read.scan("seg_6b/transactions", key).collect() for key in keys]
    rebuilt = []
    real = seg_6b.week_before
    monkeypatch.setattr(seg_6b, "week_before", lambda read, scenario, day, *rest: (
        rebuilt.append(day), real(read, scenario, day, *rest))[1])
    published = seg_6b.publish_transactions(Reader.for_assets_def(seg_6b.transactions, identity), given)
    assert rebuilt == [days[0]]
    for i, key in enumerate(keys):
        assert published[i].path.name == f"day={key['day']}"
        assert read.scan("seg_6b/transactions", key).collect().equals(before[i])


def test_a_training_day_alone_reads_its_week_back_and_gives_the_bytes_of_the_batch(flows_world):
    last = DAYS.get_partition_keys()[-1]
    identity = EngineResource(data_root=str(flows_world)).identity()
    read = Reader(identity, "seg_6b", ["seg_6b/transactions"], asset="a test")
    key = {"scenario": "baseline", "day": last}
    before = read.scan("seg_6b/transactions", key).collect()
    assert before.filter(pl.col("party_count_7d") > pl.col("party_count_24h")).height > 0  # it looks back a day or more
    alone = day_keys([last])[0]
    run(flows_world, ["seg_6b/transactions"], [alone, alone])
    assert read.scan("seg_6b/transactions", key).collect().equals(before)


def test_training_rows_see_the_party_s_latest_profile_change_across_midnight(flows_world):
    rows = _scan(flows_world, "seg_6b/transactions").select("party_id", "ts_utc", "hours_since_profile_change")
    changes = _scan(flows_world, "seg_6b/sessions").filter(pl.col("profile_change").is_not_null()).select(
        "party_id", "started_at")
    assert changes.height > 0
    week = dt.timedelta(days=7)
    expected = rows.join(changes, on="party_id", how="left").filter(
        (pl.col("started_at") <= pl.col("ts_utc")) & (pl.col("started_at") >= pl.col("ts_utc") - week)).group_by(
        "party_id", "ts_utc").agg(latest=pl.col("started_at").max())
    got = rows.join(expected, on=["party_id", "ts_utc"], how="left").with_columns(
        hours=(pl.col("ts_utc") - pl.col("latest")).dt.total_microseconds() / 3_600_000_000)
    seen = got.filter(pl.col("latest").is_not_null())
    assert seen.height > 0 and (seen["hours"] - seen["hours_since_profile_change"]).abs().max() < 1e-6
    assert got.filter(pl.col("latest").is_null())["hours_since_profile_change"].null_count() == \
        got.filter(pl.col("latest").is_null()).height
    assert (seen["ts_utc"].dt.date() > seen["latest"].dt.date()).any()  # some look back past midnight
