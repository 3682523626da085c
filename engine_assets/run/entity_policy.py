"""6a.yaml, parsed into the dense policy of engine_kernels/entities/policy.py and its corridors.

Kept beside engine_assets/run/policies.py (which registers it) because the entity world has many
small tables: maps keyed by segment, party type, device type or network become vectors in the
orders of engine_kernels/vocabulary.py, every distribution is checked to sum to 1, and a key the
vocabulary does not know is refused with the allowed ones.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine_assets.run.policy_fields import _distribution, _known, _ordered_pair, _realism, _share_map
from engine_kernels.entities.policy import (
    AccountProduct,
    CardProduct,
    DevicePolicy,
    EntityPolicy,
    FraudPolicy,
    Holding,
    InstrumentPolicy,
    IpPolicy,
    PartyPolicy,
)
from engine_kernels.vocabulary import (
    ACCOUNT_TYPES,
    AGE_BANDS,
    DEVICE_TYPES,
    INCOME_BANDS,
    IP_TYPES,
    OPERATING_SYSTEMS,
    PARTY_TYPES,
    REGIONS,
    RISK_TIERS,
    SCHEMES,
    SEGMENTS,
    SEGMENTS_BY_TYPE,
)

Document = Mapping[str, Any]
PERSONAL_DEVICES = DEVICE_TYPES[:4]
NETWORK_KEYS = ("mobile", "laptop", "desktop", "tablet", "business_laptop", "business_desktop", "terminal")


@dataclass(frozen=True)
class EntityRealism:
    """6a.yaml `realism`."""

    enforce_from_parties: int
    cards_per_retail_party: tuple[float, float]
    population_rank_correlation_min: float
    arrivals_rank_correlation_min: float
    density_correlation_min: float
    density_countries: int
    density_min_parties: int
    shared_device_share: tuple[float, float]
    devices_per_ip_factor: tuple[float, float]
    top_ip_link_share_min: float
    role_share: tuple[float, float]
    odds_ratio: tuple[float, float]


def _by_segment(table: Mapping[str, Any], field: str, value=float) -> list:
    """One value per segment from a map of some segments and `default`."""
    _known(table, (*SEGMENTS, "default"), field)
    missing = [s for s in SEGMENTS if s not in table] if "default" not in table else []
    if missing:
        raise ValueError(f"{field}: no value for {', '.join(missing)} and no default")
    return [value(table.get(s, table.get("default"))) for s in SEGMENTS]


def _by_region(table: Mapping[str, Any], field: str) -> list:
    """One entry per region plus the default's, last."""
    _known(table, (*REGIONS, "default"), field)
    if "default" not in table:
        raise ValueError(f"{field}: needs a `default` for codes CLDR places in no region")
    return [table.get(r, table["default"]) for r in (*REGIONS, "default")]


def _parties(d: Document) -> PartyPolicy:
    if tuple(d["age_bands"]) != AGE_BANDS or tuple(d["income_bands"]) != INCOME_BANDS:
        raise ValueError(f"parties.age_bands and income_bands must be {list(AGE_BANDS)} and {list(INCOME_BANDS)}")
    _known(d["segments"], PARTY_TYPES, "parties.segments")
    mix = {}
    for t in PARTY_TYPES:
        rows = _by_region(d["segments"].get(t, {}), f"parties.segments.{t}")
        mix[t] = np.stack([_share_map(r, SEGMENTS_BY_TYPE[t], f"parties.segments.{t}") for r in rows])
    tenure = _by_segment(d["tenure_months"], "parties.tenure_months", dict)
    return PartyPolicy(
        payments_per_active_party_week=float(d["payments_per_active_party_week"]),
        active_share=float(d["active_share"]),
        population_weight=float(d["population_weight"]),
        type_shares=_share_map(d["types"], PARTY_TYPES, "parties.types"),
        segment_mix=mix,
        age=np.stack([_distribution(v, f"parties.age.{s}", AGE_BANDS)
                      for s, v in zip(SEGMENTS, _by_segment(d["age"], "parties.age", list))]),
        income=np.stack([_distribution(v, f"parties.income.{s}", INCOME_BANDS)
                         for s, v in zip(SEGMENTS, _by_segment(d["income"], "parties.income", list))]),
        tenure_median_months=np.array([float(t["median"]) for t in tenure]),
        tenure_sigma=np.array([float(t["sigma"]) for t in tenure]),
        household_sizes=np.stack([_distribution(r, "parties.household_sizes", [str(k) for k in range(1, 7)])
                                  for r in _by_region(d["household_sizes"], "parties.household_sizes")]),
    )


def _holding(name: str, d: Document, cells: Sequence[str] | None, per: str) -> Holding:
    """A product of the allocator; `cells` names the owner cells its maps are keyed by (None: one cell)."""
    if cells is None:
        eligible, per_holder = [float(d.get("eligible", 1.0))], [float(d[per])]
    elif cells is SEGMENTS:
        eligible = _by_segment(d["eligible"], f"{name}.eligible")
        per_holder = _by_segment(d[per], f"{name}.{per}")
    else:
        _known(d["eligible"], cells, f"{name}.eligible")
        eligible = [float(d["eligible"].get(c, 0.0)) for c in cells]
        per_holder = [float(d[per])] * len(cells)
    if any(not 1 <= p <= int(d["cap"]) for p, e in zip(per_holder, eligible) if e > 0):
        raise ValueError(f"{name}.{per} must lie between 1 and the cap ({d['cap']}) items per eligible holder")
    # Eligibility is the zero inflation: an eligible owner holds at least one item.
    return Holding(name, np.array(eligible), np.array(per_holder), 1, int(d["cap"]), float(d["sigma"]))


def _account_types(names: Sequence[str], field: str) -> tuple[int, ...]:
    _known({n: 0 for n in names}, ACCOUNT_TYPES, field)
    return tuple(ACCOUNT_TYPES.index(n) for n in names)


def _card(name: str, d: Document) -> CardProduct:
    return CardProduct(_holding(name, d, None, "per_account"), _account_types(d["accounts"], f"{name}.accounts"),
                       float(d.get("virtual_share", 0.0)))


def _accounts(d: Document) -> tuple[AccountProduct, ...]:
    _known(d, ACCOUNT_TYPES, "accounts")
    out = []
    for name in ACCOUNT_TYPES:
        if name not in d:
            raise ValueError(f"accounts.{name} is missing; every account type needs its product line")
        holders = d[name]["holders"]
        holders = [holders] if isinstance(holders, str) else list(holders)
        _known({h: 0 for h in holders}, PARTY_TYPES, f"accounts.{name}.holders")
        out.append(AccountProduct(_holding(f"accounts.{name}", d[name], SEGMENTS, "per_holder"),
                                  tuple(PARTY_TYPES.index(h) for h in holders)))
    return tuple(out)


def _instruments(d: Document) -> InstrumentPolicy:
    cards = d["cards"]
    _known(d["schemes"], SCHEMES, "instruments.schemes")
    domestic = {}
    for country, entry in d["domestic"].items():
        _known({entry["scheme"]: 0}, SCHEMES, f"instruments.domestic.{country}.scheme")
        domestic[country] = (SCHEMES.index(entry["scheme"]), float(entry["share"]))
    rails = d["rails"]
    return InstrumentPolicy(
        debit=_card("instruments.cards.debit", cards["debit"]),
        credit=_card("instruments.cards.credit", cards["credit"]),
        scheme_shares=_share_map(d["schemes"], SCHEMES, "instruments.schemes"),
        domestic=domestic,
        expiry_months=_ordered_pair(d["expiry_months"], "instruments.expiry_months", int),
        wallet=_holding("instruments.wallet_tokens", d["wallet_tokens"], None, "per_card"),
        handles=_card("instruments.transfer_handles", d["transfer_handles"]),
        rail_default=str(rails["default"]),
        rails=dict(rails.get("by_country", {})),
    )


def _devices(d: Document) -> DevicePolicy:
    _known(d["personal"], PERSONAL_DEVICES, "devices.personal")
    _known(d["networks"], NETWORK_KEYS, "devices.networks")
    _known(d["os"], DEVICE_TYPES, "devices.os")
    missing = [k for k in NETWORK_KEYS if k not in d["networks"]] + [t for t in DEVICE_TYPES if t not in d["os"]]
    if missing:
        raise ValueError(f"devices: no networks or os for {', '.join(missing)}")
    first, also = {}, {}
    for key, entry in d["networks"].items():
        _known({entry["first"]: 0}, IP_TYPES, f"devices.networks.{key}.first")
        _known(entry["also"], IP_TYPES, f"devices.networks.{key}.also")
        first[key] = IP_TYPES.index(entry["first"])
        also[key] = np.array([float(entry["also"].get(t, 0.0)) for t in IP_TYPES])
    return DevicePolicy(
        personal=tuple(_holding(f"devices.personal.{t}", d["personal"][t], PARTY_TYPES, "per_owner")
                       for t in PERSONAL_DEVICES),
        shared_household_share=float(d["shared"]["household_share"]),
        shared_types=_share_map(d["shared"]["types"], PERSONAL_DEVICES, "devices.shared.types"),
        os_shares=np.stack([_share_map(d["os"][t], OPERATING_SYSTEMS, f"devices.os.{t}") for t in DEVICE_TYPES]),
        terminals=_holding("devices.terminals", d["terminals"], None, "per_site"),
        first_network=first,
        also_network=also,
        vpn_share=float(d["vpn_share"]),
    )


def _ips(d: Document) -> IpPolicy:
    types = d["types"]
    _known(types, IP_TYPES, "ips.types")
    missing = [t for t in IP_TYPES if t not in types]
    if missing:
        raise ValueError(f"ips.types: no sizing for {', '.join(missing)}")
    for t in IP_TYPES:
        if types[t]["cap"] < types[t]["devices_per_ip"]:
            raise ValueError(f"ips.types.{t}: cap {types[t]['cap']} is below devices_per_ip "
                             f"{types[t]['devices_per_ip']}; raise the cap to at least devices_per_ip or lower "
                             "devices_per_ip")
    hosting = d["hosting_countries"]
    return IpPolicy(
        devices_per_ip=np.array([float(types[t]["devices_per_ip"]) for t in IP_TYPES]),
        sigma=np.array([float(types[t]["sigma"]) for t in IP_TYPES]),
        cap=np.array([int(types[t]["cap"]) for t in IP_TYPES], np.int64),
        hosting_countries=tuple(hosting),
        hosting_shares=_distribution(list(hosting.values()), "ips.hosting_countries"),
    )


def _fraud(d: Document) -> FraudPolicy:
    score = d["score"]
    _known(d["tiers"], RISK_TIERS, "fraud.tiers")
    _known({t: 0 for t in d["risky_tiers"]}, RISK_TIERS, "fraud.risky_tiers")
    return FraudPolicy(
        segment_effect=np.array(_by_segment(score["segment"] | {"default": score["segment"].get("default", 0.0)},
                                            "fraud.score.segment")),
        tenure_per_log_year=float(score["tenure_per_log_year"]),
        has_credit_card=float(score["has_credit_card"]),
        uses_vpn=float(score["uses_vpn"]),
        tier_shares=_share_map(d["tiers"], RISK_TIERS, "fraud.tiers"),
        risky_tiers=tuple(RISK_TIERS.index(t) for t in d["risky_tiers"]),
        odds_ratio=float(d["propagation"]["odds_ratio"]),
        base_share=float(d["propagation"]["base_share"]),
        mule_share=float(d["mule_share"]),
        synthetic_share=float(d["synthetic_share"]),
        score_slope=float(d["score_slope"]),
        rings_per_million=float(d["rings_per_million"]),
        ring_associates=_ordered_pair(d["ring_associates"], "fraud.ring_associates", int),
        farm_devices=_ordered_pair(d["farm_devices"], "fraud.farm_devices", int),
        ring_ips=_ordered_pair(d["ring_ips"], "fraud.ring_ips", int),
        risky_mccs=frozenset(int(m) for m in d["risky_mccs"]),
        risky_mcc_share=float(d["risky_mcc_share"]),
        risky_other_share=float(d["risky_other_share"]),
        collusive_share=float(d["collusive_share"]),
    )


def parse_entities(d: Document) -> tuple[EntityPolicy, EntityRealism]:
    """6a.yaml: the entity world's model and the corridors of its validation."""
    model = EntityPolicy(_parties(d["parties"]), _accounts(d["accounts"]), _instruments(d["instruments"]),
                         _devices(d["devices"]), _ips(d["ips"]), _fraud(d["fraud"]))
    return model, _realism(EntityRealism, d["realism"])
