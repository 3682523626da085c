"""6b.yaml as dense arrays in the orders of engine_kernels/vocabulary.py (parsed by
engine_assets/run/flow_policy.py). Per-sector vectors follow SECTORS, per-type ones FLOW_TYPES,
reason tables DECLINE_REASONS, income vectors INCOME_BANDS."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LogNormal:
    median: float
    sigma: float
    cap: float = np.inf


@dataclass(frozen=True)
class AttachmentPolicy:
    favourite_candidates: int
    favourite_distance_km: float
    favourite_exponent: float
    regular_share: np.ndarray  # by sector
    neighbour_visits_per_week: np.ndarray  # by sector
    neighbours: tuple[int, int]  # min, max per site
    domestic_share: float
    travel_share: float
    online_regular_share: float
    online_visits_per_week: float
    online_regulars: tuple[int, int]
    online_foreign_share: float
    card_decay: float
    wallet_share: np.ndarray  # card present, card not present
    other_ip_share: float


@dataclass(frozen=True)
class AmountPolicy:
    median_usd: np.ndarray  # by sector
    sigma: np.ndarray  # by sector
    ninety_nine: float
    round_share: float
    price_elasticity: float
    price_floor: float
    price_cap: float
    atm_values: np.ndarray
    atm_weights: np.ndarray  # cumulative
    fx_markup: float
    fx_per_usd: Mapping[str, float]


@dataclass(frozen=True)
class AuthorisationPolicy:
    decline: np.ndarray  # by flow type
    income_odds: np.ndarray
    amount_elasticity: float
    reasons: np.ndarray  # (flow types, reasons), cumulative along reasons
    partial_share: float
    partial_sectors: np.ndarray  # bool by sector
    partial_fraction: tuple[float, float]
    latency: LogNormal  # milliseconds; cap = timeout
    three_ds_mandated: frozenset[str]
    three_ds_elsewhere: float
    frictionless: float
    challenge_failure: float
    frictionless_seconds: tuple[float, float]
    challenge_seconds: LogNormal


@dataclass(frozen=True)
class LifecyclePolicy:
    clearing_hours: tuple[LogNormal, ...]  # card present, card not present, ATM
    settlement_hours: Mapping[str, float]  # instant, default, batch, swift
    instant_rails: frozenset[str]
    batch_rails: frozenset[str]
    reversal_share: np.ndarray  # card present, card not present, ATM
    reversal_minutes: LogNormal
    refund_share: np.ndarray  # card present, card not present
    partial_refund_share: float
    partial_refund_fraction: tuple[float, float]
    refund_days: LogNormal

    def settlement(self, rail: str) -> float:
        """Hours a transfer on `rail` takes to settle."""
        if rail == "SWIFT":
            return self.settlement_hours["swift"]
        if rail in self.instant_rails:
            return self.settlement_hours["instant"]
        return self.settlement_hours["batch" if rail in self.batch_rails else "default"]


@dataclass(frozen=True)
class TransferPolicy:
    p2p_per_month: np.ndarray  # by party type
    bills_per_month: np.ndarray  # by party type
    household_share: float
    abroad_share: float
    neighbourhood: int
    biller_sectors: np.ndarray  # bool by sector
    salary_segments: np.ndarray  # bool by segment
    paydays: np.ndarray  # day of month (31 = last)
    payday_weights: np.ndarray  # cumulative
    salary_usd: np.ndarray  # by income band
    salary_sigma: float
    benefit_usd: np.ndarray
    benefit_sigma: float
    p2p_amount: LogNormal
    p2p_round_share: float
    bill_amount: LogNormal
    hours: np.ndarray  # cumulative over the 24 local hours


@dataclass(frozen=True)
class SessionPolicy:
    gap_minutes: float
    lead_minutes: LogNormal
    tail_minutes: LogNormal


@dataclass(frozen=True)
class FlowPolicy:
    attachment: AttachmentPolicy
    amounts: AmountPolicy
    authorisation: AuthorisationPolicy
    lifecycle: LifecyclePolicy
    transfers: TransferPolicy
    sessions: SessionPolicy
