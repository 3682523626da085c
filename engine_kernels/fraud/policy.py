"""fraud.yaml as the dataclasses the fraud kernels read (parsed by engine_assets/run/fraud_policy.py).

Money is in US dollars at US prices; `Span` is an inclusive integer range drawn uniformly (counts,
days) and `targets` log-uniformly; per-type tables follow FRAUD_TYPES, rule weights RULE_FEATURES.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.flows.policy import LogNormal


@dataclass(frozen=True)
class Span:
    lo: int
    hi: int


@dataclass(frozen=True)
class CampaignRate:
    per_million_month: float
    targets: Span
    window_days: Span


@dataclass(frozen=True)
class CardTesting:
    probes: Span
    probe_usd: tuple[float, float]
    invalid_share: float
    charges: Span
    charge_hours: LogNormal
    charge_factor: LogNormal  # on the merchant's usual amount


@dataclass(frozen=True)
class StolenCards:
    lead_days: Span
    days: Span
    per_day: Span
    online_share: float
    amount_factor: LogNormal
    in_store_factor: float
    limit_usd: float


@dataclass(frozen=True)
class ProfileChange:
    """How often a session opens with a profile change, and its kind (PROFILE_CHANGES order), in a
    takeover's sessions and in the others."""

    takeover_share: float
    takeover_kinds: np.ndarray
    legit_share: float
    legit_kinds: np.ndarray


@dataclass(frozen=True)
class AccountTakeover:
    drains: Span
    drain_share: tuple[float, float]
    purchases: Span
    purchase_factor: LogNormal
    balance_usd: LogNormal
    remote_access_share: float
    profile_change: ProfileChange


@dataclass(frozen=True)
class ScamKind:
    share: float
    amount_usd: LogNormal
    payments: Span


@dataclass(frozen=True)
class AppScam:
    kinds: tuple[ScamKind, ...]  # in SCAM_KINDS order
    forward_hours: LogNormal
    forward_share: tuple[float, float]
    cash_out_share: float


@dataclass(frozen=True)
class RefundAbuse:
    purchases_per_week: float
    amount_factor: LogNormal
    refund_days: LogNormal


@dataclass(frozen=True)
class MerchantCollusion:
    per_card_per_day: float
    amount_factor: LogNormal
    growth_per_day: float
    limit_usd: float  # a ring card's credit line: its payments stop once they reach it


@dataclass(frozen=True)
class Adaptation:
    after_days: LogNormal
    learned_after_days: int
    amount_factor: float


@dataclass(frozen=True)
class Rule:
    intercept: float
    weights: np.ndarray  # RULE_FEATURES order
    noise_sigma: float
    threshold: float


@dataclass(frozen=True)
class BankPolicy:
    rule: Rule
    detection_share: float
    detection_minutes: LogNormal
    victim_dispute_share: float
    dispute_days: LogNormal
    service_disputes_per_million: float
    chargeback_share: float
    chargeback_days: LogNormal
    cardholder_wins: float
    confirmation_share: float
    confirmation_minutes: LogNormal
    case_window_days: int


@dataclass(frozen=True)
class FraudPolicy:
    dispersion: float
    campaigns: tuple[CampaignRate, ...]  # FRAUD_TYPES order
    domestic_share: float
    risky_tilt: float
    card_testing: CardTesting
    stolen_cards: StolenCards
    account_takeover: AccountTakeover
    app_scam: AppScam
    refund_abuse: RefundAbuse
    merchant_collusion: MerchantCollusion
    first_party_min_usd: float
    adaptation: Adaptation
    bank: BankPolicy
