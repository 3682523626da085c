"""Checks of 6B part 2: the truth, the bank's view, the cases and the training table.

Blocking, per (scenario, day): every flow has exactly one truth label, one row of the bank's view
and one training row; the bank's label events come after the payments they label; every
campaign's flows lie inside its window; campaign, target and case ids point at rows of the plan,
6A and the flows. Realism (config/policies/fraud.yaml): fraud share of flows and its weekly
variation, the card-not-present to card-present fraud-rate ratio, card-not-present share of fraud
value, chargebacks and their fraud-coded share, dispute delays, the share of flows in cases, and
learnability on a held-out week (engine_assets/behaviour/seg_6b/learnability.py).
"""

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader

_DAY_US = 86_400_000_000
_CARD_PRESENT = ("card_present_purchase", "atm_withdrawal")
_TIMES = ("detected_at", "disputed_at", "chargeback_at", "confirmed_legit_at", "bank_label_at")


@dataclass
class FraudTally:
    unlabelled: int = 0
    early_labels: int = 0
    outside_window: int = 0
    dangling: int = 0
    flows: int = 0
    fraud: int = 0
    cp: list = field(default_factory=lambda: [0, 0])  # card-present flows, fraud
    cnp: list = field(default_factory=lambda: [0, 0])
    value: list = field(default_factory=lambda: [0.0, 0.0])  # card fraud value in USD: card not present, all
    chargebacks: int = 0
    fraud_coded: int = 0
    dispute_days: list = field(default_factory=list)


def fraud_day(read: Reader, scenario: str, day: str, windows: pl.DataFrame, usd: dict[str, float]) -> FraudTally:
    """One (scenario, day)'s counts; `windows` is the scenario's campaigns (id, start, end)."""
    t = FraudTally()
    key = {"scenario": scenario, "day": day}
    flows = read.scan("seg_6b/flows", key).select("flow_id", "flow_type", "ts_utc", "billing_amount",
                                                  "billing_currency").collect()
    labels = read.scan("seg_6b/truth_labels", key).select("flow_id", "label", "campaign_id").collect()
    bank = read.scan("seg_6b/bank_view", key).select("flow_id", "dispute_kind", *_TIMES).collect()
    training = read.scan("seg_6b/transactions", key).select("flow_id").collect()
    ids = flows["flow_id"].sort()
    for other in (labels, bank, training):
        mine = other["flow_id"]
        t.unlabelled += int(mine.len() - mine.n_unique()) + int((~ids.is_in(mine.implode())).sum()) + int(
            (~mine.is_in(ids.implode())).sum())
    x = flows.join(labels, on="flow_id", how="left").join(bank, on="flow_id", how="left")
    t.early_labels = int(x.select(pl.any_horizontal([pl.col(c) < pl.col("ts_utc") for c in _TIMES])
                                  .fill_null(False).sum()).item())
    fraud = x.filter(pl.col("label").cast(pl.String) != "legit")
    inside = fraud.join(windows, on="campaign_id", how="left")
    t.dangling = int(inside["window_start"].null_count())
    t.outside_window = int(inside.filter((pl.col("ts_utc") < pl.col("window_start"))
                                         | (pl.col("ts_utc") >= pl.col("window_end"))).height)
    t.flows, t.fraud = flows.height, fraud.height
    kind = x["flow_type"].cast(pl.String)
    is_fraud = (x["label"].cast(pl.String) != "legit").fill_null(False)
    cp, cnp = kind.is_in(list(_CARD_PRESENT)), kind == "card_not_present_purchase"
    t.cp = [int(cp.sum()), int((cp & is_fraud).sum())]
    t.cnp = [int(cnp.sum()), int((cnp & is_fraud).sum())]
    card_fraud = x.filter(is_fraud & (cp | cnp))
    value = card_fraud["billing_amount"].to_numpy() / card_fraud["billing_currency"].cast(pl.String).replace_strict(
        usd, default=1.0, return_dtype=pl.Float64).to_numpy()
    online = (card_fraud["flow_type"].cast(pl.String) == "card_not_present_purchase").to_numpy()
    t.value = [float(value[online].sum()), float(value.sum())]
    charged = x.filter(pl.col("chargeback_at").is_not_null())
    t.chargebacks = charged.height
    t.fraud_coded = int((charged["dispute_kind"].cast(pl.String) == "fraud").sum())
    disputed = x.filter(pl.col("disputed_at").is_not_null())
    t.dispute_days.append(((disputed["disputed_at"] - disputed["ts_utc"]).dt.total_microseconds()
                           / _DAY_US).to_numpy())
    return t


def weekly_fraud(tallies: list[FraudTally]) -> list[float]:
    """Fraud share of each whole 7-day block of the horizon's days (a partial last block is dropped)."""
    out = []
    for w in range(len(tallies) // 7):
        block = tallies[7 * w:7 * w + 7]
        flows = sum(t.flows for t in block)
        out.append(sum(t.fraud for t in block) / flows if flows else 0.0)
    return out


def fraud_outcomes(tallies: list[FraudTally], first: list[FraudTally], realism, cases: pl.DataFrame,
                   learned: dict, enforce: Sample) -> list:
    total = lambda name, ts=tallies: sum(getattr(t, name) for t in ts)  # noqa: E731
    rate = lambda a, b: float(a / b) if b else None  # noqa: E731
    flows, fraud = total("flows", first), total("fraud", first)
    weeks = weekly_fraud(first)
    cv = float(np.std(weeks) / np.mean(weeks)) if len(weeks) >= 2 and np.mean(weeks) > 0 else None
    cp = np.sum([t.cp for t in first], axis=0)
    cnp = np.sum([t.cnp for t in first], axis=0)
    cp_rate, cnp_rate = rate(cp[1], cp[0]), rate(cnp[1], cnp[0])
    value = np.sum([t.value for t in first], axis=0)
    delays = np.concatenate([d for t in first for d in t.dispute_days]) if first else np.zeros(0)
    in_cases = int(cases["flows"].sum()) if cases.height else 0
    sample = Sample(fraud, 30, "fraud flows") if enforce.enough else enforce
    return [
        invariant("every_flow_labelled_once", total("unlabelled"),
                  "flows without exactly one truth label, bank-view row and training row"),
        invariant("label_times_after_events", total("early_labels"), "flows whose bank label events precede them"),
        invariant("campaign_flows_in_window", total("outside_window"), "fraud flows outside their campaign's window"),
        invariant("campaign_foreign_keys", total("dangling"), "fraud flows whose campaign is not in the plan"),
        corridor("fraud_share", rate(fraud, flows), *realism.fraud_share, digits=5, sample=enforce),
        corridor("fraud_weekly_cv", cv, high=realism.weekly_cv_max, digits=3, sample=enforce,
                 unmeasured="the horizon holds fewer than two whole weeks" if len(weeks) < 2 else None,
                 details={"weekly_shares": [round(w, 6) for w in weeks],
                          "measure": "std / mean of the fraud share of the horizon's whole 7-day blocks"}),
        corridor("cnp_cp_fraud_rate_ratio", rate(cnp_rate, cp_rate) if cnp_rate is not None else None,
                 *realism.cnp_cp_rate_ratio, digits=2, sample=sample,
                 details={"card_present_rate": cp_rate, "card_not_present_rate": cnp_rate,
                          "measure": "fraud share of card-not-present purchases over that of card-present "
                                     "purchases and cash withdrawals"}),
        corridor("cnp_share_of_fraud_value", rate(value[0], value[1]), *realism.cnp_value_share, digits=4,
                 sample=sample, details={"measure": "card-not-present share of card fraud value in US dollars"}),
        corridor("chargeback_share", rate(total("chargebacks", first), flows), *realism.chargeback_share, digits=6,
                 sample=enforce),
        corridor("fraud_coded_chargebacks", rate(total("fraud_coded", first), total("chargebacks", first)),
                 *realism.fraud_coded_chargebacks, digits=3, sample=sample),
        corridor("dispute_delay_median_days", float(np.median(delays)) if delays.size else None,
                 *realism.dispute_median_days, digits=2, sample=sample,
                 details={"disputes": int(delays.size),
                          "p95_days": round(float(np.percentile(delays, 95)), 2) if delays.size else None}),
        corridor("disputes_within_90_days", float(np.mean(delays <= 90)) if delays.size else None,
                 low=realism.dispute_within_90_days_min, digits=4, sample=sample),
        corridor("dispute_delay_max_days", float(delays.max()) if delays.size else None,
                 high=realism.dispute_cap_days, digits=2, sample=sample),
        corridor("case_share_of_flows", rate(in_cases, total("flows")), high=realism.case_share_max, digits=5,
                 sample=enforce, details={"cases": cases.height}),
        *learnability_outcomes(learned, realism, sample),
    ]


def learnability_outcomes(learned: dict, realism, sample: Sample) -> list:
    why = None if learned else "fewer than two whole weeks, or too few fraud rows in the held-out week"
    single = learned.get("single_feature_auc", {})
    top = max(single.items(), key=lambda kv: kv[1]) if single else (None, None)
    gbm, logistic = learned.get("gbm_auc"), learned.get("logistic_auc")
    return [
        corridor("single_feature_auc_max", top[1], high=realism.single_feature_auc_max, digits=4, sample=sample,
                 unmeasured=why, details={"feature": top[0], "by_feature": single}),
        corridor("model_auc", gbm, *realism.model_auc, digits=4, sample=sample, unmeasured=why,
                 details={k: v for k, v in learned.items() if k not in ("single_feature_auc", "gbm_auc")}),
        corridor("logistic_below_model", None if why else gbm - logistic, low=0.0, digits=4, sample=sample,
                 unmeasured=why, details={"logistic_auc": logistic}),
    ]


FRAUD_CHECKS = [
    ("every_flow_labelled_once", "Every flow has exactly one truth label, one bank-view row and one training row."),
    ("label_times_after_events", "The bank's label events come after the payments they label."),
    ("campaign_flows_in_window", "Every campaign's flows lie inside its window."),
    ("campaign_foreign_keys", "Every fraud flow's campaign is in the scenario's plan."),
    ("fraud_share", "Realism: fraud share of flows (0.05-0.5%)."),
    ("fraud_weekly_cv", "Realism: week-to-week variation of the fraud share (CV <= 0.3)."),
    ("cnp_cp_fraud_rate_ratio", "Realism: card-not-present over card-present fraud rate (8-20)."),
    ("cnp_share_of_fraud_value", "Realism: card-not-present share of card fraud value (65-90%)."),
    ("chargeback_share", "Realism: chargebacks per flow (0.01-0.1%)."),
    ("fraud_coded_chargebacks", "Realism: fraud-coded share of chargebacks (about half)."),
    ("dispute_delay_median_days", "Realism: median dispute delay (10-30 days)."),
    ("disputes_within_90_days", "Realism: disputes filed within 90 days (>= 95%)."),
    ("dispute_delay_max_days", "Realism: no dispute after 120 days."),
    ("case_share_of_flows", "Realism: flows in cases (<= 5%)."),
    ("single_feature_auc_max", "Learnability: no single raw feature separates fraud (ROC-AUC <= 0.85)."),
    ("model_auc", "Learnability: gradient boosting on earlier weeks scores the next week at ROC-AUC 0.85-0.96."),
    ("logistic_below_model", "Learnability: logistic regression scores below gradient boosting."),
]

FRAUD_REMEDIES = {
    "fraud_share": "Set the campaigns' `per_million_month` rates in config/policies/fraud.yaml.",
    "fraud_weekly_cv": ("More, smaller campaigns: raise `per_million_month` and lower `targets` in "
                        "config/policies/fraud.yaml."),
    "cnp_cp_fraud_rate_ratio": ("Set `stolen_cards.online_share` and the `merchant_collusion` rate in "
                                "config/policies/fraud.yaml."),
    "cnp_share_of_fraud_value": ("Set the campaigns' amount factors (`stolen_cards.in_store_factor`, "
                                 "`amount_factor`) in config/policies/fraud.yaml."),
    "chargeback_share": "Set `bank.chargebacks.share` and `bank.disputes` in config/policies/fraud.yaml.",
    "fraud_coded_chargebacks": "Set `bank.disputes.service_per_million` in config/policies/fraud.yaml.",
    "dispute_delay_median_days": "Set `bank.disputes.days` in config/policies/fraud.yaml.",
    "disputes_within_90_days": "Lower `bank.disputes.days.sigma` in config/policies/fraud.yaml.",
    "dispute_delay_max_days": "Set `bank.disputes.days.cap` in config/policies/fraud.yaml.",
    "case_share_of_flows": ("Raise `bank.rule.threshold` in config/policies/fraud.yaml, or lower the suspected_fraud "
                            "shares of `authorisation.reasons` in config/policies/6b.yaml."),
    "single_feature_auc_max": ("A campaign gives itself away: vary its amounts, merchants or addresses in "
                               "config/policies/fraud.yaml."),
    "model_auc": ("Fraud too easy or too hard: see the campaigns' places, amounts, devices and adaptation in "
                  "config/policies/fraud.yaml."),
    "logistic_below_model": ("The fraud patterns are linear: give the campaigns interactions (adaptation, per-type "
                             "patterns) in config/policies/fraud.yaml."),
}
