"""The report's pictures and their captions, from published data and the segments' validation bundles.

Two pictures are the validations' own (1B's sites over population, 5A's hourly volume with its
holidays and paydays): the report shows them as the bundle holds them rather than drawing them twice.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.quality.gates import bundle_files
from engine_assets.quality.plots import bar_chart, histogram_chart, line_chart, timeline_chart
from engine_assets.reporting.report.days import DayTally
from engine_assets.storage.reader import Reader

_TOP_ZONES = 15


@dataclass(frozen=True)
class Picture:
    name: str  # file stem, also the metadata key
    title: str
    caption: str
    png: bytes


def bundled(read: Reader, segment: str, member: str, name: str, title: str, caption: str) -> Picture:
    read.gate(segment)  # the bundle is this world's and passed
    return Picture(name, title, caption, bundle_files(read.identity, segment)[member].read_bytes())


def time_zone_mix(read: Reader) -> Picture:
    sites, _ = read.every_country("seg_2a/site_timezones", ["tzid"], tagged=False)
    counts = sites["tzid"].cast(pl.String).value_counts().sort(["count", "tzid"], descending=[True, False])
    top = counts.head(_TOP_ZONES)
    labels, values = top["tzid"].to_list(), top["count"].to_list()
    rest = int(counts["count"].sum()) - sum(values)
    if rest:
        labels, values = [*labels, f"{counts.height - top.height} other zones"], [*values, rest]
    shares = [100 * v / sites.height for v in values]
    return Picture("time_zone_mix", "Time-zone mix of physical sites",
                   f"{sites.height:,} sites in {counts.height} IANA zones; the {_TOP_ZONES} largest shown.",
                   bar_chart(labels, shares, "Sites by time zone", "% of sites"))


def dispersion_and_virtual(tallies: list[DayTally], days: list[dt.date]) -> list[Picture]:
    squares = pl.concat([t.squares for t in tallies]).group_by("merchant_id", "tzid").agg(pl.all().sum())
    rows = squares.filter(pl.col("expected") >= 50)
    index = (rows["squares"] / rows["expected"]).to_numpy()
    share = [100 * t.virtual / t.arrivals if t.arrivals else 0.0 for t in tallies]
    return [
        Picture("dispersion", "Dispersion of hourly arrivals around the intensity surface",
                f"Index of dispersion Σ(count − λ)² / Σλ of hourly counts per (merchant, zone) with ≥ 50 expected "
                f"arrivals ({index.size:,} rows, median {np.median(index) if index.size else float('nan'):.2f}); "
                "1 is Poisson, larger is the latent field's overdispersion.",
                histogram_chart({"(merchant, zone)": index}, np.logspace(-0.5, 2, 40),
                                "Dispersion index of hourly counts", "index (log scale)", logx=True)),
        Picture("virtual_share", "Virtual share of arrivals by day",
                f"Arrivals at virtual (online-only) merchants: {np.mean(share):.2f}% over the horizon.",
                line_chart(days, {"virtual share": np.array(share)}, "Virtual share of arrivals", "% of arrivals")),
    ]


def entity_distributions(read: Reader) -> Picture:
    def table(dataset: str, columns: list[str]) -> pl.DataFrame:
        return read.every_country(dataset, columns, tagged=False)[0]

    def per_party(frame: pl.DataFrame) -> np.ndarray:
        return frame.unique().group_by("party_id").len()["len"].to_numpy()

    instruments = table("seg_6a/instruments", ["party_id", "instrument_id", "instrument_type"])
    devices = table("seg_6a/device_links", ["party_id", "device_id"])
    # Addresses hang off devices: a party's are those of its devices.
    ips = devices.join(table("seg_6a/ip_links", ["device_id", "ip_id"]), on="device_id").select("party_id", "ip_id")
    series = {
        "accounts": per_party(table("seg_6a/accounts", ["party_id", "account_id"])),
        "cards": per_party(instruments.filter(pl.col("instrument_type").cast(pl.String).str.ends_with("_card"))
                           .select("party_id", "instrument_id")),
        "devices": per_party(devices),
        "IP addresses": per_party(ips),
    }
    parties, _ = read.every_country("seg_6a/parties", ["party_id"], tagged=False)
    means = ", ".join(f"{name} {v.mean():.2f}" for name, v in series.items() if v.size)
    return Picture("entity_distributions", "Entities per party",
                   f"{parties.height:,} parties; mean per party holding any: {means}.",
                   histogram_chart(series, np.arange(0.5, 12.5), "Entities per party", "count per party"))


def amounts_by_class(tallies: list[DayTally]) -> Picture:
    kinds = sorted({k for t in tallies for k in t.amounts})
    series = {k: np.concatenate([t.amounts.get(k, np.empty(0)) for t in tallies]) for k in kinds}
    medians = ", ".join(f"{k} {np.median(v):,.2f}" for k, v in series.items() if v.size)
    return Picture("amounts_by_class", "Amounts by class of payment",
                   f"Billing amounts in USD at the policy's rates; medians: {medians}.",
                   histogram_chart(series, np.logspace(-1, 5, 60), "Amounts by flow type", "USD (log scale)",
                                   logx=True))


def decline_and_refund(tallies: list[DayTally], days: list[dt.date]) -> Picture:
    declined = np.array([100 * t.declined / t.flows if t.flows else 0.0 for t in tallies])
    refunds = np.array([100 * t.refunds / t.flows if t.flows else 0.0 for t in tallies])
    flows = sum(t.flows for t in tallies)
    return Picture("decline_and_refund", "Decline and refund rates by day",
                   f"Declined or failed authentication: {100 * sum(t.declined for t in tallies) / max(flows, 1):.2f}% "
                   f"of {flows:,} flows; refunds {100 * sum(t.refunds for t in tallies) / max(flows, 1):.3f}%.",
                   line_chart(days, {"declined": declined, "refunded": refunds}, "Decline and refund rates",
                              "% of flows"))


def fraud_over_time(tallies: list[DayTally], days: list[dt.date]) -> Picture:
    kinds = sorted({k for t in tallies for k in t.fraud})
    series = {k: np.array([1e4 * t.fraud.get(k, 0) / t.flows if t.flows else 0.0 for t in tallies]) for k in kinds}
    fraud = sum(sum(t.fraud.values()) for t in tallies)
    flows = sum(t.flows for t in tallies)
    return Picture("fraud_over_time", "Fraud prevalence over time by type",
                   f"{fraud:,} fraud flows of {flows:,} ({100 * fraud / max(flows, 1):.3f}%), stacked by type.",
                   line_chart(days, series, "Fraud flows per 10,000 flows", "per 10,000 flows", stacked=True))


def label_delays(tallies: list[DayTally]) -> Picture:
    names = tallies[0].delays if tallies else {}
    series = {n: np.concatenate([t.delays[n] for t in tallies]) for n in names}
    medians = ", ".join(f"{n} {np.median(v):.1f} d (n={v.size:,})" for n, v in series.items() if v.size)
    # Delays of zero (a decision at authorisation) sit at the left edge of the log axis.
    clipped = {n: np.clip(v, 1e-3, None) for n, v in series.items()}
    return Picture("label_delays", "When the bank learns: label-delay distributions",
                   f"Days from the payment to each label event; medians: {medians}.",
                   histogram_chart(clipped, np.logspace(-3, np.log10(150), 60), "Label delays", "days (log scale)",
                                   logx=True))


def campaign_timelines(read: Reader, scenario: str, start: dt.date, days: int) -> Picture:
    plan = read.scan("seg_6b/fraud_campaigns", {"scenario": scenario}).select(
        pl.col("fraud_type").cast(pl.String), "window_start", "window_end", "adapted_from").collect()
    origin = dt.datetime.combine(start, dt.time(), dt.timezone.utc)
    since = lambda c: (pl.col(c) - origin).dt.total_microseconds() / 86_400e6  # noqa: E731
    spans = plan.sort("fraud_type", "window_start").select("fraud_type", since("window_start").alias("a"),
                                                           since("window_end").alias("b"))
    adapted = plan["adapted_from"].is_not_null().sum()
    return Picture("campaign_timelines", "Fraud campaign timelines",
                   f"{plan.height} campaigns ({adapted} adapted after the bank declined them), one lane per type, "
                   "each window a bar from its start to its end (overlaps darken); a window may end after the horizon (dashed).",
                   timeline_chart([tuple(r) for r in spans.iter_rows()], "Campaign windows",
                                  "days since horizon start", until=float(days)))


def learnability(report: dict) -> Picture | None:
    checks = {c["name"]: c for c in report["checks"]}
    single, model = checks.get("single_feature_auc_max"), checks.get("model_auc")
    by_feature = (single or {}).get("details", {}).get("by_feature") or {}
    if not by_feature or model is None or model.get("figure") is None:
        return None
    ranked = sorted(by_feature.items(), key=lambda kv: -kv[1])
    logistic = model["details"].get("logistic_auc")
    marks = {"single-feature limit": 0.85, f"gradient boosting {model['figure']:.3f}": model["figure"]}
    if logistic is not None:
        marks[f"logistic regression {logistic:.3f}"] = logistic
    pr = model["details"].get("gbm_pr_auc")
    return Picture("learnability", "Learnability on the held-out week",
                   f"ROC-AUC of each raw field alone against the models trained on earlier weeks"
                   f"{f'; gradient boosting PR-AUC {pr:.3f}' if pr is not None else ''}.",
                   bar_chart([k for k, _ in ranked], [v for _, v in ranked], "ROC-AUC by raw field", "ROC-AUC",
                             marks=marks))
