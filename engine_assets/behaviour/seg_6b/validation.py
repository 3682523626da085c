"""Segment-wide checks of 6B part 1: every arrival paid once, every lifecycle whole and in order.

Blocking, per (scenario, day): every partition published; each arrival has exactly one flow;
each flow's events follow its template ([authentication] auth_request auth_response, then a
reversal, or a clearing and maybe a refund; a failed challenge stops at authentication) with seq
0..k-1; event times strictly increase; clearing and reversals only after an approval and every
approval cleared or reversed; refunds within the cleared amount; every id points at a row of 6A,
1A, 1B or 3B; amounts positive in an ISO 4217 currency of the world. Realism (config/policies/6b.yaml):
decline rates by channel, the suspected-fraud share of declines, refund shares, payments per
active card, cross-border share, primary-store shares, 3-D Secure frictionless share, transfers
per party, authorisation latency; home-to-site distance and repeat shares by sector are reported.

Days are read two at a time on threads (polars and numba release the GIL); each day is reduced to
counts and small aggregates, merged at the end.
"""

import calendar
import datetime as dt
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from engine_assets.behaviour.seg_6b.assets import DAY_TABLES, GROUP
from engine_assets.behaviour.seg_6b.fraud_validation import FRAUD_CHECKS, FRAUD_REMEDIES, fraud_day, fraud_outcomes
from engine_assets.behaviour.seg_6b.learnability import learnability
from engine_assets.behaviour.seg_6b.world import codes_of
from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant, reported
from engine_assets.run.partitions import DAYS
from engine_assets.storage.reader import Reader
from engine_kernels.flows.audit import audit_events
from engine_kernels.flows.patronage import great_circle_km
from engine_kernels.vocabulary import EVENT_TYPES

AUTH, REQUEST, RESPONSE, REVERSAL, CLEARING, REFUND = range(len(EVENT_TYPES))
# Allowed event sequences, as base-8 numbers of their type codes (first event least significant).
_TEMPLATES = [(REQUEST, RESPONSE), (REQUEST, RESPONSE, REVERSAL), (REQUEST, RESPONSE, CLEARING),
              (REQUEST, RESPONSE, CLEARING, REFUND)]
_TEMPLATES = [(AUTH,)] + _TEMPLATES + [(AUTH, *t) for t in _TEMPLATES]
ALLOWED = {sum((c + 1) * 8 ** i for i, c in enumerate(t)) for t in _TEMPLATES}
_SAMPLE_EVERY = 7  # distances and latencies measured on flows whose id is a multiple of this
# Primary-store shares and payments per card are measured on the parties and cards whose id is a
# multiple of this: unbiased (ids number entities serially) and a sixteenth of the memory.
_ID_SAMPLE = 16
_CARD = ["card_present_purchase", "card_not_present_purchase", "atm_withdrawal"]


@dataclass
class _Tally:
    missing: int = 0
    arrivals_unpaid: int = 0
    bad_template: int = 0
    bad_times: int = 0
    clearing_without_approval: int = 0
    refunds_over: int = 0
    dangling: dict = field(default_factory=dict)
    bad_amounts: int = 0
    flows: int = 0
    by_type: dict = field(default_factory=dict)  # flow type -> [flows, declined, approved purchases, refunded]
    declines: int = 0
    suspected: int = 0
    cross: int = 0
    card_flows: int = 0
    three_ds: int = 0
    frictionless: int = 0
    transfers: int = 0
    latency: list = field(default_factory=list)
    card_use: list = field(default_factory=list)
    visits: list = field(default_factory=list)
    km: list = field(default_factory=list)


_FK = {"party_id": "parties", "counterparty_party_id": "parties", "account_id": "accounts",
       "counterparty_account_id": "accounts", "instrument_id": "instruments", "device_id": "devices",
       "ip_id": "ips", "merchant_id": "merchants", "site_id": "sites", "edge_id": "edges"}


_FLOW_COLUMNS = ["flow_id", "arrival_id", "flow_type", "outcome", "decline_reason", "three_ds", "is_cross_border",
                 "amount", "billing_amount", "currency", "billing_currency", "auth_latency_ms", *_FK]


def _dangling(values: pl.Series, ids: np.ndarray) -> int:
    return int((~_rows_of(ids, values.drop_nulls().unique().to_numpy())[1]).sum())


def _rows_of(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each id in `sorted_ids` (0 when absent) and whether it is there."""
    if sorted_ids.size == 0:
        return np.zeros(ids.size, np.int64), np.zeros(ids.size, np.bool_)
    at = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return at, sorted_ids[at] == ids


def _check_day(read: Reader, ids: dict[str, np.ndarray], homes: pl.DataFrame, sites: pl.DataFrame,
               tokens: pl.DataFrame, currencies: set[str], scenario: str, day: str) -> _Tally:
    t = _Tally()
    key = {"scenario": scenario, "day": day}
    if not all(read.is_published(f"{GROUP}/{name}", key) for name in (*DAY_TABLES, "transactions")):
        t.missing = 1
        return t
    flows = read.scan(f"{GROUP}/flows", key).select(_FLOW_COLUMNS).collect()
    events = read.scan(f"{GROUP}/events", key).select("flow_id", "seq", "event_type", "ts_utc", "amount").collect()
    arrivals = read.scan("seg_5b/arrival_events", key).select("arrival_id").collect()["arrival_id"].to_numpy()
    paid = np.sort(flows["arrival_id"].drop_nulls().to_numpy())
    t.arrivals_unpaid = int(abs(paid.size - arrivals.size) + (0 if paid.size != arrivals.size else
                                                              (paid != np.sort(arrivals)).sum()))
    audit = audit_events(events["flow_id"].to_numpy(), events["seq"].to_numpy(), codes_of(events["event_type"],
                         EVENT_TYPES, -1), events["ts_utc"].dt.epoch("us").to_numpy(),
                         events["amount"].fill_null(0.0).to_numpy())
    del events
    flow_id = flows["flow_id"].to_numpy()
    at, found = _rows_of(audit.flow_id, flow_id)
    orphans = int((~_rows_of(np.sort(flow_id), audit.flow_id)[1]).sum())
    approved = flows["outcome"].cast(pl.String).is_in(["approved", "partially_approved"]).to_numpy()
    signed = np.isin(audit.signature[at], list(ALLOWED)) & audit.seq_ok[at]
    t.bad_template = int((~(found & signed)).sum()) + orphans
    t.bad_times = int((found & ~audit.times_ok[at]).sum())
    t.clearing_without_approval = int(((found & audit.settled[at]) != approved).sum())
    cleared_amount, refunded_amount = np.where(found, audit.cleared[at], 0), np.where(found, audit.refunded[at], 0)
    t.refunds_over = int((refunded_amount > cleared_amount + 1e-9).sum())
    for column, table in _FK.items():
        n = _dangling(flows[column], ids[table])
        if n:
            t.dangling[column] = t.dangling.get(column, 0) + n
    t.bad_amounts = int((~(flows["amount"] > 0) | ~(flows["billing_amount"] > 0)
                         | ~flows["currency"].cast(pl.String).is_in(list(currencies))
                         | ~flows["billing_currency"].cast(pl.String).is_in(list(currencies))).sum())

    t.flows = flows.height
    kinds = flows["flow_type"].cast(pl.String)
    outcome = flows["outcome"].cast(pl.String)
    refunded = pl.Series(found & audit.has_refund[at])
    cleared = pl.Series(cleared_amount > 0)
    for kind in (*_CARD, "transfer"):
        mine = kinds == kind
        t.by_type[kind] = [int(mine.sum()), int((mine & (outcome == "declined")).sum()), int((mine & cleared).sum()),
                           int((mine & refunded).sum())]
    declined = flows.filter(pl.col("outcome") == "declined")
    t.declines = declined.height
    t.suspected = int((declined["decline_reason"].cast(pl.String) == "suspected_fraud").sum())
    card = flows.filter(pl.col("flow_type").cast(pl.String).is_in(_CARD))
    t.card_flows, t.cross = card.height, int(card["is_cross_border"].sum())
    three_ds = card["three_ds"].cast(pl.String).drop_nulls()
    t.three_ds, t.frictionless = three_ds.len(), int((three_ds == "frictionless").sum())
    t.transfers = int((kinds == "transfer").sum())
    t.latency.append(flows.filter(pl.col("flow_id") % _SAMPLE_EVERY == 0)["auth_latency_ms"].drop_nulls().to_numpy())
    # A wallet token's payment is its card's: cards are counted, not the tokens standing for them.
    used = card.select("instrument_id").join(tokens, on="instrument_id", how="left").select(
        card_id=pl.coalesce("card_id", "instrument_id"))
    t.card_use.append(used.filter(pl.col("card_id") % _ID_SAMPLE == 0).group_by("card_id").len()
                      .with_columns(month=pl.lit(day[:7])))
    present = flows.filter(pl.col("flow_type").cast(pl.String) == "card_present_purchase")
    t.visits.append(present.filter(pl.col("party_id") % _ID_SAMPLE == 0).group_by("party_id", "merchant_id",
                                                                                 "site_id").len())
    sample = present.filter(pl.col("flow_id") % _SAMPLE_EVERY == 0).select("party_id", "site_id").join(
        homes, on="party_id").join(sites, on="site_id")
    t.km.append(great_circle_km(sample["home_lat"].to_numpy(), sample["home_lon"].to_numpy(),
                                sample["lat_deg"].to_numpy(), sample["lon_deg"].to_numpy()))
    return t


def _world_ids(read: Reader) -> dict[str, np.ndarray]:
    def ids(dataset: str, column: str) -> np.ndarray:
        if dataset.startswith(("seg_6a", "seg_1b")):
            frame, _ = read.every_country(dataset, [column], tagged=False)
        else:
            frame = read.scan(dataset).select(column).collect()
        return np.sort(frame[column].to_numpy())
    return {"parties": ids("seg_6a/parties", "party_id"), "accounts": ids("seg_6a/accounts", "account_id"),
            "instruments": ids("seg_6a/instruments", "instrument_id"), "devices": ids("seg_6a/devices", "device_id"),
            "ips": ids("seg_6a/ips", "ip_id"), "merchants": ids("seg_1a/merchants", "merchant_id"),
            "sites": ids("seg_1b/site_locations", "site_id"), "edges": ids("seg_3b/edge_catalogue", "edge_id")}


def _primary_shares(visits: pl.DataFrame, sectors: pl.DataFrame, minimum: int) -> dict[str, tuple[float, int]]:
    """Per sector: mean over parties with >= minimum purchases there of their top site's share, and
    how many parties were measured."""
    v = visits.group_by("party_id", "merchant_id", "site_id").agg(pl.col("len").sum()).join(sectors, on="merchant_id")
    per = v.group_by("party_id", "sector").agg(total=pl.col("len").sum(), top=pl.col("len").max())
    per = per.filter(pl.col("total") >= minimum)
    out = per.group_by("sector").agg(share=(pl.col("top") / pl.col("total")).mean(), parties=pl.len())
    return {s: (float(v), int(n)) for s, v, n in out.select("sector", "share", "parties").iter_rows()}


def _payments_per_active_card(use: pl.DataFrame, days: list[str]) -> tuple[float | None, str]:
    """Payments per active card a month: in each whole calendar month of the horizon, payments over
    the cards used that month (the industry's monthly active card), scaled to 30.4 days and
    averaged weighted by days; a horizon shorter than any whole month is one window."""
    in_month = Counter(d[:7] for d in days)
    whole = [m for m, n in in_month.items() if n == calendar.monthrange(int(m[:4]), int(m[5:]))[1]]
    if not whole:
        use, whole, in_month = use.with_columns(month=pl.lit("horizon")), ["horizon"], {"horizon": len(days)}
    per = use.filter(pl.col("month").is_in(whole)).group_by("month", "card_id").agg(pl.col("len").sum()) \
        .group_by("month").agg(payments=pl.col("len").sum(), cards=pl.len())
    if per.height == 0:
        return None, ", ".join(whole)
    figures = {m: p / c * 30.4375 / in_month[m] for m, p, c in per.iter_rows()}
    return float(sum(figures[m] * in_month[m] for m in figures) / sum(in_month[m] for m in figures)), \
        ", ".join(sorted(figures))


def evaluate(read: Reader):
    identity = read.identity
    realism = identity.policies.flows.realism
    ids = _world_ids(read)
    homes, _ = read.every_country("seg_6a/parties", ["party_id", "home_lat", "home_lon"], tagged=False)
    sites, _ = read.every_country("seg_1b/site_locations", ["site_id", "lat_deg", "lon_deg"], tagged=False)
    tokens, _ = read.every_country("seg_6a/instruments", ["instrument_id", "card_id"], tagged=False)
    tokens = tokens.filter(pl.col("card_id").is_not_null())
    countries = read.scan("reference/countries").select("currency").collect()
    currencies = set(countries["currency"].drop_nulls().to_list())
    sectors = read.table("seg_1a/merchants").select("merchant_id", "sector")
    days = DAYS.get_partition_keys()
    tallies, unbuilt = [], []
    for scenario in identity.profile.scenarios:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="6b-validation") as pool:
            for day, tally in zip(days, pool.map(lambda d: _check_day(read, ids, homes, sites, tokens, currencies,
                                                                      scenario, d), days)):
                tallies.append(tally)
                if tally.missing:
                    unbuilt.append(f"{scenario}|{day}")
    fraud_tallies = []
    usd = identity.policies.flows.model.amounts.fx_per_usd
    for scenario in identity.profile.scenarios:
        windows = read.scan(f"{GROUP}/fraud_campaigns", scenario).select("campaign_id", "window_start",
                                                                          "window_end").collect()
        built = [d for d in days if f"{scenario}|{d}" not in unbuilt]
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="6b-fraud-validation") as pool:
            fraud_tallies.extend(pool.map(lambda d: fraud_day(read, scenario, d, windows, usd), built))
    first = tallies[:len(days)]  # realism of the first scenario
    total = lambda name, ts=tallies: sum(getattr(t, name) for t in ts)  # noqa: E731
    dangling: dict[str, int] = {}
    for t in tallies:
        for k, v in t.dangling.items():
            dangling[k] = dangling.get(k, 0) + v
    by_type = {k: np.sum([t.by_type.get(k, [0, 0, 0, 0]) for t in first], axis=0) for k in (*_CARD, "transfer")}
    rate = lambda a, b: float(a / b) if b else None  # noqa: E731
    flows = total("flows", first)
    sample = Sample(flows, realism.enforce_from_flows, "flows")
    latency = np.concatenate([x for t in first for x in t.latency]) if flows else np.zeros(0)
    per_card, windows = _payments_per_active_card(pl.concat([x for t in first for x in t.card_use]), days) \
        if flows else (None, "")
    months = len(days) / 30.4375
    visits = pl.concat([x for t in first for x in t.visits]) if flows else None
    shares = _primary_shares(visits, sectors, realism.primary_min_purchases) if flows else {}
    km = np.concatenate([x for t in first for x in t.km]) if flows else np.zeros(0)
    n_parties = ids["parties"].size
    cp, cnp = by_type["card_present_purchase"], by_type["card_not_present_purchase"]
    outcomes = [
        invariant("every_partition_published", total("missing"), "(scenario, day) partitions missing",
                  {"missing": unbuilt[:20]} if unbuilt else None),
        invariant("every_arrival_one_flow", total("arrivals_unpaid"), "arrivals without exactly one flow"),
        invariant("events_follow_template", total("bad_template"), "flows whose events break their template"),
        invariant("event_times_increase", total("bad_times"), "flows whose event times do not strictly increase"),
        invariant("clearing_only_after_approval", total("clearing_without_approval"),
                  "flows cleared or reversed without approval, or approved and never settled"),
        invariant("refunds_within_cleared", total("refunds_over"), "flows refunded more than was cleared"),
        invariant("flow_foreign_keys", sum(dangling.values()), "ids pointing at no row", dangling or None),
        invariant("amounts_positive_in_currency", total("bad_amounts"), "flows with a bad amount or currency"),
        corridor("decline_rate_card_present", rate(cp[1], cp[0]), *realism.decline_card_present, digits=4,
                 sample=sample),
        corridor("decline_rate_card_not_present", rate(cnp[1], cnp[0]), *realism.decline_card_not_present, digits=4,
                 sample=sample),
        corridor("suspected_fraud_share_of_declines", rate(total("suspected", first), total("declines", first)),
                 *realism.suspected_fraud_share_of_declines, digits=4, sample=sample),
        corridor("refund_share_card_present", rate(cp[3], cp[2]), *realism.refund_share_card_present, digits=4,
                 sample=sample, details={"measure": "refunded / cleared card-present purchases"}),
        corridor("refund_share_card_not_present", rate(cnp[3], cnp[2]), *realism.refund_share_card_not_present,
                 digits=4, sample=sample, details={"measure": "refunded / cleared card-not-present purchases"}),
        corridor("payments_per_active_card_month",
                 per_card, *realism.payments_per_active_card_month, digits=2, sample=sample,
                 details={"measure": "card payments (a wallet token's counted on its card) / cards used in the "
                                     "month, per 30.4 days, averaged over the horizon's whole calendar months (the "
                                     f"whole horizon when it holds none; cards whose id is a multiple of {_ID_SAMPLE})",
                          "windows": windows}),
        corridor("cross_border_share", rate(total("cross", first), total("card_flows", first)), *realism.cross_border,
                 digits=4, sample=sample, details={"measure": "card payments whose issuing country differs from the "
                                                             "acquiring country"}),
        *[corridor(f"primary_store_share_{s}", shares.get(s, (None, 0))[0], *band_, digits=4, sample=sample,
                   details={"parties": shares.get(s, (None, 0))[1],
                            "measure": f"mean top-site share of parties with >= {realism.primary_min_purchases} "
                                       f"card-present purchases in the sector (party ids multiple of {_ID_SAMPLE})"})
          for s, band_ in realism.primary_share.items()],
        reported("repeat_share_by_sector", {s: round(v, 4) for s, (v, _) in sorted(shares.items())},
                 {"measure": "primary-store share per sector"}),
        reported("home_to_site_km", {"median": round(float(np.median(km)), 2) if km.size else None,
                                     "p90": round(float(np.percentile(km, 90)), 2) if km.size else None},
                 {"measure": f"great-circle km from the payer's home to the site, card-present purchases with "
                             f"flow_id divisible by {_SAMPLE_EVERY}", "sampled": int(km.size)}),
        corridor("three_ds_frictionless_share", rate(total("frictionless", first), total("three_ds", first)),
                 *realism.frictionless_share, digits=4, sample=sample),
        corridor("transfers_per_party_month", total("transfers", first) / n_parties / months if n_parties else None,
                 *realism.transfers_per_party_month, digits=3, sample=sample),
        corridor("auth_latency_median_ms", float(np.median(latency)) if latency.size else None,
                 *realism.auth_latency_median_ms, digits=1, sample=sample,
                 details={"p99_ms": float(np.percentile(latency, 99)) if latency.size else None,
                          "sampled": f"flows whose id is a multiple of {_SAMPLE_EVERY}"}),
        corridor("auth_latency_p99_ms", float(np.percentile(latency, 99)) if latency.size else None,
                 high=realism.auth_latency_p99_ms_max, digits=1, sample=sample),
    ]
    first_day_us = (identity.profile.horizon.start - dt.date(1970, 1, 1)).days * 86_400_000_000
    learned = learnability(read, identity.profile.scenarios[0], days, flows, first_day_us) if not unbuilt else {}
    outcomes += fraud_outcomes(fraud_tallies, fraud_tallies[:len(days)], identity.policies.fraud.realism,
                               read.table(f"{GROUP}/cases"), learned,
                               Sample(flows, identity.policies.fraud.realism.enforce_from_flows, "flows"))
    return outcomes, {}


REMEDIES = {
    "every_partition_published": MISSING_PARTITIONS_REMEDY,
    "decline_rate_card_present": "Set `authorisation.decline.card_present` (and income_odds) in config/policies/6b.yaml.",
    "decline_rate_card_not_present": "Set `authorisation.decline.card_not_present` in config/policies/6b.yaml.",
    "suspected_fraud_share_of_declines": "Set the suspected_fraud shares of `authorisation.reasons` in config/policies/6b.yaml.",
    "refund_share_card_present": "Set `lifecycle.refund_share.card_present` in config/policies/6b.yaml.",
    "refund_share_card_not_present": "Set `lifecycle.refund_share.card_not_present` in config/policies/6b.yaml.",
    "payments_per_active_card_month": (
        "Payments per card follow parties' activity and card use: `parties.active_share` of config/policies/6a.yaml "
        "and `attachment.card_decay` of config/policies/6b.yaml."),
    "cross_border_share": "Set `attachment.travel_share` and `attachment.online.foreign_share` in config/policies/6b.yaml.",
    "three_ds_frictionless_share": "Set `authorisation.three_ds.frictionless` in config/policies/6b.yaml.",
    "transfers_per_party_month": "Set `transfers.p2p_per_month`, `bills_per_month` and `paydays` in config/policies/6b.yaml.",
    "auth_latency_median_ms": "Set `authorisation.latency_ms` in config/policies/6b.yaml.",
    "auth_latency_p99_ms": "Lower `authorisation.latency_ms.sigma` in config/policies/6b.yaml.",
    "repeat_share_by_sector": "Set `attachment.regular_share` of the sector in config/policies/6b.yaml.",
    "home_to_site_km": (
        "Distances follow the world's store density: more merchants (`merchants` in config/profiles/<name>.yaml) or "
        "`attachment.favourites` and `attachment.domestic_share` in config/policies/6b.yaml."),
    **FRAUD_REMEDIES,
    **{f"primary_store_share_{s}": (
        f"Set `attachment.regular_share.{s}` (and the domestic and travel shares) in config/policies/6b.yaml.")
       for s in ("grocery", "restaurants")},
}

CHECKS = [ValidationCheck(name, text, blocking=not name.startswith(("repeat_share", "home_to_site")),
                          remedy=REMEDIES.get(name, "")) for name, text in (
    ("every_partition_published", "Every (scenario, day) partition of flows, events and sessions is published."),
    ("every_arrival_one_flow", "Every arrival has exactly one flow."),
    ("events_follow_template", "Each flow's events follow its template in seq order."),
    ("event_times_increase", "Event times strictly increase within each flow."),
    ("clearing_only_after_approval", "Clearing and reversals follow approvals, and every approval is settled."),
    ("refunds_within_cleared", "Refunds never exceed the cleared amount."),
    ("flow_foreign_keys", "Every id of a flow points at a row of 6A, 1A, 1B or 3B."),
    ("amounts_positive_in_currency", "Amounts are positive in an ISO 4217 currency of the world."),
    ("decline_rate_card_present", "Realism: card-present decline rate (1-4%)."),
    ("decline_rate_card_not_present", "Realism: card-not-present decline rate (5-15%)."),
    ("suspected_fraud_share_of_declines", "Realism: share of declines for suspected fraud (5-15%)."),
    ("refund_share_card_present", "Realism: share of cleared in-store purchases refunded."),
    ("refund_share_card_not_present", "Realism: share of cleared online purchases refunded."),
    ("payments_per_active_card_month", "Realism: payments per active card a month (15-45)."),
    ("cross_border_share", "Realism: cross-border share of card payments (3-8%)."),
    ("primary_store_share_grocery", "Realism: grocery purchases at the party's primary store (~80%)."),
    ("primary_store_share_restaurants", "Realism: restaurant purchases at the party's primary restaurant (~45%)."),
    ("repeat_share_by_sector", "Realism: primary-store share of every sector (reported)."),
    ("home_to_site_km", "Realism: home-to-site distance of in-store purchases, median and p90 (reported)."),
    ("three_ds_frictionless_share", "Realism: frictionless share of 3-D Secure authentications."),
    ("transfers_per_party_month", "Realism: account-to-account transfers per party a month."),
    ("auth_latency_median_ms", "Realism: median authorisation latency (150-400 ms)."),
    ("auth_latency_p99_ms", "Realism: p99 authorisation latency (<= 2 s)."),
    *FRAUD_CHECKS,
)]


validation = validation_asset(
    GROUP,
    reads=[*(f"{GROUP}/{name}" for name in (*DAY_TABLES, "transactions", "fraud_campaigns", "cases")),
           "seg_5b/arrival_events", "seg_6a/parties",
           "seg_6a/accounts", "seg_6a/instruments", "seg_6a/devices", "seg_6a/ips", "seg_1a/merchants",
           "seg_1b/site_locations", "seg_3b/edge_catalogue", "reference/countries"],
    evaluate=evaluate,
    description="Every arrival paid once by a believable customer; whole, ordered lifecycles; realistic rates; "
                "every flow labelled once; realistic, learnable fraud.",
    checks=CHECKS,
)
