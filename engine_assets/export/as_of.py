"""What the bank knew at a moment `as_of`: everything learned later is hidden, so a model trains as a bank can.

Pure functions on lazy frames of one published partition. A timestamp after `as_of` becomes null,
with the columns that only exist because of it (a dispute's kind, a chargeback's outcome); the
bank's label is recomputed from the bank view's events known by then, by the same rule the engine
publishes it with (engine_kernels/fraud/bank.py, BankView.label_as_of): fraud from the first
detection or fraud dispute, legit once a customer confirmed the payment, else unknown. Recomputing
rather than masking the published label matters: a label published as fraud may have been legit
(confirmed) before the detection that made it fraud.

Rows are never dropped for being after `as_of` (the user chose the days), except lifecycle events
and cases: an event or case that had not happened yet did not exist for the bank.
"""

import datetime as dt

import polars as pl

# Label-event columns of seg_6b/bank_view, each with the columns that hold only once it happened.
BANK_EVENTS = {
    "detected_at": (),
    "disputed_at": ("dispute_kind",),
    "chargeback_at": ("chargeback_outcome",),
    "confirmed_legit_at": (),
}
CASE_TIMES = ("detected_at", "disputed_at", "chargeback_at", "closed_at")


def known(column: str, as_of: dt.datetime, value: str | None = None) -> pl.Expr:
    """`value` (default: the column itself) where `column` happened at or before `as_of`, else null."""
    return pl.when(pl.col(column) <= as_of).then(pl.col(value or column)).alias(value or column)


def bank_label(as_of: dt.datetime) -> list[pl.Expr]:
    """bank_label and bank_label_at as of `as_of`, from a frame with the bank view's event columns."""
    fraud_dispute = pl.when(pl.col("dispute_kind") == "fraud").then(pl.col("disputed_at"))
    fraud_since = pl.min_horizontal(pl.col("detected_at"), fraud_dispute)  # nulls ignored: the first that happened
    fraud = (fraud_since <= as_of).fill_null(False)
    legit = ~fraud & (pl.col("confirmed_legit_at") <= as_of).fill_null(False)
    label = pl.when(fraud).then(pl.lit("fraud")).when(legit).then(pl.lit("legit")).otherwise(pl.lit("unknown"))
    since = pl.when(fraud).then(fraud_since).when(legit).then(pl.col("confirmed_legit_at"))
    # Same dtype as published (a dictionary column), so files of one export share one schema.
    return [label.cast(pl.Categorical).alias("bank_label"), since.alias("bank_label_at")]


def bank_view_as_of(bank: pl.LazyFrame, as_of: dt.datetime) -> pl.LazyFrame:
    # One with_columns: every expression reads the unmasked columns, so the label sees the real events.
    masked = [known(at, as_of, c) for at, deps in BANK_EVENTS.items() for c in (at, *deps)]
    return bank.with_columns(*masked, *bank_label(as_of))


def transactions_as_of(transactions: pl.LazyFrame, bank: pl.LazyFrame, as_of: dt.datetime) -> pl.LazyFrame:
    """The training table with the bank's label as of `as_of`, joined from the same partition's bank view.

    The truth columns (is_fraud, fraud_type, truth_at) are the simulation's ground truth, not
    something the bank learns: they are left alone here (the export drops them on request).
    """
    columns = transactions.collect_schema().names()
    labels = bank.select("flow_id", *bank_label(as_of))
    joined = transactions.drop("bank_label", "bank_label_at").join(
        labels, on="flow_id", how="left", validate="1:1", maintain_order="left")
    return joined.select(columns)


def events_as_of(events: pl.LazyFrame, as_of: dt.datetime) -> pl.LazyFrame:
    """Lifecycle events that had happened by `as_of` (a clearing or refund days later had not)."""
    return events.filter(pl.col("ts_utc") <= as_of)


def cases_as_of(cases: pl.LazyFrame, as_of: dt.datetime) -> pl.LazyFrame:
    """Cases opened by `as_of`, with later milestones hidden and undecided ones open.

    A case's `flows` (its alerted flows) and its first detection or dispute are kept as published
    when they happened by then; a case that gathered more alerts after `as_of` still counts them,
    since the published table keeps no per-alert history.
    """
    decided = (pl.col("decided_at") <= as_of).fill_null(False)
    decision = pl.when(decided).then(pl.col("decision")).otherwise(pl.lit("open")).cast(pl.Categorical)
    return cases.filter(pl.col("opened_at") <= as_of).with_columns(
        *(known(c, as_of) for c in CASE_TIMES), known("decided_at", as_of), decision.alias("decision"))
