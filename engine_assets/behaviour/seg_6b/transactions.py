"""The training table: one row per flow of the day with its raw fields, the features a fraud team
computes at authorisation from the week before it, and the labels with their timestamps.

Velocities and first uses run over the day's flows and the `LOOKBACK_DAYS` days before it (those
of the horizon), so they are correct across midnight and the same whichever days a run builds: a
run carries the `Week` from day to day, and reads it from the published days when it starts.
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
from engine_kernels.fraud.velocity import Trail, extend, first_uses, trail_order, window_features

LOOKBACK_DAYS = 7
_HOUR_US = 3_600_000_000
WINDOWS = {"1h": _HOUR_US, "24h": 24 * _HOUR_US, "7d": 7 * 24 * _HOUR_US}
_HISTORY = ["flow_id", "ts_utc", "party_id", "instrument_id", "device_id", "ip_id", "billing_amount"]
_DAY = [*_HISTORY, "flow_type", "channel", "amount", "currency", "billing_currency", "merchant_id",
        "merchant_country_iso", "party_country_iso", "site_id", "ts_local", "is_cross_border"]
# The columns the table reads of the day's 6B tables.
DAY_READS = {"seg_6b/flows": _DAY, "seg_6b/truth_labels": ["flow_id", "label"],
             "seg_6b/bank_view": ["flow_id", "rule_score", "bank_label", "bank_label_at"]}
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
    """What the week keeps of a day: ids as integers (0 for none) and the card a token stands for."""
    return flows.select(_HISTORY).join(cards, on="instrument_id", how="left", maintain_order="left").select(
        "flow_id", ts=pl.col("ts_utc").dt.epoch("us"), party=pl.col("party_id"),
        card=pl.coalesce("card_id", "instrument_id").fill_null(0), device=pl.col("device_id").fill_null(0),
        ip=pl.col("ip_id").fill_null(0), billing=pl.col("billing_amount"))


def changes_of(read: Reader, scenario: str, day: str) -> pl.DataFrame:
    """The day's profile changes: the party and the start of each session that opened with one."""
    return read.scan("seg_6b/sessions", {"scenario": scenario, "day": day}).filter(
        pl.col("profile_change").is_not_null()).select(
        party=pl.col("party_id"), changed_at=pl.col("started_at").dt.epoch("us")).collect()


@dataclass(frozen=True)
class Week:
    """What the features remember of one scenario's days up to (not including) `next_day`: the
    card and party trails (the party's with the device and address of each payment) and the
    profile changes."""

    scenario: str
    next_day: dt.date
    card: Trail = Trail.empty()
    party: Trail = Trail.empty(kinds=2)
    changes: tuple[tuple[dt.date, pl.DataFrame], ...] = ()

    def all_changes(self) -> pl.DataFrame:
        return pl.concat([c for _, c in self.changes])


def _item(column: pl.Series) -> np.ndarray:
    """Ids as int64 (they fit: their top four bits are a small kind), -1 for none."""
    values = column.to_numpy().astype(np.int64)
    return np.where(values > 0, values, -1)


def _midnight_us(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp()) * 1_000_000


def advance(week: Week, rows: pl.DataFrame, changes: pl.DataFrame, day: dt.date) -> tuple[Week, dict[str, np.ndarray]]:
    """The week with `day`'s slim rows added and days older than the lookback forgotten, and where
    the day's rows with a card and with a party now lie in the trails (-1 for none)."""
    opens = day - dt.timedelta(days=LOOKBACK_DAYS)
    flow, ts, billing = rows["flow_id"].to_numpy(), rows["ts"].to_numpy(), rows["billing"].to_numpy()
    items = {"card": np.empty((rows.height, 0), np.int64),
             "party": np.stack([_item(rows["device"]), _item(rows["ip"])], axis=1)}
    trails, at = {}, {}
    for name in ("card", "party"):
        key = _item(rows[name])
        has = key >= 0
        trails[name], placed = extend(getattr(week, name), key[has], ts[has], flow[has], billing[has],
                                      items[name][has], _midnight_us(opens))
        at[name] = np.full(rows.height, -1, np.int64)
        at[name][has] = placed
    kept = tuple((d, c) for d, c in week.changes if d >= opens)
    return Week(week.scenario, day + dt.timedelta(days=1), **trails, changes=(*kept, (day, changes))), at


def week_before(read: Reader, scenario: str, day: dt.date, first: dt.date, cards: pl.DataFrame) -> Week:
    """The week before `day` from the published flows and sessions of its history days."""
    week = Week(scenario, day)
    for d in history_days(day, first):
        flows = read.scan("seg_6b/flows", {"scenario": scenario, "day": d.isoformat()}).select(_HISTORY).collect()
        week = advance(week, _slim(flows, cards), changes_of(read, scenario, d.isoformat()), d)[0]
    return Week(scenario, day, week.card, week.party, week.changes)


def _since_change(today: pl.DataFrame, changes: pl.DataFrame) -> np.ndarray:
    """Hours from each flow back to its party's latest profile change at or before it within the
    week (NaN for none): a change opens its session, so the session's own flows see it."""
    at = today.select("party", "ts").with_row_index("row").sort("ts").join_asof(
        changes.sort("changed_at"), left_on="ts", right_on="changed_at", by="party", strategy="backward",
        tolerance=WINDOWS["7d"], check_sortedness=False).sort("row")  # sorted by time, so within each party too
    return ((at["ts"] - at["changed_at"]) / _HOUR_US).fill_null(np.nan).to_numpy()


def _velocity(trail: Trail, at: np.ndarray, key: str) -> dict[str, np.ndarray]:
    """Counts over the windows, and sums over the day and the week, for the day's rows at `at`
    (with `<key>_order`, the present rows' trail order, for the party's first uses)."""
    present = at >= 0
    order = trail_order(at[present])
    counts, sums = window_features(trail, at[present], list(WINDOWS.values()), order)
    out = {f"{key}_order": order}
    for k, name in enumerate(WINDOWS):
        out[f"{key}_count_{name}"] = np.zeros(at.size, np.int32)
        out[f"{key}_count_{name}"][present] = counts[:, k]
        if name != "1h":
            out[f"{key}_amount_{name}"] = np.zeros(at.size)
            out[f"{key}_amount_{name}"][present] = sums[:, k]
    return out | {f"{key}_present": present}


def transactions_table(flows: pl.DataFrame, labels: pl.DataFrame, bank: pl.DataFrame, changes: pl.DataFrame,
                       look: Lookups, week: Week) -> tuple[pa.Table, Week]:
    """The day's training rows in flow_id order, and the week with the day added. `week` holds the
    days before this one; `changes` are the day's profile changes."""
    day = flows.select(_DAY).sort("flow_id")
    today = _slim(day, look.cards)
    week, at = advance(week, today, changes, week.next_day)
    card, party = _velocity(week.card, at["card"], "card"), _velocity(week.party, at["party"], "party")
    new = np.zeros((today.height, 2), bool)
    new[party["party_present"]] = first_uses(week.party, at["party"][party["party_present"]], party["party_order"])
    new_device, new_ip = new[:, 0], new[:, 1]
    remote = day["channel"].cast(pl.String).is_in(["card_not_present", "account_to_account"]).to_numpy()
    has_device = day["device_id"].is_not_null().to_numpy()
    has_ip = day["ip_id"].is_not_null().to_numpy()
    since_change = _since_change(today, week.all_changes())
    usual = np.where(party["party_count_7d"] > 0, party["party_amount_7d"] / np.maximum(party["party_count_7d"], 1), 0)
    # The lookups are keyed by id, so each keeps the day's rows in flow_id order, one for one.
    x = day
    for frame, key in ((look.mcc, "merchant_id"), (look.ip_country, "ip_id"), (look.homes, "party_id"),
                       (look.sites, "site_id")):
        x = x.join(frame, on=key, how="left", maintain_order="left")
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
    return pa.table(table), week
