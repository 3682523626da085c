"""6b.yaml, parsed into the dense policy of engine_kernels/flows/policy.py and its corridors.

Maps keyed by sector, flow type, party type or income band become vectors in the orders of
engine_kernels/vocabulary.py; distributions are checked to sum to 1 and unknown keys are refused
with the allowed ones (the schema already refuses most; the names here make the error readable).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_assets.run.policy_fields import _at_most_one, _distribution, _floor_cap, _known, _ordered_pair, _realism
from engine_kernels.flows.policy import (
    AmountPolicy,
    AttachmentPolicy,
    AuthorisationPolicy,
    FlowPolicy,
    LifecyclePolicy,
    LogNormal,
    SessionPolicy,
    TransferPolicy,
)
from engine_kernels.vocabulary import DECLINE_REASONS, FLOW_TYPE_KEYS, PARTY_TYPES, SECTORS, SEGMENTS

Document = Mapping[str, Any]


@dataclass(frozen=True)
class FlowRealism:
    """6b.yaml `realism`."""

    enforce_from_flows: int
    decline_card_present: tuple[float, float]
    decline_card_not_present: tuple[float, float]
    suspected_fraud_share_of_declines: tuple[float, float]
    refund_share_card_present: tuple[float, float]
    refund_share_card_not_present: tuple[float, float]
    payments_per_active_card_month: tuple[float, float]
    cross_border: tuple[float, float]
    primary_share: Mapping[str, tuple[float, float]]
    primary_min_purchases: int
    frictionless_share: tuple[float, float]
    transfers_per_party_month: tuple[float, float]
    auth_latency_median_ms: tuple[float, float]
    auth_latency_p99_ms_max: float


def _vector(table: Mapping[str, Any], names: Sequence[str], field: str) -> np.ndarray:
    """One float per name; every name must be present."""
    _known(table, names, field)
    missing = [n for n in names if n not in table]
    if missing:
        raise ValueError(f"{field}: no value for {', '.join(missing)}")
    return np.array([float(table[n]) for n in names])


def _flags(values: Sequence[str], names: Sequence[str], field: str) -> np.ndarray:
    _known(dict.fromkeys(values, 0), names, field)
    return np.array([n in values for n in names])


def _log_normal(d: Document, cap_key: str | None = None) -> LogNormal:
    return LogNormal(float(d["median"]), float(d["sigma"]), float(d[cap_key]) if cap_key else np.inf)


def _attachment(d: Document) -> AttachmentPolicy:
    online, favourites, neighbours = d["online"], d["favourites"], d["neighbours"]
    _at_most_one({"travel_share": d["travel_share"], "domestic_share": d["domestic_share"]}, "attachment",
                 "a site's card-present purchases (the rest go to its regulars and neighbours)")
    return AttachmentPolicy(
        favourite_candidates=int(favourites["candidates"]),
        favourite_distance_km=float(favourites["distance_km"]),
        favourite_exponent=float(favourites["exponent"]),
        regular_share=_vector(d["regular_share"], SECTORS, "attachment.regular_share"),
        neighbour_visits_per_week=_vector(neighbours["visits_per_week"], SECTORS,
                                          "attachment.neighbours.visits_per_week"),
        neighbours=_floor_cap(neighbours, "min", "max", "attachment.neighbours", int),
        domestic_share=float(d["domestic_share"]),
        travel_share=float(d["travel_share"]),
        online_regular_share=float(online["regular_share"]),
        online_visits_per_week=float(online["visits_per_week"]),
        online_regulars=_floor_cap(online, "min_regulars", "max_regulars", "attachment.online", int),
        online_foreign_share=float(online["foreign_share"]),
        card_decay=float(d["card_decay"]),
        wallet_share=_vector(d["wallet_share"], FLOW_TYPE_KEYS[:2], "attachment.wallet_share"),
        other_ip_share=float(d["other_ip_share"]),
    )


def _amounts(d: Document) -> AmountPolicy:
    sectors = d["sectors"]
    _vector({s: 0 for s in sectors}, SECTORS, "amounts.sectors")
    atm = d["atm"]
    if len(atm["values"]) != len(atm["weights"]):
        raise ValueError(f"amounts.atm: {len(atm['values'])} values but {len(atm['weights'])} weights")
    price = d["price_level"]
    floor, cap = _floor_cap(price, "floor", "cap", "amounts.price_level")
    _at_most_one(d["price_points"], "amounts.price_points", "the same amounts (the rest keep their cents)")
    return AmountPolicy(
        median_usd=np.array([float(sectors[s]["median"]) for s in SECTORS]),
        sigma=np.array([float(sectors[s]["sigma"]) for s in SECTORS]),
        ninety_nine=float(d["price_points"]["ninety_nine"]),
        round_share=float(d["price_points"]["round"]),
        price_elasticity=float(price["elasticity"]),
        price_floor=floor,
        price_cap=cap,
        atm_values=np.array(atm["values"], np.float64),
        atm_weights=np.cumsum(_distribution(atm["weights"], "amounts.atm.weights")),
        fx_markup=float(d["fx_markup"]),
        fx_per_usd={str(k): float(v) for k, v in d["fx_per_usd"].items()},
    )


def _authorisation(d: Document) -> AuthorisationPolicy:
    reasons = d["reasons"]
    _vector({k: 0 for k in reasons}, FLOW_TYPE_KEYS, "authorisation.reasons")
    table = np.stack([np.cumsum(_distribution(_vector(reasons[k], DECLINE_REASONS, f"authorisation.reasons.{k}"),
                                              f"authorisation.reasons.{k}")) for k in FLOW_TYPE_KEYS])
    partial, three_ds, latency = d["partial_approval"], d["three_ds"], d["latency_ms"]
    return AuthorisationPolicy(
        decline=_vector(d["decline"], FLOW_TYPE_KEYS, "authorisation.decline"),
        income_odds=np.array(d["income_odds"], np.float64),
        amount_elasticity=float(d["amount_elasticity"]),
        reasons=table,
        partial_share=float(partial["share"]),
        partial_sectors=_flags(partial["sectors"], SECTORS, "authorisation.partial_approval.sectors"),
        partial_fraction=_ordered_pair(partial["fraction"], "authorisation.partial_approval.fraction"),
        latency=LogNormal(float(latency["median"]), float(latency["sigma"]), float(latency["timeout"])),
        three_ds_mandated=frozenset(three_ds["mandated"]),
        three_ds_elsewhere=float(three_ds["elsewhere"]),
        frictionless=float(three_ds["frictionless"]),
        challenge_failure=float(three_ds["challenge_failure"]),
        frictionless_seconds=_ordered_pair(three_ds["frictionless_seconds"], "authorisation.three_ds.frictionless_seconds"),
        challenge_seconds=_log_normal(three_ds["challenge_seconds"]),
    )


def _lifecycle(d: Document) -> LifecyclePolicy:
    clearing = d["clearing_hours"]
    _known(clearing, FLOW_TYPE_KEYS[:3], "lifecycle.clearing_hours")
    refund = d["partial_refund"]
    return LifecyclePolicy(
        clearing_hours=tuple(_log_normal(clearing[k], "cap") for k in FLOW_TYPE_KEYS[:3]),
        settlement_hours={k: float(v) for k, v in d["settlement_hours"].items()},
        instant_rails=frozenset(d["instant_rails"]),
        batch_rails=frozenset(d["batch_rails"]),
        reversal_share=_vector(d["reversal_share"], FLOW_TYPE_KEYS[:3], "lifecycle.reversal_share"),
        reversal_minutes=_log_normal(d["reversal_minutes"]),
        refund_share=_vector(d["refund_share"], FLOW_TYPE_KEYS[:2], "lifecycle.refund_share"),
        partial_refund_share=float(refund["share"]),
        partial_refund_fraction=_ordered_pair(refund["fraction"], "lifecycle.partial_refund.fraction"),
        refund_days=_log_normal(d["refund_days"], "cap"),
    )


def _transfers(d: Document) -> TransferPolicy:
    paydays = d["paydays"]
    if len(paydays["days"]) != len(paydays["weights"]):
        raise ValueError(f"transfers.paydays: {len(paydays['days'])} days but {len(paydays['weights'])} weights")
    return TransferPolicy(
        p2p_per_month=_vector(d["p2p_per_month"], PARTY_TYPES, "transfers.p2p_per_month"),
        bills_per_month=_vector(d["bills_per_month"], PARTY_TYPES, "transfers.bills_per_month"),
        household_share=float(d["p2p_household_share"]),
        abroad_share=float(d["p2p_abroad_share"]),
        neighbourhood=int(d["p2p_neighbourhood"]),
        biller_sectors=_flags(d["biller_sectors"], SECTORS, "transfers.biller_sectors"),
        salary_segments=_flags(d["salary_segments"], SEGMENTS, "transfers.salary_segments"),
        paydays=np.array(paydays["days"], np.int64),
        payday_weights=np.cumsum(_distribution(paydays["weights"], "transfers.paydays.weights")),
        salary_usd=np.array(d["salary"]["by_income"], np.float64),
        salary_sigma=float(d["salary"]["sigma"]),
        benefit_usd=np.array(d["benefit"]["by_income"], np.float64),
        benefit_sigma=float(d["benefit"]["sigma"]),
        p2p_amount=_log_normal(d["p2p_amount"]),
        p2p_round_share=float(d["p2p_amount"]["round_share"]),
        bill_amount=_log_normal(d["bill_amount"]),
        hours=np.cumsum(np.asarray(d["hours"], np.float64) / float(np.sum(d["hours"]))),
    )


def parse_flows(d: Document) -> tuple[FlowPolicy, FlowRealism]:
    """6b.yaml: the payments' model and the corridors of their validation."""
    sessions = d["sessions"]
    model = FlowPolicy(
        _attachment(d["attachment"]), _amounts(d["amounts"]), _authorisation(d["authorisation"]),
        _lifecycle(d["lifecycle"]), _transfers(d["transfers"]),
        SessionPolicy(float(sessions["inactivity_gap_minutes"]), _log_normal(sessions["lead_minutes"]),
                      _log_normal(sessions["tail_minutes"])),
    )
    return model, _realism(FlowRealism, d["realism"])
