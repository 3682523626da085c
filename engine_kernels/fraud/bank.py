"""What the bank learns of each flow after authorisation, and when.

At authorisation the bank has its rule's score and decision. Later, fraud it approved may be
detected by its monitoring (minutes to weeks), victims dispute what they did not make or were
tricked into (log-normal days, capped), disputes of card purchases become chargebacks with an
outcome, customers confirm as genuine some payments the bank declined, and a few legitimate
purchases are disputed for service reasons. Every draw is keyed on the flow id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.fraud.draws import log_normal, uniforms
from engine_kernels.fraud.plan import APP, ATO, CARD_TESTING, FIRST_PARTY, STOLEN, VICTIM
from engine_kernels.fraud.policy import BankPolicy
from engine_kernels.vocabulary import CNP_PURCHASE, CP_PURCHASE

__all__ = ["BankView", "bank_view", "FRAUD_DISPUTE", "SERVICE_DISPUTE", "CARDHOLDER_WON", "MERCHANT_WON"]

_MINUTE_US = 60_000_000
_DAY_US = 86_400_000_000
FRAUD_DISPUTE, SERVICE_DISPUTE = 0, 1
CARDHOLDER_WON, MERCHANT_WON = 0, 1
UNKNOWN, FRAUD, LEGIT = 0, 1, 2


@dataclass
class BankView:
    """Per flow; times in µs since 1970, -1 where the event never happens."""

    detected_at: np.ndarray
    disputed_at: np.ndarray
    dispute_kind: np.ndarray  # FRAUD_DISPUTE, SERVICE_DISPUTE, -1
    chargeback_at: np.ndarray
    chargeback_outcome: np.ndarray  # CARDHOLDER_WON, MERCHANT_WON, -1
    confirmed_legit_at: np.ndarray

    def label_as_of(self, at_us: int) -> tuple[np.ndarray, np.ndarray]:
        """(BANK_LABELS code, since when) of every flow as the bank knows it at `at_us`: fraud from
        its first detection or fraud dispute, legitimate once a customer confirmed it, else unknown."""
        fraud_dispute = np.where(self.dispute_kind == FRAUD_DISPUTE, self.disputed_at, -1)
        known = np.where(self.detected_at >= 0, self.detected_at, np.iinfo(np.int64).max)
        known = np.minimum(known, np.where(fraud_dispute >= 0, fraud_dispute, np.iinfo(np.int64).max))
        fraud = known <= at_us
        legit = ~fraud & (self.confirmed_legit_at >= 0) & (self.confirmed_legit_at <= at_us)
        label = np.where(fraud, FRAUD, np.where(legit, LEGIT, UNKNOWN)).astype(np.int8)
        since = np.where(fraud, known, np.where(legit, self.confirmed_legit_at, -1))
        return label, since


def bank_view(label_key: int, flow_id: np.ndarray, fraud_type: np.ndarray, role: np.ndarray, flow_type: np.ndarray,
              paid_at: np.ndarray, answered_at: np.ndarray, approved: np.ndarray, rule_declined: np.ndarray,
              policy: BankPolicy) -> BankView:
    """The bank's later view of a day's flows. fraud_type: FRAUD_TYPES code or -1 for legitimate
    flows; role: LABEL_ROLES code or -1; paid_at: the payment's time, which dispute delays count
    from; answered_at: the authorisation response (-1 where none);
    approved: whether the flow was approved; rule_declined: declined for suspected fraud."""
    n = flow_id.size
    u = uniforms(label_key, flow_id, 0, 8)
    fraud = fraud_type >= 0
    answered = answered_at >= 0
    purchase = (flow_type == CP_PURCHASE) | (flow_type == CNP_PURCHASE)

    # The bank knows at once the fraud its rule declined; monitoring finds a share of the rest.
    detected_at = np.full(n, -1, np.int64)
    caught = fraud & answered & rule_declined
    detected_at[caught] = answered_at[caught]
    found = fraud & answered & approved & ~rule_declined & (u[:, 0] < policy.detection_share)
    minutes = log_normal(u[found, 1], policy.detection_minutes.median, policy.detection_minutes.sigma,
                         policy.detection_minutes.cap)
    detected_at[found] = answered_at[found] + np.maximum((minutes * _MINUTE_US).astype(np.int64), _MINUTE_US)

    # Victims dispute what was taken from them; first-party fraudsters dispute their own purchases.
    # Refund abusers already have their money back and colluding rings never complain.
    victim = fraud & (role == VICTIM) & np.isin(fraud_type, [CARD_TESTING, STOLEN, ATO, APP])
    disputes_fraud = approved & ((victim & (u[:, 2] < policy.victim_dispute_share)) | (fraud_type == FIRST_PARTY))
    service = ~fraud & approved & purchase & (u[:, 2] < policy.service_disputes_per_million / 1e6)
    disputed = disputes_fraud | service
    disputed_at = np.full(n, -1, np.int64)
    days = log_normal(u[disputed, 3], policy.dispute_days.median, policy.dispute_days.sigma, policy.dispute_days.cap)
    disputed_at[disputed] = paid_at[disputed] + np.maximum((days * _DAY_US).astype(np.int64), _MINUTE_US)
    dispute_kind = np.where(disputes_fraud, FRAUD_DISPUTE, np.where(service, SERVICE_DISPUTE, -1)).astype(np.int8)

    # Some disputed card purchases become chargebacks to the merchant's acquirer; cash taken at a
    # machine and the rest of the disputes the issuer absorbs or the merchant refunds.
    charged = disputed & purchase & (u[:, 4] < policy.chargeback_share)
    chargeback_at = np.full(n, -1, np.int64)
    days = log_normal(u[charged, 5], policy.chargeback_days.median, policy.chargeback_days.sigma,
                      policy.chargeback_days.cap)
    chargeback_at[charged] = disputed_at[charged] + np.maximum((days * _DAY_US).astype(np.int64), _MINUTE_US)
    wins = u[:, 4] < policy.chargeback_share * policy.cardholder_wins  # u[:, 4] < share chose the chargeback
    outcome = np.where(charged, np.where(wins, CARDHOLDER_WON, MERCHANT_WON), -1)

    # Customers confirm as genuine some of the legitimate payments the bank declined as suspect.
    confirmed_at = np.full(n, -1, np.int64)
    confirms = ~fraud & rule_declined & answered & (u[:, 6] < policy.confirmation_share)
    minutes = log_normal(u[confirms, 7], policy.confirmation_minutes.median, policy.confirmation_minutes.sigma,
                         policy.confirmation_minutes.cap)
    confirmed_at[confirms] = answered_at[confirms] + np.maximum((minutes * _MINUTE_US).astype(np.int64), _MINUTE_US)
    return BankView(detected_at, disputed_at, dispute_kind, chargeback_at, outcome.astype(np.int8), confirmed_at)

