"""A day's flows, events and sessions as the Arrow tables of their contracts (contracts/seg_6b/).

Ids are uint64, times timestamp[us, UTC] (local times naive), categories dictionary strings over
the vocabularies of engine_kernels/vocabulary.py; a missing id or category is a null.
"""

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from engine_assets.behaviour.seg_6b.day import Day, DayFlows
from engine_assets.behaviour.seg_6b.fraud_day import Truth
from engine_assets.storage.publish import ROW_GROUP_ROWS
from engine_assets.behaviour.seg_6b.world import World
from engine_kernels.flows.order import take
from engine_kernels.flows.sessions import Sessions
from engine_kernels.vocabulary import (
    ATTACHMENTS,
    DECLINE_REASONS,
    EVENT_TYPES,
    FLOW_TYPES,
    BANK_LABELS,
    CHARGEBACK_OUTCOMES,
    DISPUTE_KINDS,
    LABEL_ROLES,
    LABELS,
    RULE_DECISIONS,
    OUTCOMES,
    PAYMENT_CHANNELS,
    PROFILE_CHANGES,
    RESPONSE_CODES,
    THREE_DS_RESULTS,
    TRANSFER_KINDS,
)

_UTC = pa.timestamp("us", "UTC")
# Payment channel of each flow type: purchases in store and ATMs are card present.
_CHANNEL_OF_TYPE = np.array([0, 1, 0, 2])


def _codes(codes: np.ndarray, names) -> pa.DictionaryArray:
    codes = np.asarray(codes)
    return pa.DictionaryArray.from_arrays(pa.array(np.maximum(codes, 0).astype(np.int32), mask=codes < 0),
                                          pa.array(list(names), pa.string()))


def _ids(index: np.ndarray, ids: np.ndarray) -> pa.Array:
    """ids[index] as uint64, null where index is -1."""
    index = np.asarray(index)
    values = take(ids, np.maximum(index, 0)) if ids.size else np.zeros(index.size, np.uint64)
    return pa.array(values, pa.uint64(), mask=index < 0)


def _maybe(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    return pa.array(values, pa.uint64(), mask=mask)


def day_tables(world: World, scenario: str, day: Day) -> dict[str, Iterator[pa.Table]]:
    """The day's three tables, each made when its publication reads it (on the writer thread,
    while the next day is built), a row group at a time, from only the parts of the day it needs,
    which are let go once it is made: a reference payday holds 3M flows and 9M events."""
    flow_id = day.flows.flow_id

    def made(make, rows: int, *parts):
        for lo in range(0, max(rows, 1), ROW_GROUP_ROWS):
            yield make(*parts, slice(lo, lo + ROW_GROUP_ROWS))
        del parts

    return {"flows": made(flows_table, flow_id.size, world, scenario, day.flows),
            "events": made(events_table, day.events[0].size, flow_id, day.events),
            "sessions": made(sessions_table, day.sessions.party.size, world, flow_id, day.sessions),
            "truth_labels": made(labels_table, flow_id.size, flow_id, day.flows.truth),
            "bank_view": made(bank_table, flow_id.size, world, flow_id, day.flows.truth)}


def flows_table(world: World, scenario: str, f: DayFlows, rows: slice = slice(None)) -> pa.Table:
    f = f.rows(rows)
    life = f.life
    n = f.flow_id.size
    answered = life.auth_at >= 0
    code = np.where(life.outcome == 1, 1, np.where(life.outcome == 2, 2 + life.reason, 0))
    code = np.where(answered, code, -1)
    countries = world.countries
    currencies = sorted(set(world.money.currency))
    currency_code = np.array([currencies.index(c) for c in world.money.currency], np.int64)
    return pa.table({
        "flow_id": pa.array(f.flow_id, pa.uint64()),
        "arrival_id": _maybe(f.arrival_id, f.arrival_id == 0),
        "scenario_id": _codes(np.zeros(n), [scenario]),
        "flow_type": _codes(f.flow_type, FLOW_TYPES),
        "channel": _codes(_CHANNEL_OF_TYPE[f.flow_type], PAYMENT_CHANNELS),
        "transfer_kind": _codes(f.transfer_kind, TRANSFER_KINDS),
        "attachment": _codes(f.attachment, ATTACHMENTS),
        "ts_utc": pa.array(f.ts_utc, _UTC),
        "ts_local": pa.array(f.ts_local, pa.timestamp("us")),
        "tzid": _codes(f.zone, f.tzid),
        "party_id": _ids(f.party, world.party_id),
        "party_country_iso": _codes(world.party_country[f.party], countries),
        "account_id": pa.array(f.account_id, pa.uint64(), mask=f.account_id == 0),
        "instrument_id": _ids(f.instrument, world.instrument_id),
        "device_id": _ids(f.device, world.device_id),
        "ip_id": _ids(f.ip, world.ip_id),
        "session_id": _maybe(f.session_id, f.session < 0),
        "merchant_id": _ids(f.merchant, world.merchant_id),
        "merchant_country_iso": _codes(f.merchant_country, countries),
        "site_id": _ids(f.site, world.site_id),
        "edge_id": _ids(f.edge, world.edge_id),
        "counterparty_party_id": _ids(f.payee, world.party_id),
        "counterparty_account_id": pa.array(f.payee_account_id, pa.uint64(), mask=f.payee_account_id == 0),
        "rail": _codes(f.rail, f.rails),
        "amount": pa.array(f.amount, pa.float64()),
        "currency": _codes(currency_code[f.currency], currencies),
        "billing_amount": pa.array(f.billing_amount, pa.float64()),
        "billing_currency": _codes(currency_code[f.billing_currency], currencies),
        "is_cross_border": pa.array(f.cross_border, pa.bool_()),
        "three_ds": _codes(life.three_ds, THREE_DS_RESULTS),
        "outcome": _codes(life.outcome, OUTCOMES),
        "decline_reason": _codes(life.reason, DECLINE_REASONS),
        "response_code": _codes(code, RESPONSE_CODES),
        "approved_amount": pa.array(life.approved, pa.float64()),
        "auth_latency_ms": pa.array((life.latency_us // 1000).astype(np.int32), mask=~answered),
    })


def events_table(flow_id: np.ndarray, events: tuple, rows: slice = slice(None)) -> pa.Table:
    row, seq, kind, at, value, code = (column[rows] for column in events)
    return pa.table({
        "flow_id": pa.array(take(flow_id, row), pa.uint64()),
        "seq": pa.array(seq, pa.int16()),
        "event_type": _codes(kind, EVENT_TYPES),
        "ts_utc": pa.array(at, _UTC),
        "amount": pa.array(value, pa.float64()),
        "response_code": _codes(code, RESPONSE_CODES),
    })


def sessions_table(world: World, flow_id: np.ndarray, s: Sessions, rows: slice = slice(None)) -> pa.Table:
    s = s.rows(rows)
    return pa.table({
        "session_id": pa.array(s.session_id, pa.uint64()),
        "party_id": pa.array(s.party, pa.uint64()),
        "device_id": _ids(s.device, world.device_id),
        "ip_id": _ids(s.ip, world.ip_id),
        "started_at": pa.array(s.start, _UTC),
        "ended_at": pa.array(s.end, _UTC),
        "flows": pa.array(s.flows.astype(np.int32)),
        "first_flow_id": pa.array(flow_id[s.first], pa.uint64()),
        "profile_change": _codes(s.profile_change, PROFILE_CHANGES),
    })


def labels_table(flow_id: np.ndarray, truth: Truth, rows: slice = slice(None)) -> pa.Table:
    t = truth.rows(rows)
    return pa.table({
        "flow_id": pa.array(flow_id[rows], pa.uint64()),
        "label": _codes(t.label, LABELS),
        "campaign_id": _maybe(t.campaign_id, t.campaign_id == 0),
        "role": _codes(t.role, LABEL_ROLES),
    })


def _time(at: np.ndarray) -> pa.Array:
    return pa.array(at, _UTC, mask=at < 0)


def bank_table(world: World, flow_id: np.ndarray, truth: Truth, rows: slice = slice(None)) -> pa.Table:
    t = truth.rows(rows)
    bank = t.bank
    horizon_end = (world.identity.profile.horizon.end - dt.date(1970, 1, 1)).days * 86_400_000_000 + 86_400_000_000
    label, since = bank.label_as_of(horizon_end)
    return pa.table({
        "flow_id": pa.array(flow_id[rows], pa.uint64()),
        "rule_score": pa.array(t.rule_score, pa.float32()),
        "rule_decision": _codes(t.rule_decision, RULE_DECISIONS),
        "detected_at": _time(bank.detected_at),
        "disputed_at": _time(bank.disputed_at),
        "dispute_kind": _codes(bank.dispute_kind, DISPUTE_KINDS),
        "chargeback_at": _time(bank.chargeback_at),
        "chargeback_outcome": _codes(bank.chargeback_outcome, CHARGEBACK_OUTCOMES),
        "confirmed_legit_at": _time(bank.confirmed_legit_at),
        "bank_label": _codes(label, BANK_LABELS),
        "bank_label_at": _time(since),
    })
