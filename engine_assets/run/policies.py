"""The policy files (config/policies/*.yaml), parsed once into the typed objects segments use.

`load_policies` (engine_assets/run/config.py) checks each file against its schema, then hands the
document to its parser here. Only this module knows the YAML layout: a parser turns maps into the
kernels' dense, typed policies and checks what a schema cannot (orderings, lengths that must agree
across fields); its ValueError names the field, and load_policies prefixes the file. Across files,
`scenario_gaps` lists the scenarios of scenarios.yaml that 5a.yaml or 5b.yaml leave without parameters.
"""

import datetime as dt
import math
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from engine_assets.run.entity_policy import EntityRealism, parse_entities
from engine_assets.run.flow_policy import FlowRealism, parse_flows
from engine_assets.run.fraud_policy import FraudRealism, parse_fraud
from engine_assets.run.policy_fields import _floor_cap, _ordered_pair, _realism
from engine_kernels.arrivals.bursts import BurstPolicy
from engine_kernels.entities.policy import EntityPolicy
from engine_kernels.flows.policy import FlowPolicy
from engine_kernels.fraud.policy import FraudPolicy
from engine_kernels.civil_time.tzdb import use_pinned_tzdata
from engine_kernels.intensity.calendar import CONVENTIONS, campaign_start
from engine_kernels.intensity.calendar_events import CalendarPolicy, Campaign
from engine_kernels.intensity.demand import ROLES, DemandPolicy
from engine_kernels.intensity.weekly_shapes import Bump, DayProfile, ShapePolicy, ShapeTemplate
from engine_kernels.merchants.policy import CandidatePolicy, CrossBorderPolicy, Effects, HomeShareFloor, Policy1A
from engine_kernels.merchants.realism import RealismPolicy
from engine_kernels.sites.placement import PlacementPolicy
from engine_kernels.sites.virtual import PROFILES, VirtualPolicy
from engine_kernels.sites.weights import SHAPES, SiteWeightPolicy
from engine_kernels.sites.zone_plan import ZonePlanPolicy
from engine_kernels.vocabulary import CHANNELS, DEMAND_CLASSES, ONLINE_DEMAND_CLASSES, SECTORS

Document = Mapping[str, Any]
Model = TypeVar("Model")
Realism = TypeVar("Realism")


@dataclass(frozen=True)
class SegmentPolicy(Generic[Model, Realism]):
    """A segment's model parameters and the realism corridors its validation checks them against."""

    model: Model
    realism: Realism


@dataclass(frozen=True)
class PlacementRealism:
    """1b.yaml `realism`: sites spread like people, apart from each other, rarely on a fallback cell."""

    enforce_from_sites: int
    fallback_share_max: float
    distinct_coordinates_min: float
    distinct_min_area_km2: float  # ... in countries with at least this much populated land
    density_correlation_min: float
    density_countries: int
    density_min_sites: int  # ... among the countries with at least this many sites
    nearest_neighbour_ratio_max: float


@dataclass(frozen=True)
class CivilTimePolicy:
    """2a.yaml: the zone lookup, the clock overrides by country and the transition table's margin."""

    nudge_deg: float
    overrides: Mapping[str, str]  # country -> the one zone it keeps whatever the polygons say
    margin_days: int


@dataclass(frozen=True)
class CivilTimeRealism:
    enforce_from_sites: int
    planned_equals_final_min: float
    nearest_share_max: float


@dataclass(frozen=True)
class RoutingRealism:
    enforce_from_groups: int
    median_top_share: tuple[float, float]


@dataclass(frozen=True)
class ZoneRealism:
    enforce_from_pairs: int
    multi_zone_share_of_escalated_min: float
    median_top_zone_share_max: float


@dataclass(frozen=True)
class VirtualRealism:
    enforce_from_merchants: int
    virtual_share: tuple[float, float]
    edge_count_cv_min: float
    median_edge_distance_km_max: float
    median_mix_divergence_min: float


@dataclass(frozen=True)
class IntensityRealism:
    enforce_from_merchants: int
    min_classes: int  # classes_with_volume_share: at least this many classes ...
    min_class_share: float  # ... each with at least this share of the volume
    max_class_share: float
    countries_checked: int
    holiday_office_drop_min: float
    payday_consumer_lift_min: float


@dataclass(frozen=True)
class IntensityPolicy:
    """5a.yaml: demand classes and volumes, weekly shapes, calendar overlays, realism corridors."""

    demand: DemandPolicy
    shapes: ShapePolicy
    calendar: CalendarPolicy
    realism: IntensityRealism


@dataclass(frozen=True)
class BurstRealism:
    enforce_from_merchants: int
    latent_mean: tuple[float, float]
    count_p99_over_p50_min: float
    dispersion_card_present: tuple[float, float]
    dispersion_card_not_present: tuple[float, float]
    virtual_share: tuple[float, float]
    card_not_present_share: tuple[float, float]
    shape_correlation_min: float
    shape_min_effective_groups: float


@dataclass(frozen=True)
class Scenarios:
    """scenarios.yaml: the scenarios a profile may run."""

    descriptions: Mapping[str, str]

    @property
    def names(self) -> tuple[str, ...]:
        """Sorted: a scenario's position here is part of its arrival ids (seg_5b)."""
        return tuple(sorted(self.descriptions))


@dataclass(frozen=True)
class Policies:
    """Every policy file of the run, parsed; `digests` is all parameter_hash sees of them."""

    digests: Mapping[str, str]  # file name -> SHA-256 of its bytes, every file of config/policies/
    merchants: SegmentPolicy[Policy1A, RealismPolicy]
    placement: SegmentPolicy[PlacementPolicy, PlacementRealism]
    civil_time: SegmentPolicy[CivilTimePolicy, CivilTimeRealism]
    routing: SegmentPolicy[SiteWeightPolicy, RoutingRealism]
    zones: SegmentPolicy[ZonePlanPolicy, ZoneRealism]
    virtual: SegmentPolicy[VirtualPolicy, VirtualRealism]
    intensity: IntensityPolicy
    bursts: SegmentPolicy[BurstPolicy, BurstRealism]
    entities: "SegmentPolicy[EntityPolicy, EntityRealism]"
    flows: "SegmentPolicy[FlowPolicy, FlowRealism]"
    fraud: "SegmentPolicy[FraudPolicy, FraudRealism]"
    scenarios: Scenarios


def _increasing(values: Sequence[float], field: str) -> tuple:
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"{field} must be strictly increasing, got {list(values)}")
    return tuple(values)


# --- 1a.yaml ---


def _by_name(table: Mapping[str, Any] | None, names: Sequence[str], field: str, default: float = 0.0) -> tuple:
    """Dense vector over `names` from a partial map; absent names take `default`."""
    table = table or {}
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise ValueError(f"{field}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(names)}")
    return tuple(float(table.get(name, default)) for name in names)


def _effects(d: Document, field: str, n_bands: int, log_base: bool = False) -> Effects:
    """{intercept | base, sector, channel, gdp_band}; with log_base the map carries a positive `base`
    (a mean or a dispersion) and the intercept is ln(base), so that exp(η) = base · exp(effects)."""
    intercept = math.log(d["base"]) if log_base else float(d["intercept"])
    bands = tuple(float(x) for x in d.get("gdp_band", [0.0] * n_bands))
    if len(bands) != n_bands:
        raise ValueError(
            f"{field}.gdp_band must have {n_bands} entries (one per GDP band: "
            f"len(gdp_bands.per_capita_edges_usd) + 1), got {len(bands)}"
        )
    return Effects(
        intercept=intercept,
        sector=_by_name(d.get("sector"), SECTORS, f"{field}.sector"),
        channel=_by_name(d.get("channel"), CHANNELS, f"{field}.channel"),
        gdp_band=bands,
    )


def parse_policy_1a(d: Document) -> Policy1A:
    """The 1A coefficients of a 1a.yaml document."""
    merchants = d["merchants"]
    edges = _increasing([float(x) for x in d["gdp_bands"]["per_capita_edges_usd"]], "gdp_bands.per_capita_edges_usd")
    n_bands = len(edges) + 1
    weights = _by_name(merchants["sector_weights"], SECTORS, "merchants.sector_weights")
    if not any(w > 0 for w in weights):
        raise ValueError("merchants.sector_weights: at least one sector needs a positive weight")
    cnp = merchants["card_not_present"]
    cand = d["candidates"]
    count = cand["count"]
    cross = d["cross_border"]
    p_open = cross["open_probability"]
    k_foreign = cross["foreign_count"]
    floor = d["split"]["home_share_floor"]
    max_outlets = _increasing([int(x) for x in floor["max_outlets"]], "split.home_share_floor.max_outlets")
    shares = tuple(float(x) for x in floor["share"])
    if len(shares) != len(max_outlets) + 1:
        raise ValueError(
            "split.home_share_floor.share must have one entry more than max_outlets "
            f"(the last applies above the largest bound), got {len(shares)} and {len(max_outlets)}"
        )
    if not all(0.5 < h <= 1.0 for h in shares):
        # Above one half the home quota h·N exceeds one outlet for every N >= 2, so the home
        # always has mass to give when foreign countries are lifted to their first outlet.
        raise ValueError(f"split.home_share_floor.share must lie in (0.5, 1], got {list(shares)}")
    outlet_count = d["outlet_count"]
    return Policy1A(
        version=int(d["version"]),
        home_gdp_exponent=float(merchants["home_country"]["gdp_exponent"]),
        home_floor_vs_uniform=float(merchants["home_country"]["floor_vs_uniform"]),
        sector_weights=weights,
        cnp_probability=_by_name(
            cnp.get("by_sector"), SECTORS, "merchants.card_not_present.by_sector", default=float(cnp["default"])
        ),
        gdp_band_edges=edges,
        hurdle=_effects(d["hurdle"], "hurdle", n_bands),
        nb_mean=_effects(outlet_count["mean"], "outlet_count.mean", n_bands, log_base=True),
        nb_dispersion=_effects(outlet_count["dispersion"], "outlet_count.dispersion", n_bands, log_base=True),
        nb_max_attempts=int(outlet_count["max_attempts"]),
        candidates=CandidatePolicy(
            gdp_exponent=float(cand["gdp_exponent"]),
            distance_exponent=float(cand["distance_exponent"]),
            distance_floor_km=float(cand["distance_floor_km"]),
            same_currency_bonus=float(cand["same_currency_bonus"]),
            same_region_bonus=float(cand["same_region_bonus"]),
            count_base=float(count["base"]),
            count_per_log_outlets=float(count["per_log_outlets"]),
            count_cap=int(count["cap"]),
            sanctioned=frozenset(cand.get("sanctioned_countries", ())),
        ),
        cross_border=CrossBorderPolicy(
            openness=_by_name(cross["openness"], SECTORS, "cross_border.openness"),
            p_intercept=float(p_open["intercept"]),
            p_openness=float(p_open["openness"]),
            p_channel=_by_name(p_open.get("channel"), CHANNELS, "cross_border.open_probability.channel"),
            p_log_outlets=float(p_open["log_outlets"]),
            theta0=float(k_foreign["theta0"]),
            theta_log_outlets=float(k_foreign["theta_log_outlets"]),
            theta_openness=float(k_foreign["theta_openness"]),
        ),
        home_share=HomeShareFloor(max_outlets=max_outlets, share=shares),
    )


def parse_merchants(d: Document) -> SegmentPolicy[Policy1A, RealismPolicy]:
    """1a.yaml: the merchant universe's coefficients and the corridors of its validation."""
    return SegmentPolicy(parse_policy_1a(d), _realism(RealismPolicy, d["realism"]))


# --- 1b.yaml, 2a.yaml, 2b.yaml, 3a.yaml, 3b.yaml ---


def parse_placement(d: Document) -> SegmentPolicy[PlacementPolicy, PlacementRealism]:
    """1b.yaml: cluster radius and jitter of site placement."""
    spread = d["spread"]
    base_km, max_km = _floor_cap(spread, "base_km", "max_km", "spread")
    model = PlacementPolicy(base_km, float(spread["exponent"]), max_km, int(d["jitter"]["max_attempts"]))
    return SegmentPolicy(model, _realism(PlacementRealism, d["realism"]))


def parse_civil_time(d: Document) -> SegmentPolicy[CivilTimePolicy, CivilTimeRealism]:
    """2a.yaml: zone lookup nudge, clock overrides and the transition margin."""
    use_pinned_tzdata()
    unknown = {c: z for c, z in d["overrides"].items() if z not in zoneinfo.available_timezones()}
    if unknown:
        raise ValueError(f"overrides: zones {unknown} are not in the pinned tz database; use IANA names "
                         "such as Asia/Shanghai")
    model = CivilTimePolicy(float(d["lookup"]["nudge_deg"]), dict(d["overrides"]), int(d["transitions"]["margin_days"]))
    return SegmentPolicy(model, _realism(CivilTimeRealism, d["realism"]))


# 2b.yaml site_weights.mixture names the size bands that band_max_sites bounds, smallest first.
_SIZE_BANDS = ("small", "mid", "large")


def parse_routing(d: Document) -> SegmentPolicy[SiteWeightPolicy, RoutingRealism]:
    """2b.yaml: site weight shapes by size band and the day effects."""
    w, days = d["site_weights"], d["day_effects"]
    bands = _increasing([int(x) for x in w["band_max_sites"]], "site_weights.band_max_sites")
    n_bands = len(bands) + 1
    if n_bands > len(_SIZE_BANDS):
        raise ValueError(f"site_weights.band_max_sites: at most {len(_SIZE_BANDS) - 1} bounds "
                         f"(bands {', '.join(_SIZE_BANDS)}), got {len(bands)}")
    names = _SIZE_BANDS[:n_bands]
    if set(w["mixture"]) != set(names):
        raise ValueError(f"site_weights.mixture needs one entry per band: {', '.join(names)}")
    mixture = np.array([[w["mixture"][b][s] for s in SHAPES[1:]] for b in names], np.float64)
    for band, row in zip(names, mixture):
        if abs(row.sum() - 1.0) > 1e-9:
            raise ValueError(f"site_weights.mixture.{band}: the shape probabilities {dict(w['mixture'][band])} sum to "
                             f"{row.sum():.6g}; they must sum to 1")
    for field, values in (("site_weights.top_share_cap", w["top_share_cap"]), ("day_effects.sigma", days["sigma"])):
        if len(values) != n_bands:
            raise ValueError(f"{field} needs one entry per size band ({n_bands}), got {len(values)}")
    model = SiteWeightPolicy(
        bands, mixture, _ordered_pair(w["hub_share"], "site_weights.hub_share"),
        _ordered_pair(w["zipf_exponent"], "site_weights.zipf_exponent"), float(w["uniform_jitter"]),
        tuple(float(x) for x in w["top_share_cap"]), float(w["runner_up_floor"]),
        tuple(float(x) for x in days["sigma"]), _ordered_pair(days["clip"], "day_effects.clip"))
    return SegmentPolicy(model, _realism(RoutingRealism, d["realism"]))


def parse_zones(d: Document) -> SegmentPolicy[ZonePlanPolicy, ZoneRealism]:
    """3a.yaml: zone priors and the escalation ladder."""
    steps = [int(x) for x in d["escalation"]["min_sites"]]
    probability = [float(x) for x in d["escalation"]["probability"]]
    if len(steps) != len(probability):
        raise ValueError(f"escalation.probability must have one entry per escalation.min_sites step "
                         f"({len(steps)}), got {len(probability)}")
    model = ZonePlanPolicy(_increasing(steps, "escalation.min_sites"), tuple(probability),
                           float(d["escalation"]["concentration"]), float(d["priors"]["floor_share"]))
    return SegmentPolicy(model, _realism(ZoneRealism, d["realism"]))


def parse_virtual(d: Document) -> SegmentPolicy[VirtualPolicy, VirtualRealism]:
    """3b.yaml: virtual classification, settlement ranks, edge profiles and internet adoption."""
    c, s, e, a = d["classification"], d["settlement"], d["edges"], d["internet_adoption"]
    if len(s["rank_bands"]) != len(s["probability"]):
        raise ValueError(f"settlement.probability needs one entry per settlement.rank_bands entry "
                         f"({len(s['rank_bands'])}), got {len(s['probability'])}")
    if abs(sum(s["probability"]) - 1) > 1e-9:
        raise ValueError(f"settlement.probability {list(s['probability'])} sums to {sum(s['probability']):.6g}; "
                         "it must sum to 1")
    profiles = e["profiles"]
    if set(profiles) != set(PROFILES):
        raise ValueError(f"edges.profiles needs exactly {', '.join(PROFILES)}")
    probability = tuple(float(profiles[p]["probability"]) for p in PROFILES)
    if abs(sum(probability) - 1) > 1e-9:
        raise ValueError(f"edges.profiles: the probabilities {dict(zip(PROFILES, probability))} sum to "
                         f"{sum(probability):.6g}; they must sum to 1")
    ranges = tuple(_ordered_pair(profiles[p]["edges"], f"edges.profiles.{p}.edges", int, "fewest, most")
                   for p in PROFILES)
    model = VirtualPolicy(
        frozenset(c["virtual_sectors"]), frozenset(c["hybrid_sectors"]), float(c["hybrid_virtual_share"]),
        tuple(int(x) for x in s["rank_bands"]), tuple(float(x) for x in s["probability"]), probability,
        ranges, tuple(float(profiles[p]["locality"]) for p in PROFILES), float(e["locality_km"]),
        float(a["slope"]), float(a["midpoint_gdp_per_capita_usd"]))
    return SegmentPolicy(model, _realism(VirtualRealism, d["realism"]))


# --- 5a.yaml ---


def parse_demand(d: Document) -> DemandPolicy:
    """5a.yaml `demand_classes` and `volumes`."""
    classes, volumes = d["demand_classes"], d["volumes"]
    shop = {}
    for channel in CHANNELS:
        missing = sorted(set(SECTORS) - set(classes[channel]))
        if missing:
            raise ValueError(f"demand_classes.{channel}: sectors {missing} have no demand class")
        shop.update({(channel, s): c for s, c in classes[channel].items()})
    online = classes["online"]
    wrong = {s: c for s, c in {"default": online["default"], **online["by_sector"]}.items()
             if c not in ONLINE_DEMAND_CLASSES}
    if wrong:
        raise ValueError(f"demand_classes.online: {wrong} are not online classes ({', '.join(ONLINE_DEMAND_CLASSES)})")
    per_site = volumes["per_site"]
    missing = sorted(set(DEMAND_CLASSES) - set(per_site))
    if missing:
        raise ValueError(f"volumes.per_site: classes {missing} have no volume distribution")
    clipped = [c for c in DEMAND_CLASSES if per_site[c]["clip"] < per_site[c]["median"]]
    if clipped:
        raise ValueError(f"volumes.per_site: clip must be at least the median for {clipped}")
    roles = volumes["zone_role"]
    virtual, remote = volumes["virtual_share_of_arrivals"], volumes["card_not_present_share_of_arrivals"]
    if virtual >= remote:
        # Virtual arrivals are card-not-present ones, and other card-not-present merchants keep a share of their own.
        raise ValueError(f"volumes.virtual_share_of_arrivals ({virtual}) must be below "
                         f"volumes.card_not_present_share_of_arrivals ({remote}), the share it is part of; lower "
                         "the first or raise the second")
    return DemandPolicy(shop, dict(online["by_sector"]), online["default"],
                        np.array([per_site[c]["median"] for c in DEMAND_CLASSES], float),
                        np.array([per_site[c]["alpha"] for c in DEMAND_CLASSES], float),
                        np.array([per_site[c]["clip"] for c in DEMAND_CLASSES], float),
                        float(roles["secondary_min_share"]), np.array([roles["multiplier"][r] for r in ROLES], float),
                        float(volumes["virtual_share_of_arrivals"]), float(volumes["card_not_present_share_of_arrivals"]))


def parse_weekly_shapes(d: Document, classes: Sequence[str] = DEMAND_CLASSES) -> ShapePolicy:
    """5a.yaml `weekly_shapes`; every one of `classes` needs a template."""
    spec = d["weekly_shapes"]
    missing = sorted(set(classes) - set(spec["classes"]))
    if missing:
        raise ValueError(f"weekly_shapes.classes: classes {missing} have no weekly shape")

    def day(entry, weekend_weight=1.0):
        bumps = tuple(Bump(60.0 * c, 60.0 * w, h) for c, w, h in entry["bumps"])
        if entry["floor"] + sum(b.height for b in bumps) <= 0:
            raise ValueError("weekly_shapes: a day profile needs a floor or a bump with positive height")
        return DayProfile(float(entry["floor"]), bumps, 1.0, weekend_weight)

    templates = {c: ShapeTemplate(day(s["weekday"]), day(s["weekend"], float(s["weekend_weight"])))
                 for c, s in spec["classes"].items()}
    v = spec["variants"]
    return ShapePolicy(templates, dict(spec["channel_flatten"]), int(v["count"]), 60.0 * v["shift_hours"],
                       float(v["height"]))


def _class_factors(entry: Mapping[str, float], where: str) -> dict[str, float]:
    unknown = sorted(set(entry) - set(DEMAND_CLASSES))
    if unknown:
        raise ValueError(f"{where}: unknown demand classes {unknown}")
    return {c: float(entry[c]) for c in DEMAND_CLASSES if c in entry}


def parse_calendar(d: Document) -> CalendarPolicy:
    """5a.yaml `calendar` and `scenarios`."""
    c = d["calendar"]
    p = c["paydays"]
    anchor = dt.date.fromisoformat(p["biweekly_anchor"])
    if anchor.weekday() != 4:
        raise ValueError(f"calendar.paydays.biweekly_anchor {anchor} is a {anchor:%A}; it must be a Friday")
    for country, convention in {"default": p["default"], **p["by_country"]}.items():
        if convention not in CONVENTIONS:
            raise ValueError(f"calendar.paydays: {country} has unknown convention {convention!r}")
    campaigns = []
    for name, spec in sorted(c["campaigns"].items()):
        if spec["date"] not in ("black_friday", "cyber_monday"):
            try:
                campaign_start(spec["date"], 2024)  # a leap year: 02-29 is a date
            except ValueError:
                raise ValueError(f"calendar.campaigns.{name}.date {spec['date']!r} is not a month-day") from None
        countries = tuple(spec["countries"])
        if "all" in countries and len(countries) > 1:
            raise ValueError(f"calendar.campaigns.{name}.countries: write [all] alone or list ISO codes")
        campaigns.append(Campaign(name, spec["date"], int(spec["days"]), int(spec["ramp_in_hours"]),
                                  None if countries == ("all",) else countries,
                                  _class_factors(spec["factor"], f"calendar.campaigns.{name}.factor")))
    o = c["outages"]
    hours = _ordered_pair(o["hours"], "calendar.outages.hours", int, "shortest, longest")
    scenarios = d["scenarios"]
    return CalendarPolicy(
        _class_factors(c["holiday_factor"], "calendar.holiday_factor"), p["default"], dict(p["by_country"]),
        anchor, int(p["hold_hours"]), int(p["ramp_out_hours"]),
        _class_factors(p["factor"], "calendar.paydays.factor"), tuple(campaigns), float(o["daily_probability"]),
        hours, float(o["factor"]),
        {s: _class_factors(v["class_factor"], f"scenarios.{s}.class_factor") for s, v in scenarios.items()},
        {s: float(v["outage_multiplier"]) for s, v in scenarios.items()})


def parse_intensity(d: Document) -> IntensityPolicy:
    """5a.yaml: demand, weekly shapes, calendar and the corridors of 5A's validation."""
    r = dict(d["realism"])
    wide = r.pop("classes_with_volume_share")
    realism = _realism(IntensityRealism,
                       {**r, "min_classes": wide["min_classes"], "min_class_share": wide["min_share"]})
    return IntensityPolicy(parse_demand(d), parse_weekly_shapes(d), parse_calendar(d), realism)


# --- 5b.yaml, scenarios.yaml ---


def _per_class(multipliers: Mapping[str, float]) -> np.ndarray:
    """By class index; unlisted classes 1."""
    return np.array([float(multipliers.get(c, 1.0)) for c in DEMAND_CLASSES])


def parse_bursts(d: Document) -> SegmentPolicy[BurstPolicy, BurstRealism]:
    """5b.yaml: burst grouping, the latent field and count dispersion."""
    edges = _increasing([float(x) for x in d["grouping"]["volume_band_edges"]], "grouping.volume_band_edges")
    lat, counts = d["latent"], d["counts"]
    if not lat["clip"][0] < 1 < lat["clip"][1]:
        raise ValueError("latent.clip must be [low < 1, high > 1]")
    scenarios = set(lat["sigma"])
    for where, table in (("latent.length_hours", lat["length_hours"]), ("counts.kappa", counts["kappa"])):
        if set(table) != scenarios:
            raise ValueError(f"{where} must name the same scenarios as latent.sigma ({', '.join(sorted(scenarios))})")
    model = BurstPolicy(edges, (float(lat["clip"][0]), float(lat["clip"][1])), dict(lat["sigma"]),
                        dict(lat["length_hours"]), _per_class(lat["class_sigma"]), _per_class(lat["class_length"]),
                        dict(lat["channel_sigma"]),
                        dict(counts["kappa"]), _per_class(counts["class_kappa"]), dict(counts["channel_kappa"]),
                        float(lat["rate_scaling"]["exponent"]), float(lat["rate_scaling"]["reference_per_hour"]))
    return SegmentPolicy(model, _realism(BurstRealism, d["realism"]))


def parse_scenarios(d: Document) -> Scenarios:
    """scenarios.yaml."""
    return Scenarios({name: spec["description"] for name, spec in d["scenarios"].items()})


def scenario_gaps(policies: Policies) -> dict[str, str]:
    """Policy file stem -> what it lacks for the scenarios of scenarios.yaml. Segments 5A and 5B look a
    scenario's parameters up by name, so a scenario one of them lacks must fail at load, not mid-run."""
    needs = {
        "5a": (policies.intensity.calendar.scenario_class_factor,
               "entry under scenarios: (class_factor, outage_multiplier)"),
        "5b": (policies.bursts.model.sigma, "entries in latent.sigma, latent.length_hours and counts.kappa"),
    }
    gaps = {}
    for stem, (table, entries) in needs.items():
        missing = [s for s in policies.scenarios.names if s not in table]
        if missing:
            gaps[stem] = (f"scenario(s) {', '.join(missing)} of scenarios.yaml have no {entries}; "
                          "add them, or remove the scenario(s) from scenarios.yaml")
    return gaps


# Policy file stem -> (attribute of Policies, parser of its schema-checked document).
POLICY_FILES: dict[str, tuple[str, Callable[[Document], Any]]] = {
    "1a": ("merchants", parse_merchants),
    "1b": ("placement", parse_placement),
    "2a": ("civil_time", parse_civil_time),
    "2b": ("routing", parse_routing),
    "3a": ("zones", parse_zones),
    "3b": ("virtual", parse_virtual),
    "5a": ("intensity", parse_intensity),
    "5b": ("bursts", parse_bursts),
    "6a": ("entities", lambda d: SegmentPolicy(*parse_entities(d))),
    "6b": ("flows", lambda d: SegmentPolicy(*parse_flows(d))),
    "fraud": ("fraud", lambda d: SegmentPolicy(*parse_fraud(d))),
    "scenarios": ("scenarios", parse_scenarios),
}
