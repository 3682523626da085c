"""seg_6b/cases: every scenario's alerts and disputes gathered into cases (engine_kernels/fraud/cases.py).

A flow alerts when the bank's rule declined it as suspect, its monitoring detected it, or its
customer disputed it; the alert's time is the earliest of these. Cases key on the card paid with,
or on the party for transfers.
"""

import numpy as np
import polars as pl
import pyarrow as pa

from engine_assets.run.partitions import DAYS
from engine_assets.storage.reader import Reader
from engine_kernels.fraud.cases import group_cases
from engine_kernels.ids import case_ids
from engine_kernels.vocabulary import CASE_DECISIONS, CASE_KEYS

_UTC = pa.timestamp("us", "UTC")
_DAY_US = 86_400_000_000
CLOSE_AFTER_US = _DAY_US  # a decided case is closed a day after its last event


def _alerts(read: Reader, scenario: str, day: str) -> pl.DataFrame:
    key = {"scenario": scenario, "day": day}
    bank = read.scan("seg_6b/bank_view", key).filter(
        (pl.col("rule_decision") == "decline") | pl.col("detected_at").is_not_null()
        | pl.col("disputed_at").is_not_null())
    flows = read.scan("seg_6b/flows", key).select("flow_id", "ts_utc", "party_id", "instrument_id", "channel")
    epoch = lambda c: pl.col(c).dt.epoch("us").fill_null(-1)  # noqa: E731
    return bank.join(flows, on="flow_id", maintain_order="left").select(
        "flow_id", "party_id",
        card=pl.when(pl.col("channel") != "account_to_account").then(pl.col("instrument_id")),
        alerted_at=pl.min_horizontal(pl.when(pl.col("rule_decision") == "decline").then(pl.col("ts_utc")),
                                     "detected_at", "disputed_at").dt.epoch("us"),
        detected=epoch("detected_at"), disputed=epoch("disputed_at"),
        fraud_dispute=(pl.col("dispute_kind") == "fraud").fill_null(False), chargeback=epoch("chargeback_at"),
        confirmed=epoch("confirmed_legit_at")).collect()


def cases_table(read: Reader, scenarios: list[str] | None = None) -> pa.Table:
    """The cases of every scenario (or of `scenarios`: a benchmark that built only one)."""
    identity = read.identity
    window = identity.policies.fraud.model.bank.case_window_days * _DAY_US
    tables = []
    for scenario in scenarios or identity.profile.scenarios:
        alerts = pl.concat([_alerts(read, scenario, d) for d in DAYS.get_partition_keys()])
        by_card = alerts["card"].is_not_null().to_numpy()
        key = np.where(by_card, alerts["card"].fill_null(0).to_numpy(), alerts["party_id"].to_numpy())
        c = group_cases(key, np.where(by_card, 0, 1), alerts["alerted_at"].to_numpy(), alerts["detected"].to_numpy(),
                        alerts["disputed"].to_numpy(), alerts["fraud_dispute"].to_numpy(),
                        alerts["chargeback"].to_numpy(), alerts["confirmed"].to_numpy(), window, CLOSE_AFTER_US)
        order = np.lexsort((c.key, c.opened_at))
        time = lambda x: pa.array(x[order], _UTC, mask=x[order] < 0)  # noqa: E731
        first = c.first_row[order]
        tables.append(pa.table({
            "case_id": pa.array(case_ids(identity.policies.scenarios.names.index(scenario),
                                         np.arange(1, order.size + 1, dtype=np.uint64)), pa.uint64()),
            "scenario_id": pa.DictionaryArray.from_arrays(pa.array(np.zeros(order.size, np.int32)),
                                                          pa.array([scenario])),
            "key_kind": pa.DictionaryArray.from_arrays(pa.array(c.key_kind[order].astype(np.int32)),
                                                       pa.array(list(CASE_KEYS))),
            "card_id": pa.array(c.key[order], pa.uint64(), mask=c.key_kind[order] != 0),
            "party_id": pa.array(alerts["party_id"].to_numpy()[first], pa.uint64()),
            "first_flow_id": pa.array(alerts["flow_id"].to_numpy()[first], pa.uint64()),
            "flows": pa.array(c.flows[order].astype(np.int32)),
            "opened_at": time(c.opened_at),
            "detected_at": time(c.detected_at),
            "disputed_at": time(c.disputed_at),
            "chargeback_at": time(c.chargeback_at),
            "decision": pa.DictionaryArray.from_arrays(pa.array(c.decision[order].astype(np.int32)),
                                                       pa.array(list(CASE_DECISIONS))),
            "decided_at": time(c.decided_at),
            "closed_at": time(c.closed_at),
        }))
    return pa.concat_tables(tables)
