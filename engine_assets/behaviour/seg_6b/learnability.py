"""Is the training table learnable but not trivial? Models trained on the earlier weeks of the first
scenario's seg_6b/transactions are scored on its last whole week.

Rows: every fraud row and a sample of the legitimate ones (flow ids on a stride, so the same rows
whatever the run). Single-feature ROC-AUC is measured for every raw field (categories by their
fraud rate on the training weeks), a pinned scikit-learn HistGradientBoostingClassifier and a
logistic regression are fitted on all features, and their ROC-AUC (and the boosting's PR-AUC,
legitimate rows weighted back to their share) on the held-out week reported, rounded so the
bundle does not move with thread counts.
"""

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from engine_assets.storage.reader import Reader

RAW = ("billing_amount", "mcc", "channel", "flow_type", "local_hour", "merchant_country_iso", "card_country_iso",
       "is_cross_border")
CATEGORIES = ("mcc", "channel", "flow_type", "merchant_country_iso", "card_country_iso")
FEATURES = (*RAW, "card_count_1h", "card_count_24h", "card_count_7d", "card_amount_24h", "party_count_1h",
            "party_count_24h", "party_count_7d", "party_amount_24h", "new_device", "new_ip", "ip_country_mismatch",
            "distance_from_home_km", "amount_vs_usual", "hours_since_profile_change")
# The bank's own rule score is in the table but not a model input: the models learn from what a
# fraud team computes at authorisation; its single-feature ROC-AUC is reported beside the others.
REPORTED = ("rule_score",)
LEGIT_ROWS = 400_000  # legitimate rows sampled at most; every fraud row is kept
MIN_FRAUD = 30  # fraud rows each side of the split needs
_WEEK_US = 7 * 86_400_000_000


def _frame(read: Reader, scenario: str, days: list[str], stride: int) -> pl.DataFrame:
    parts = []
    for day in days:
        rows = read.scan("seg_6b/transactions", {"scenario": scenario, "day": day}).select(
            "flow_id", "ts_utc", "is_fraud", *FEATURES, *REPORTED).filter(
            pl.col("is_fraud") | (pl.col("flow_id") % stride == 0))
        parts.append(rows.collect())
    return pl.concat(parts)


def _encode(train: pl.DataFrame, test: pl.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """A category column as its fraud rate on the training weeks (smoothed towards the overall rate)."""
    prior = float(train["is_fraud"].mean())
    rates = train.group_by(column).agg(n=pl.len(), f=pl.col("is_fraud").sum()).with_columns(
        rate=(pl.col("f") + 20 * prior) / (pl.col("n") + 20))
    out = []
    for part in (train, test):
        rate = part.select(column).join(rates, on=column, how="left", maintain_order="left")["rate"]
        out.append(rate.fill_null(prior).to_numpy())
    return out[0], out[1]


def _matrix(train: pl.DataFrame, test: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    cols_train, cols_test, test_cols = [], [], {}
    for c in FEATURES:
        if c in CATEGORIES:
            a, b = _encode(train, test, c)
        else:
            a = train[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
            b = test[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
        cols_train.append(a)
        cols_test.append(b)
        test_cols[c] = b
    return np.column_stack(cols_train), np.column_stack(cols_test), test_cols


def _auc(y: np.ndarray, x: np.ndarray) -> float:
    x = np.where(np.isnan(x), np.nanmin(x) - 1 if np.isfinite(np.nanmin(x)) else 0.0, x) if np.isnan(x).any() else x
    a = roc_auc_score(y, x)
    return max(a, 1 - a)


def learnability(read: Reader, scenario: str, days: list[str], flows: int, first_day_us: int) -> dict:
    """The figures, or {} when the horizon has fewer than two whole weeks or too little fraud."""
    weeks = len(days) // 7
    if weeks < 2 or flows == 0:
        return {}
    stride = max(1, flows // LEGIT_ROWS)
    return learn(_frame(read, scenario, days[:weeks * 7], stride), weeks, first_day_us, stride)


def learn(frame: pl.DataFrame, weeks: int, first_day_us: int, stride: int) -> dict:
    """The figures of training rows (every fraud row, legitimate ones on a flow-id stride) of `weeks` whole weeks."""
    frame = frame.with_columns(pl.col(c).cast(pl.String) for c in CATEGORIES if c != "mcc")
    week = (frame["ts_utc"].dt.epoch("us") - first_day_us) // _WEEK_US
    train, test = frame.filter(week < weeks - 1), frame.filter(week == weeks - 1)
    if train["is_fraud"].sum() < MIN_FRAUD or test["is_fraud"].sum() < MIN_FRAUD:
        return {}
    x_train, x_test, by_feature = _matrix(train, test)
    y_train, y_test = train["is_fraud"].to_numpy(), test["is_fraud"].to_numpy()
    single = {c: round(_auc(y_test, by_feature[c]), 4) for c in RAW}
    gbm = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=31, early_stopping=False,
                                         random_state=0).fit(x_train, y_train)
    p = gbm.predict_proba(x_test)[:, 1]
    logistic = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(),
                             LogisticRegression(max_iter=1000)).fit(x_train, y_train)
    q = logistic.predict_proba(x_test)[:, 1]
    derived = {c: round(_auc(y_test, by_feature[c]), 4) for c in FEATURES if c not in RAW}
    derived |= {c: round(_auc(y_test, test[c].cast(pl.Float64).to_numpy()), 4) for c in REPORTED}
    return {"single_feature_auc": single, "gbm_auc": round(float(roc_auc_score(y_test, p)), 4),
            "gbm_pr_auc": round(float(average_precision_score(y_test, p, sample_weight=np.where(y_test, 1, stride))),
                                4),
            "logistic_auc": round(float(roc_auc_score(y_test, q)), 4),
            "test_week_fraud_rows": int(y_test.sum()), "test_week_rows": int(y_test.size),
            "train_fraud_rows": int(y_train.sum()), "train_rows": int(y_train.size),
            "legit_sample_stride": stride, "derived_feature_auc": derived,
            "model": "scikit-learn HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=31)"}
