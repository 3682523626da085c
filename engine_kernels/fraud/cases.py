"""Cases: the bank's alerts and disputes gathered per card (or party, for payments without a card)
within a window, each with its timeline.

An alert is a flow the bank flagged or heard about: declined by its rule, detected by its
monitoring, or disputed by the customer. A card's alerts open a case at the first one and join it
while they come within `window` of the opening; a later alert opens the next case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Cases", "group_cases"]

_NONE = np.iinfo(np.int64).max
# Decisions, in CASE_DECISIONS order.
FRAUD, LEGIT, SERVICE, OPEN = range(4)


@dataclass
class Cases:
    """One row per case; times in µs since 1970, -1 where none."""

    key: np.ndarray  # the card or party id
    key_kind: np.ndarray  # CASE_KEYS code
    flows: np.ndarray
    first_row: np.ndarray  # an alert row of the case (its first)
    opened_at: np.ndarray
    detected_at: np.ndarray
    disputed_at: np.ndarray
    chargeback_at: np.ndarray
    decision: np.ndarray
    decided_at: np.ndarray
    closed_at: np.ndarray
    case_of: np.ndarray  # per alert row: its case


def _first(values: np.ndarray, case: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, _NONE, np.int64)
    mine = values >= 0
    np.minimum.at(out, case[mine], values[mine])
    return np.where(out == _NONE, -1, out)


def _last(values: np.ndarray, case: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1, np.int64)
    np.maximum.at(out, case, values)
    return out


def group_cases(key: np.ndarray, key_kind: np.ndarray, alerted_at: np.ndarray, detected_at: np.ndarray,
                disputed_at: np.ndarray, fraud_dispute: np.ndarray, chargeback_at: np.ndarray,
                confirmed_at: np.ndarray, window_us: int, close_after_us: int) -> Cases:
    """Cases of the alert rows (one per flow the bank flagged or heard about). `alerted_at` is when
    the row first alerted; the others are the flow's later events (-1 where none). A case is decided
    fraud at its first detection or fraud dispute, service at a service dispute, legitimate once
    every flagged payment is confirmed genuine; it closes `close_after_us` after its last event."""
    order = np.lexsort((alerted_at, key_kind, key))
    k, kind, at = key[order], key_kind[order], alerted_at[order]
    n = k.size
    case = np.zeros(n, np.int64)
    count = 0
    opened = 0
    for i in range(n):
        if i == 0 or k[i] != k[i - 1] or kind[i] != kind[i - 1] or at[i] - opened > window_us:
            count += 1
            opened = at[i]
        case[i] = count - 1
    case_of = np.empty(n, np.int64)
    case_of[order] = case
    m = count
    flows = np.bincount(case_of, minlength=m)
    first_row = np.full(m, n, np.int64)
    np.minimum.at(first_row, case_of, np.arange(n))
    opened_at = _first(alerted_at, case_of, m)
    detected = _first(detected_at, case_of, m)
    fraud_disputes = _first(np.where(fraud_dispute, disputed_at, -1), case_of, m)
    disputes = _first(disputed_at, case_of, m)
    chargebacks = _first(chargeback_at, case_of, m)
    confirmed_all = np.bincount(case_of, weights=(confirmed_at >= 0), minlength=m) == flows
    fraud_at = np.where((detected >= 0) & ((fraud_disputes < 0) | (detected <= fraud_disputes)), detected,
                        fraud_disputes)
    service = (disputes >= 0) & (fraud_at < 0)
    legit = ~service & (fraud_at < 0) & confirmed_all
    decision = np.where(fraud_at >= 0, FRAUD, np.where(service, SERVICE, np.where(legit, LEGIT, OPEN)))
    decided_at = np.where(decision == FRAUD, fraud_at, np.where(decision == SERVICE, disputes,
                                                                np.where(decision == LEGIT,
                                                                         _last(confirmed_at, case_of, m), -1)))
    last = np.maximum.reduce([_last(x, case_of, m) for x in (alerted_at, detected_at, disputed_at, chargeback_at,
                                                              confirmed_at)])
    closed_at = np.where(decision != OPEN, np.maximum(last, decided_at) + close_after_us, -1)
    return Cases(key=key[first_row], key_kind=key_kind[first_row], flows=flows, first_row=first_row,
                 opened_at=opened_at, detected_at=detected, disputed_at=disputes, chargeback_at=chargebacks,
                 decision=decision.astype(np.int8), decided_at=decided_at, closed_at=closed_at, case_of=case_of)
