"""fraud.yaml, parsed into engine_kernels/fraud/policy.py and the corridors of the fraud validation."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_assets.run.policy_fields import _distribution, _ordered_pair, _realism, _share_map
from engine_kernels.flows.policy import LogNormal
from engine_kernels.fraud.policy import (
    AccountTakeover,
    Adaptation,
    AppScam,
    BankPolicy,
    CampaignRate,
    CardTesting,
    FraudPolicy,
    MerchantCollusion,
    ProfileChange,
    RefundAbuse,
    Rule,
    ScamKind,
    Span,
    StolenCards,
)
from engine_kernels.vocabulary import FRAUD_TYPES, PROFILE_CHANGES, RULE_FEATURES, SCAM_KINDS

Document = Mapping[str, Any]


@dataclass(frozen=True)
class FraudRealism:
    """fraud.yaml `realism`."""

    enforce_from_flows: int
    fraud_share: tuple[float, float]
    weekly_cv_max: float
    cnp_cp_rate_ratio: tuple[float, float]
    cnp_value_share: tuple[float, float]
    chargeback_share: tuple[float, float]
    fraud_coded_chargebacks: tuple[float, float]
    dispute_median_days: tuple[float, float]
    dispute_within_90_days_min: float
    dispute_cap_days: float
    case_share_max: float
    single_feature_auc_max: float
    model_auc: tuple[float, float]


def _span(values, field: str) -> Span:
    lo, hi = (int(v) for v in values)
    if hi < lo:
        raise ValueError(f"fraud.yaml: {field} must be [min, max] with min <= max, got {list(values)}")
    return Span(lo, hi)


def _ln(d: Document) -> LogNormal:
    return LogNormal(float(d["median"]), float(d["sigma"]), float(d.get("cap", np.inf)))


def _profile_change(d: Document) -> ProfileChange:
    kinds = {k: _share_map(d[f"{k}_kinds"], PROFILE_CHANGES, f"account_takeover.profile_change.{k}_kinds")
             for k in ("takeover", "legit")}
    return ProfileChange(float(d["takeover_share"]), kinds["takeover"], float(d["legit_share"]), kinds["legit"])


def parse_fraud(d: Document) -> tuple[FraudPolicy, FraudRealism]:
    """fraud.yaml: the campaigns' model, the bank's view and the corridors of their validation."""
    c = d["campaigns"]
    rates = tuple(CampaignRate(float(c[t]["per_million_month"]), _span(c[t]["targets"], f"campaigns.{t}.targets"),
                               _span(c[t]["window_days"], f"campaigns.{t}.window_days")) for t in FRAUD_TYPES)
    ct, sc, ato, app = d["card_testing"], d["stolen_cards"], d["account_takeover"], d["app_scam"]
    kinds = app["kinds"]
    _distribution([kinds[k]["share"] for k in SCAM_KINDS], "app_scam.kinds.*.share", SCAM_KINDS)
    bank = d["bank"]
    rule = bank["rule"]
    model = FraudPolicy(
        dispersion=float(c["dispersion"]),
        campaigns=rates,
        domestic_share=float(d["places"]["domestic_share"]),
        risky_tilt=float(d["places"]["risky_tilt"]),
        card_testing=CardTesting(_span(ct["probes"], "card_testing.probes"),
                                 _ordered_pair(ct["probe_usd"], "card_testing.probe_usd"), float(ct["invalid_share"]),
                                 _span(ct["charges"], "card_testing.charges"), _ln(ct["charge_hours"]),
                                 _ln(ct["charge_factor"])),
        stolen_cards=StolenCards(_span(sc["lead_days"], "stolen_cards.lead_days"), _span(sc["days"], "stolen_cards.days"),
                                 _span(sc["per_day"], "stolen_cards.per_day"), float(sc["online_share"]),
                                 _ln(sc["amount_factor"]), float(sc["in_store_factor"]), float(sc["limit_usd"])),
        account_takeover=AccountTakeover(_span(ato["drains"], "account_takeover.drains"),
                                         _ordered_pair(ato["drain_share"], "account_takeover.drain_share"),
                                         _span(ato["purchases"], "account_takeover.purchases"),
                                         _ln(ato["purchase_factor"]), _ln(ato["balance_usd"]),
                                         float(ato["remote_access_share"]), _profile_change(ato["profile_change"])),
        app_scam=AppScam(tuple(ScamKind(float(kinds[k]["share"]), _ln(kinds[k]["amount_usd"]),
                                        _span(kinds[k]["payments"], f"app_scam.kinds.{k}.payments"))
                               for k in SCAM_KINDS),
                         _ln(app["forward_hours"]), _ordered_pair(app["forward_share"], "app_scam.forward_share"),
                         float(app["cash_out_share"])),
        refund_abuse=RefundAbuse(float(d["refund_abuse"]["purchases_per_week"]), _ln(d["refund_abuse"]["amount_factor"]),
                                 _ln(d["refund_abuse"]["refund_days"])),
        merchant_collusion=MerchantCollusion(float(d["merchant_collusion"]["per_card_per_day"]),
                                             _ln(d["merchant_collusion"]["amount_factor"]),
                                             float(d["merchant_collusion"]["growth_per_day"]),
                                             float(d["merchant_collusion"]["limit_usd"])),
        first_party_min_usd=float(d["first_party"]["min_amount_usd"]),
        adaptation=Adaptation(_ln(d["adaptation"]["after_days"]), int(d["adaptation"]["learned_after_days"]),
                              float(d["adaptation"]["amount_factor"])),
        bank=BankPolicy(
            rule=Rule(float(rule["intercept"]), np.array([float(rule["weights"][f]) for f in RULE_FEATURES]),
                      float(rule["noise_sigma"]), float(rule["threshold"])),
            detection_share=float(bank["detection"]["share"]), detection_minutes=_ln(bank["detection"]["minutes"]),
            victim_dispute_share=float(bank["disputes"]["victim_share"]), dispute_days=_ln(bank["disputes"]["days"]),
            service_disputes_per_million=float(bank["disputes"]["service_per_million"]),
            chargeback_share=float(bank["chargebacks"]["share"]), chargeback_days=_ln(bank["chargebacks"]["days"]),
            cardholder_wins=float(bank["chargebacks"]["cardholder_wins"]),
            confirmation_share=float(bank["confirmations"]["share"]),
            confirmation_minutes=_ln(bank["confirmations"]["minutes"]),
            case_window_days=int(bank["case_window_days"])),
    )
    return model, _realism(FraudRealism, d["realism"])
