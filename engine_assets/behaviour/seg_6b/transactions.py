"""The training table: one row per flow of the day with its raw fields, the features a fraud team
computes at authorisation from the week before it, and the labels with their timestamps.

Velocities and first uses run over the day's flows and the `LOOKBACK_DAYS` days before it (those
of the horizon), so they are correct across midnight and the same whichever days a run builds.
A wallet token's payments count on the card it stands for. Profile changes are read from the
sessions of the same days.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from engine_assets.storage.reader import Reader
from engine_kernels.flows.patronage import great_circle_km
from engine_kernels.fraud.velocity import first_uses, window_counts

LOOKBACK_DAYS = 7
_HOUR_US = 3_600_000_000
WINDOWS = {"1h": _HOUR_US, "24h": 24 * _HOUR_US, "7d": 7 * 24 * _HOUR_US}
_HISTORY = ["flow_id", "ts_utc", "party_id", "instrument_id", "device_id", "ip_id", "billing_amount"]
_DAY = [*_HISTORY, "flow_type", "channel", "amount", "currency", "billing_currency", "merchant_id",
        "merchant_country_iso", "party_country_iso", "site_id", "ts_local", "is_cross_border"]
# What the table reads besides the day's 6B tables (engine_assets/behaviour/seg_6b/assets.py declares it).
LOOKUP_READS = ("seg_1a/merchants", "seg_6a/parties", "seg_6a/instruments", "seg_6a/ips", "seg_1b/site_locations")


@dataclass
class Lookups:
    """The world facts the table joins in: small frames keyed by id."""

    mcc: pl.DataFrame  # merchant_id, mcc
    homes: pl.DataFrame  # party_id, home_lat, home_lon
    cards: pl.DataFrame  # instrument_id, card_id of wallet tokens
    ip_country: pl.DataFrame  # ip_id, ip_country_iso
    sites: pl.DataFrame  # site_id, lat_deg, lon_deg


def lookups(read: Reader) -> Lookups:
    homes = read.every_country("seg_6a/parties", ["party_id", "home_lat", "home_lon"], tagged=False)[0]
    cards = read.every_country("seg_6a/instruments", ["instrument_id", "card_id"], tagged=False)[0]
    ips = read.every_country("seg_6a/ips", ["ip_id", "country_iso"], tagged=False)[0]
    sites = read.every_country("seg_1b/site_locations", ["site_id", "lat_deg", "lon_deg"], tagged=False)[0]
    return Lookups(read.table("seg_1a/merchants").select("merchant_id", "mcc"), homes,
                   cards.filter(pl.col("card_id").is_not_null()),
                   ips.select("ip_id", ip_country_iso=pl.col("country_iso").cast(pl.String)), sites)


def history_days(day: dt.date, first: dt.date) -> list[dt.date]:
    """The days before `day` whose flows its features look back on, inside the horizon."""
    return [day - dt.timedelta(days=k) for k in range(LOOKBACK_DAYS, 0, -1) if day - dt.timedelta(days=k) >= first]


def _slim(flows: pl.DataFrame, cards: pl.DataFrame) -> pl.DataFrame:
    """What the history keeps of a day: ids as integers (-1 for none) and the card a token stands for."""
    return flows.select(_HISTORY).join(cards, on="instrument_id", how="left").select(
        "flow_id", ts=pl.col("ts_utc").dt.epoch("us"), party=pl.col("party_id"),
        card=pl.coalesce("card_id", "instrument_id").fill_null(0), device=pl.col("device_id").fill_null(0),
        ip=pl.col("ip_id").fill_null(0), billing=pl.col("billing_amount"))


def history_of(read: Reader, scenario: str, day: str, cards: pl.DataFrame) -> pl.DataFrame:
    return _slim(read.scan("seg_6b/flows", {"scenario": scenario, "day": day}).select(_HISTORY).collect(), cards)


def changes_of(read: Reader, scenario: str, day: str) -> pl.DataFrame:
    """The day's profile changes: the party and the start of each session that opened with one."""
    return read.scan("seg_6b/sessions", {"scenario": scenario, "day": day}).filter(
        pl.col("profile_change").is_not_null()).select(
        party=pl.col("party_id"), changed_at=pl.col("started_at").dt.epoch("us")).collect()


def _since_change(today: pl.DataFrame, changes: pl.DataFrame) -> np.ndarray:
    """Hours from each flow back to its party's latest profile change at or before it within the
    week (NaN for none): a change opens its session, so the session's own flows see it."""
    at = today.select("party", "ts").with_row_index("row").sort("ts").join_asof(
        changes.sort("changed_at"), left_on="ts", right_on="changed_at", by="party", strategy="backward",
        tolerance=WINDOWS["7d"], check_sortedness=False).sort("row")  # sorted by time, so within each party too
    return ((at["ts"] - at["changed_at"]) / _HOUR_US).fill_null(np.nan).to_numpy()


def _velocity(both: pl.DataFrame, key: str, today: int) -> dict[str, np.ndarray]:
    """Counts and sums over the windows for the rows of the day (the last `today` rows of `both`)."""
    rows = both.with_row_index("row").filter(pl.col(key) != 0).sort(key, "ts", "flow_id")
    counts, sums = window_counts(rows[key].to_numpy(), rows["ts"].to_numpy(), rows["billing"].to_numpy(),
                                 list(WINDOWS.values()))
    n, first_today = both.height, both.height - today
    out = {}
    at = rows["row"].to_numpy()
    for k, name in enumerate(WINDOWS):
        full = np.zeros(n, np.int32)
        full[at] = counts[:, k]
        out[f"{key}_count_{name}"] = full[first_today:]
        if name == "24h":
            total = np.zeros(n)
            total[at] = sums[:, k]
            out[f"{key}_amount_24h"] = total[first_today:]
        if name == "7d":
            total = np.zeros(n)
            total[at] = sums[:, k]
            out[f"{key}_amount_7d"] = total[first_today:]
    present = np.zeros(n, bool)
    present[at] = True
    return out | {f"{key}_present": present[first_today:]}


def transactions_table(flows: pl.DataFrame, history: list[pl.DataFrame], changes: pl.DataFrame, labels: pl.DataFrame,
                       bank: pl.DataFrame, look: Lookups) -> tuple[pa.Table, pl.DataFrame]:
    """The day's training rows in flow_id order, and the day as the next days' history. `changes`
    are the profile changes of the day and the week before it."""
    day = flows.select(_DAY).sort("flow_id")
    today = _slim(day, look.cards)
    both = pl.concat([*history, today], how="vertical_relaxed")
    card, party = _velocity(both, "card", today.height), _velocity(both, "party", today.height)
    party_ids, ts = both["party"].to_numpy(), both["ts"].to_numpy()
    def item(column: str) -> np.ndarray:  # ids fit int64 (their top four bits are a small kind); 0 is none
        values = both[column].to_numpy().astype(np.int64)
        return np.where(values > 0, values, -1)

    new_device = first_uses(party_ids, item("device"), ts)[-today.height:]
    new_ip = first_uses(party_ids, item("ip"), ts)[-today.height:]
    remote = day["channel"].cast(pl.String).is_in(["card_not_present", "account_to_account"]).to_numpy()
    has_device = day["device_id"].is_not_null().to_numpy()
    has_ip = day["ip_id"].is_not_null().to_numpy()
    since_change = _since_change(today, changes)
    usual = np.where(party["party_count_7d"] > 0, party["party_amount_7d"] / np.maximum(party["party_count_7d"], 1), 0)
    x = day.join(look.mcc, on="merchant_id", how="left").join(look.ip_country, on="ip_id", how="left") \
        .join(look.homes, on="party_id", how="left").join(look.sites, on="site_id", how="left")
    km = great_circle_km(x["home_lat"].fill_null(0).to_numpy(), x["home_lon"].fill_null(0).to_numpy(),
                         x["lat_deg"].fill_null(0).to_numpy(), x["lon_deg"].fill_null(0).to_numpy())
    on_site = x["site_id"].is_not_null().to_numpy() & x["home_lat"].is_not_null().to_numpy()
    truth = labels.sort("flow_id")
    known = bank.sort("flow_id")
    card_present = card["card_present"]
    table = {
        "flow_id": pa.array(day["flow_id"].to_numpy(), pa.uint64()),
        "ts_utc": day["ts_utc"].to_arrow(),
        "party_id": day["party_id"].to_arrow(),
        "card_id": pa.array(today["card"].to_numpy(), pa.uint64(), mask=today["card"].to_numpy() == 0),
        "merchant_id": day["merchant_id"].to_arrow(),
        "flow_type": day["flow_type"].to_arrow(),
        "channel": day["channel"].to_arrow(),
        "amount": day["amount"].to_arrow(),
        "currency": day["currency"].to_arrow(),
        "billing_amount": day["billing_amount"].to_arrow(),
        "billing_currency": day["billing_currency"].to_arrow(),
        "mcc": x["mcc"].cast(pl.Int32).to_arrow(),
        "merchant_country_iso": day["merchant_country_iso"].to_arrow(),
        "card_country_iso": day["party_country_iso"].to_arrow(),
        "local_hour": day["ts_local"].dt.hour().cast(pl.Int8).to_arrow(),
        "is_cross_border": day["is_cross_border"].to_arrow(),
        **{k: pa.array(v, pa.int32(), mask=~card_present) for k, v in card.items() if "_count_" in k},
        "card_amount_24h": pa.array(card["card_amount_24h"], pa.float64(), mask=~card_present),
        **{k: pa.array(v, pa.int32()) for k, v in party.items() if "_count_" in k},
        "party_amount_24h": pa.array(party["party_amount_24h"], pa.float64()),
        "new_device": pa.array(new_device, pa.bool_(), mask=~(remote & has_device)),
        "new_ip": pa.array(new_ip, pa.bool_(), mask=~has_ip),
        "ip_country_mismatch": pa.array((x["ip_country_iso"] != x["party_country_iso"].cast(pl.String)).fill_null(False)
                                        .to_numpy(), pa.bool_(), mask=~has_ip),
        "distance_from_home_km": pa.array(km, pa.float64(), mask=~on_site),
        "amount_vs_usual": pa.array(day["billing_amount"].to_numpy() / np.where(usual > 0, usual, 1.0), pa.float64(),
                                    mask=~(usual > 0)),
        "hours_since_profile_change": pa.array(since_change, pa.float64(), mask=np.isnan(since_change)),
        "rule_score": known["rule_score"].to_arrow(),
        "is_fraud": (truth["label"].cast(pl.String) != "legit").to_arrow(),
        "fraud_type": truth["label"].to_arrow(),
        "truth_at": day["ts_utc"].to_arrow(),
        "bank_label": known["bank_label"].to_arrow(),
        "bank_label_at": known["bank_label_at"].to_arrow(),
    }
    return pa.table(table), today
