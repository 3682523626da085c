"""What the report needs of one (scenario, day): a pass over its arrivals, flows, events and labels.

Each day is reduced on its own (two at a time on threads; polars releases the GIL), so the report
holds a day's frames and the small per-day tallies, never the horizon at once.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.storage.reader import Reader

_US_PER_DAY = 86_400e6
# The bank's label events, each as a delay after the payment it labels.
DELAYS = {"detected": "detected_at", "disputed": "disputed_at", "charged back": "chargeback_at",
          "confirmed legit": "confirmed_legit_at"}


@dataclass
class DayTally:
    day: str
    arrivals: int
    virtual: int
    flows: int
    declined: int
    refunds: int
    fraud: dict[str, int]  # flows per fraud type
    amounts: dict[str, np.ndarray]  # USD amounts per flow type
    delays: dict[str, np.ndarray]  # days from payment to each label event
    squares: pl.DataFrame  # per (merchant, zone): sum of (count - lambda_5a)^2 and of lambda_5a


def day_tally(read: Reader, scenario: str, day: str, fx_per_usd: dict[str, float]) -> DayTally:
    key = {"scenario": scenario, "day": day}
    arrivals = read.scan("seg_5b/arrival_events", key).select(pl.len(), pl.col("is_virtual").sum()).collect()
    counts = read.scan("seg_5b/bucket_counts", key).group_by("merchant_id", "tzid").agg(
        squares=((pl.col("count") - pl.col("lambda_5a")) ** 2).sum(), expected=pl.col("lambda_5a").sum()).collect()
    fx = pl.DataFrame({"billing_currency": list(fx_per_usd), "fx": list(fx_per_usd.values())})
    flows = read.scan("seg_6b/flows", key).select(
        "flow_id", "ts_utc", pl.col("flow_type").cast(pl.String), "outcome", "billing_amount",
        pl.col("billing_currency").cast(pl.String)).collect()
    usd = flows.join(fx, on="billing_currency", how="left").select(
        "flow_type", usd=pl.col("billing_amount") / pl.col("fx"))
    labels = read.scan("seg_6b/truth_labels", key).select("label").collect()
    fraud = labels.filter(pl.col("label") != "legit")["label"].cast(pl.String).value_counts()
    events = read.scan("seg_6b/events", key).filter(pl.col("event_type") == "refund").select(pl.len()).collect()
    bank = read.scan("seg_6b/bank_view", key).select("flow_id", *DELAYS.values()).collect().join(
        flows.select("flow_id", "ts_utc"), on="flow_id")
    delays = {name: bank.select((pl.col(column) - pl.col("ts_utc")).dt.total_microseconds() / _US_PER_DAY)
              .to_series().drop_nulls().to_numpy() for name, column in DELAYS.items()}
    return DayTally(
        day=day, arrivals=int(arrivals[0, 0]), virtual=int(arrivals[0, 1] or 0), flows=flows.height,
        declined=int(flows["outcome"].cast(pl.String).is_in(["declined", "authentication_failed"]).sum()),
        refunds=int(events[0, 0]), fraud=dict(zip(fraud["label"].to_list(), fraud["count"].to_list())),
        amounts={t: g["usd"].drop_nulls().to_numpy() for (t,), g in usd.group_by("flow_type", maintain_order=True)},
        delays=delays, squares=counts)
