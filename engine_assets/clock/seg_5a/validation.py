"""Segment-wide checks of 5A: shapes, volumes and calendars that 5B can trust.

Blocking: every shape sums to 1; the profile holds exactly zone_alloc's rows with the merchant's
own channel, and online classes for virtual and hybrid merchants; the volumes add up to the
profile's expected arrivals; λ is finite and ≥ 0 over the horizon of every scenario; a week of
buckets gives back each row's weekly volume (1e-6) where no clock change interferes; every
holiday of the package in the horizon is in every calendar. Realism (config/policies/5a.yaml):
class shares of the expected volume, and in the largest countries the holiday drop of
office-class volume and the payday lift of consumer-class volume on their local days, each
against the same weekday of a nearby clean week. A picture shows two weeks of hourly volume.
"""

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.clock.seg_5a.assets import GROUP, horizon_weekdays
from engine_assets.clock.seg_5a.surface import SURFACE_DATASETS, Surface, day_start_us, load_surface
from engine_assets.quality.gates import CheckOutcome, ValidationCheck, validation_asset
from engine_assets.quality.plots import Panel, volume_chart
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import PROFILE
from engine_assets.storage.reader import Reader
from engine_kernels.civil_time.transitions import offset_period
from engine_kernels.intensity.evaluator import bucket_offsets
from engine_kernels.intensity.realism import event_day_ratio
from engine_kernels.intensity.demand import expected_over_horizon
from engine_kernels.intensity.weekly_shapes import day_mass
from engine_kernels.vocabulary import CARD_NOT_PRESENT, DEMAND_CLASSES, NON_VIRTUAL, ONLINE_DEMAND_CLASSES

_HOUR_US = 3_600_000_000


@dataclass
class Series:
    """Expected volume of one scenario aggregated over the horizon (hourly buckets)."""

    first: dt.date  # first local date of by_date
    by_date: np.ndarray  # [countries, classes, local dates]
    by_hour: np.ndarray  # [countries, UTC hours from horizon start - 1 day]
    total: float
    minimum: float
    finite: bool


def horizon_series(surface: Surface, identity: RunIdentity) -> Series:
    """λ of every row, hour by hour, over the UTC days around the horizon (one day either side, so
    every local date of the horizon is whole), summed by country × class × local date and by
    country × UTC hour."""
    horizon = identity.profile.horizon
    days = [horizon.start - dt.timedelta(days=1)] + horizon.days + [horizon.end + dt.timedelta(days=1)]
    first = days[0] - dt.timedelta(days=1)
    n_dates, n_c, n_k = len(days) + 2, len(surface.countries), len(DEMAND_CLASSES)
    by_date = np.zeros(n_c * n_k * n_dates)
    by_hour = np.zeros((n_c, 24 * len(days)))
    cell = (surface.country * n_k + surface.demand_class)[:, None] * n_dates
    total, minimum, finite = 0.0, np.inf, True
    for i, day in enumerate(days):
        lam = surface.day(day, 60)
        finite &= bool(np.isfinite(lam).all())
        minimum = min(minimum, float(lam.min())) if lam.size else minimum
        local = day_start_us(day) + np.arange(24)[None, :] * _HOUR_US + _HOUR_US // 2 \
            + bucket_offsets(day_start_us(day), 60, surface.zone, surface.table).astype(np.int64) * 1_000_000
        date = local // (86_400 * 1_000_000) - (first - dt.date(1970, 1, 1)).days
        by_date += np.bincount((cell + date).ravel(), lam.ravel(), by_date.size)
        by_hour[:, 24 * i:24 * (i + 1)] = np.bincount(
            (surface.country[:, None] * 24 + np.arange(24)).ravel(), lam.ravel(), n_c * 24).reshape(n_c, 24)
        if horizon.start <= day <= horizon.end:
            total += float(lam.sum())
    return Series(first, by_date.reshape(n_c, n_k, n_dates), by_hour, total, minimum, finite)


def _day_sets(calendar: pl.DataFrame, kind: str) -> dict[str, set[dt.date]]:
    events = calendar.filter(pl.col("event_type") == kind).select("country_iso", d=pl.col("start_local").dt.date()).unique()
    out: dict[str, set[dt.date]] = {}
    for country, day in events.iter_rows():
        out.setdefault(country, set()).add(day)
    return out


def calendar_effect(series: Series, countries: tuple[str, ...], klass: str, event_days: dict[str, set[dt.date]],
                    busy: dict[str, set[dt.date]], dates: list[dt.date]) -> dict[str, float]:
    """Per country, the class's volume on its event days against clean weeks inside `dates`
    (`event_day_ratio`); countries with no event day to measure are left out."""
    k = DEMAND_CLASSES.index(klass)
    inside = set(dates)
    ratios = {country: event_day_ratio(series.by_date[c, k], series.first, event_days.get(country, set()),
                                       busy.get(country, set()), inside) for c, country in enumerate(countries)}
    return {country: ratio for country, ratio in ratios.items() if ratio is not None}


def structure_outcomes(identity: RunIdentity, profile: pl.DataFrame, shapes: pl.DataFrame, merchants: pl.DataFrame,
                       alloc: pl.DataFrame, classes: pl.DataFrame) -> list[CheckOutcome]:
    """Shapes, rows, channel, classes and calibration: what 5B relies on before any λ is computed."""
    sums = shapes.group_by("shape_id").agg(total=pl.col("weight").sum(), low=pl.col("weight").min())
    shape_gap = float((sums["total"] - 1).abs().max())
    negative_shapes = sums.filter(pl.col("low") < 0).height
    key = ["merchant_id", "legal_country_iso", "tzid", "n_sites"]
    alloc = alloc.select("merchant_id", "legal_country_iso", pl.col("tzid").cast(pl.String), "n_sites")
    unmatched = profile.join(alloc, on=key, how="anti").height + alloc.join(profile, on=key, how="anti").height
    lost_channel = profile.join(merchants.select("merchant_id", "channel"), on="merchant_id", how="left").filter(
        pl.col("channel_group") != pl.col("channel").fill_null("")).height
    offline = profile.filter((pl.col("virtual_class") != NON_VIRTUAL)
                             & ~pl.col("demand_class").is_in(ONLINE_DEMAND_CLASSES)).height
    weights = shapes.sort("shape_id", "hour_of_week")["weight"].to_numpy().reshape(-1, 168)
    by_row = expected_over_horizon(profile["weekly_volume"].to_numpy(), day_mass(weights)[profile["shape_id"].to_numpy()],
                                   horizon_weekdays(identity))
    expected = float(by_row.sum())
    target = identity.profile.expected_arrivals
    gap = abs(expected / target - 1)
    return [
        corridor("shapes_sum_to_one", shape_gap, high=1e-9, holds=negative_shapes == 0,
                 details={"shapes_with_negative_weights": negative_shapes}),
        invariant("profile_rows_equal_zone_alloc", unmatched, "rows in only one of the profile and zone_alloc"),
        invariant("channel_group_carried", lost_channel, "rows without their merchant's channel"),
        invariant("online_merchants_in_online_classes", offline, "virtual or hybrid rows in an offline class"),
        # The calibration targets the weekly shapes alone; the calendar moves the total a little.
        corridor("volumes_match_expected_arrivals", gap, high=1e-6, details={
            "measure": "relative gap", "expected_without_calendar": round(expected, 1), "profile": target}),
        _shares_calibrated(identity, profile, by_row, classes),
    ]


def _shares_calibrated(identity: RunIdentity, profile: pl.DataFrame, by_row: np.ndarray,
                       classes: pl.DataFrame) -> CheckOutcome:
    """The expected virtual and card-not-present shares of arrivals are the policy's, each where the
    world has the groups of merchants that pin it (engine_kernels/intensity/demand.py `calibrate`)."""
    shares = classes.select("merchant_id", "virtual_share")
    share = profile.select("merchant_id").join(shares, on="merchant_id", how="left", maintain_order="left")[
        "virtual_share"].fill_null(0.0).to_numpy()
    cnp = (profile["channel_group"] == CARD_NOT_PRESENT).to_numpy()
    policy = identity.policies.intensity.demand
    online, total = share > 0, float(by_row.sum())
    figures = {"virtual": float(np.sum(by_row * share)) / total if total > 0 else None,
               "card_not_present": float(by_row[cnp].sum()) / total if total > 0 else None}
    targets = {"virtual": policy.virtual_share, "card_not_present": policy.card_not_present_share}
    pinned = {"virtual": bool(online.any() and not online.all()),
              "card_not_present": bool((cnp & ~online).any() and (~cnp).any())}
    gaps = {k: abs(figures[k] / targets[k] - 1) for k in targets if pinned[k] and figures[k] is not None}
    details = {"measure": "largest relative gap of an expected share to the policy's", "policy": targets,
               "expected": {k: None if v is None else round(v, 6) for k, v in figures.items()},
               "pinned": pinned}
    if not gaps:
        return corridor("shares_calibrated", None, high=1e-6, details=details,
                        unmeasured="the world lacks the groups of merchants that pin either share")
    return corridor("shares_calibrated", max(gaps.values()), high=1e-6, details=details)


def evaluate(read: Reader):
    identity = read.identity
    policy = identity.policies.intensity
    merchants = read.table("seg_1a/merchants")
    alloc, _ = read.every_country("seg_3a/zone_alloc")
    holidays = read.table("reference/holidays")
    outcomes = structure_outcomes(identity, read.table(f"{GROUP}/merchant_zone_profile"),
                                  read.table(f"{GROUP}/weekly_shapes"), merchants, alloc,
                                  read.table("seg_3b/virtual_classification"))
    baseline = None
    for scenario in identity.profile.scenarios:
        surface = load_surface(read, scenario)
        calendar = read.table(f"{GROUP}/calendar", scenario)
        series = horizon_series(surface, identity)
        outcomes.append(corridor(f"intensity_finite_non_negative[{scenario}]", series.minimum, low=0,
                                 holds=series.finite, details={
                                     "finite": series.finite, "expected_arrivals_with_calendar": round(series.total, 1)}))
        outcomes.append(_holidays_present(holidays, calendar, surface.countries, identity.profile.horizon, scenario,
                                          policy))
        if baseline is None:
            baseline = (scenario, surface, series, calendar)
    outcomes.append(_weekly_sums(baseline[1], identity))
    outcomes += _realism(identity, policy.realism, baseline, merchants.height)
    _, surface, series, calendar = baseline
    return outcomes, {"hourly_volume.png": _picture(surface, series, calendar, identity)}


def _holidays_present(holidays, calendar, countries, horizon, scenario, policy) -> CheckOutcome:
    what = "package holidays missing from the calendar, or calendar holidays not in the package"
    if not policy.calendar.holiday_factor:
        return invariant(f"holidays_in_calendar[{scenario}]", 0, what, {"why": "no holiday factors in the policy"})
    first, last = horizon.start - dt.timedelta(days=1), horizon.end + dt.timedelta(days=1)
    want = set(holidays.filter(pl.col("country_iso").is_in(list(countries)) & pl.col("date").is_between(first, last))
               .select("country_iso", "date").iter_rows())
    have = set(calendar.filter(pl.col("event_type") == "holiday").select(
        "country_iso", pl.col("start_local").dt.date()).iter_rows())
    missing, extra = sorted(want - have), sorted(have - want)
    return invariant(f"holidays_in_calendar[{scenario}]", len(missing) + len(extra), what, {
        "holiday_days": len(want), "countries_with_holidays": len({c for c, _ in want}),
        "missing": [list(map(str, m)) for m in missing[:10]], "extra": [list(map(str, m)) for m in extra[:10]]})


def _weekly_sums(surface: Surface, identity: RunIdentity) -> CheckOutcome:
    """Seven UTC days of buckets, no overlays, give each row V exactly unless its clock changes."""
    start = identity.profile.horizon.start
    t0, t1 = day_start_us(start) // 1_000_000 - 86_400, day_start_us(start) // 1_000_000 + 8 * 86_400
    table = surface.table
    changes = np.zeros(len(table.tzids), bool)
    for z in range(len(table.tzids)):
        starts = table.utc_start[table.offsets[z] + 1:table.offsets[z + 1]]
        changes[z] = bool(((starts > t0) & (starts < t1)).any())
    total = sum(surface.day(start + dt.timedelta(days=d), 60, overlays=False).sum(axis=1) for d in range(7))
    steady = ~changes[surface.zone]
    gap = float(np.max(np.abs(total[steady] / surface.volume[steady] - 1))) if steady.any() else 0.0
    return corridor("weekly_sums_match_volumes", gap, high=1e-6, details={
        "measure": "largest relative gap", "rows_checked": int(steady.sum()),
        "rows_with_clock_change": int((~steady).sum())})


def _realism(identity, realism, baseline, n_merchants) -> list[CheckOutcome]:
    scenario, surface, series, calendar = baseline
    sample = Sample(n_merchants, realism.enforce_from_merchants, "merchants")
    dates = identity.profile.horizon.days
    inside = slice((dates[0] - series.first).days, (dates[-1] - series.first).days + 1)
    by_class = series.by_date[:, :, inside].sum(axis=(0, 2))
    share = by_class / by_class.sum()
    n_wide = int((share >= realism.min_class_share).sum())
    shares = {c: round(float(s), 4) for c, s in zip(DEMAND_CLASSES, share)}

    holidays, paydays = _day_sets(calendar, "holiday"), _day_sets(calendar, "payday")
    busy = {c: holidays.get(c, set()) | paydays.get(c, set()) | {d + dt.timedelta(days=1) for d in paydays.get(c, set())}
            for c in surface.countries}
    size = series.by_date[:, :, inside].sum(axis=(1, 2))
    ranked = [surface.countries[i] for i in np.argsort(-size, kind="stable")]
    office = calendar_effect(series, surface.countries, "office_hours", holidays, busy, dates)
    clean_paydays = {c: d - holidays.get(c, set()) for c, d in paydays.items()}
    consumer = calendar_effect(series, surface.countries, "consumer_daytime", clean_paydays, busy, dates)
    top = realism.countries_checked
    drops = {c: round(1 - office[c], 4) for c in [c for c in ranked if c in office][:top]}
    lifts = {c: round(consumer[c] - 1, 4) for c in [c for c in ranked if c in consumer][:top]}
    drop_min, lift_min = realism.holiday_office_drop_min, realism.payday_consumer_lift_min
    worst_drop = min(drops.values()) if drops else None
    worst_lift = min(lifts.values()) if lifts else None

    unmeasured = "no such day in the horizon for any country with the class"
    return [
        corridor("classes_with_volume_share", n_wide, low=realism.min_classes, sample=sample, details={
            "measure": f"classes with >= {realism.min_class_share:.0%} of volume", "shares": shares}),
        corridor("max_class_share", float(share.max()), high=realism.max_class_share, digits=4, sample=sample,
                 details={"largest": DEMAND_CLASSES[int(share.argmax())]}),
        corridor("holiday_office_drop", worst_drop, low=drop_min, sample=sample, unmeasured=unmeasured, details={
            "measure": f"lowest drop over the {top} largest countries with a holiday", "by_country": drops}),
        corridor("payday_consumer_lift", worst_lift, low=lift_min, sample=sample, unmeasured=unmeasured, details={
            "measure": f"lowest lift over the {top} largest countries with a payday", "by_country": lifts}),
    ]


def _picture(surface: Surface, series: Series, calendar: pl.DataFrame, identity: RunIdentity) -> bytes:
    """Two weeks of hourly volume for up to four of the largest countries with a holiday and a payday."""
    holidays, paydays = _day_sets(calendar, "holiday"), _day_sets(calendar, "payday")
    size = series.by_hour.sum(axis=1)
    order = [surface.countries[i] for i in np.argsort(-size, kind="stable")]
    both = [c for c in order if holidays.get(c) and paydays.get(c)]
    chosen = (both + [c for c in order if c not in both])[:4]
    horizon = identity.profile.horizon
    events = sorted(d for c in chosen[:1] for d in holidays.get(c, set()) if horizon.start <= d <= horizon.end)
    start = max(horizon.start, (events[0] - dt.timedelta(days=7)) if events else horizon.start)
    days = min(14, len(horizon.days))
    start = min(start, horizon.end - dt.timedelta(days=days - 1))
    offset = (start - horizon.start).days + 1  # by_hour starts one day before the horizon
    hours = slice(24 * offset, 24 * (offset + days))
    utc = day_start_us(start) // 1_000_000 + 3600 * np.arange(days * 24) + 1800
    panels = []
    for country in chosen:
        c = surface.countries.index(country)
        mine = np.flatnonzero(surface.country == c)
        zone = int(surface.zone[mine[np.argmax(surface.volume[mine])]])  # the country's busiest clock
        period = offset_period(surface.table.utc_start, surface.table.offsets, zone, utc)
        local_hours = (utc - 1800 + surface.table.offset_seconds[period] - day_start_us(start) // 1_000_000) / 3600
        panels.append(Panel(country, surface.table.tzids[zone], local_hours, series.by_hour[c, hours],
                            sorted(holidays.get(country, set())), sorted(paydays.get(country, set()))))
    return volume_chart(panels, start, days, f"{identity.profile.name} profile: expected arrivals per hour")


# What to turn when a realism check fails, by check.
REMEDIES = {
    "classes_with_volume_share": (
        "A class's share of volume follows the merchants `demand_classes` maps to it and its `volumes.per_site` "
        "median in config/policies/5a.yaml, and the `merchants.sector_weights` of those sectors in "
        "config/policies/1a.yaml; raise them for the classes below the share in the details, or map more sectors "
        "to them."),
    "max_class_share": (
        "Lower the `volumes.per_site` median of the largest class (named in the details) in "
        "config/policies/5a.yaml, or the `merchants.sector_weights` in config/policies/1a.yaml of the sectors "
        "`demand_classes` maps to it."),
    "holiday_office_drop": (
        "On a whole local holiday office-class volume falls to `calendar.holiday_factor.office_hours` of a normal "
        "day (config/policies/5a.yaml), a drop of one minus that factor: lower the factor for a deeper drop."),
    "payday_consumer_lift": (
        "On a payday's local day consumer-class volume rises by `calendar.paydays.factor.consumer_daytime` minus "
        "one (config/policies/5a.yaml), held for `calendar.paydays.hold_hours`: raise the factor for a larger "
        "lift."),
}


CHECKS = [ValidationCheck(name, text) for name, text in (
    ("shapes_sum_to_one", "Every weekly shape is non-negative and sums to 1."),
    ("profile_rows_equal_zone_alloc", "The profile holds exactly zone_alloc's (merchant, country, zone) rows."),
    ("channel_group_carried", "Each row carries its merchant's channel."),
    ("online_merchants_in_online_classes", "Virtual and hybrid merchants have online demand classes."),
    ("volumes_match_expected_arrivals", "Weekly volumes add up to the profile's expected arrivals."),
    ("shares_calibrated", "The expected virtual and card-not-present shares of arrivals are the policy's."),
)] + [check for scenario in PROFILE.scenarios for check in (
    ValidationCheck(f"intensity_finite_non_negative[{scenario}]",
                    f"λ is finite and >= 0 over the horizon of scenario {scenario}."),
    ValidationCheck(f"holidays_in_calendar[{scenario}]",
                    f"Every holiday of the package in the horizon is in the {scenario} calendar."),
)] + [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("weekly_sums_match_volumes", "A week of buckets gives back each row's weekly volume."),
    ("classes_with_volume_share", "Realism: enough demand classes hold a real share of volume."),
    ("max_class_share", "Realism: no demand class holds too much of the volume."),
    ("holiday_office_drop", "Realism: office-class volume drops on holidays in the largest countries."),
    ("payday_consumer_lift", "Realism: consumer-class volume rises on paydays in the largest countries."),
)]


validation = validation_asset(
    GROUP,
    reads=[*SURFACE_DATASETS, "seg_1a/merchants", "seg_3a/zone_alloc", "reference/holidays",
           "seg_3b/virtual_classification"],
    evaluate=evaluate,
    description="Shapes, volumes and calendars of 5A, with class shares and holiday and payday effects.",
    checks=CHECKS,
)
