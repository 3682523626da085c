"""What a fraud plan's campaigns do: every payment they make, over the whole horizon.

Each target's acts are drawn from the keyed units (campaign id, target serial) and (campaign id,
serial · 2^16 + act), so a day takes the acts whose time falls in it and is the same built alone or
in any batch. An act is a payment: its time, type, payer and means, where it is made and its
amount in local money; the day's flows give it ids, a lifecycle and events like any other flow.
First-party fraud makes no acts: it claims its fraudsters' own purchases (`claims`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson

from numba import njit
from scipy.spatial import cKDTree

from engine_kernels.flows.lifecycle import price_point
from engine_kernels.flows.patronage import great_circle_km, huff_choice, unit_vectors
from engine_kernels.fraud.draws import between, log_normal, pick, uniforms
from engine_kernels.fraud.plan import APP, ATO, CARD_TESTING, COLLUSION, DAY_US, MULE, REFUND, STOLEN, Plan
from engine_kernels.fraud.policy import FraudPolicy
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import ATM_WITHDRAWAL, CNP_PURCHASE, CP_PURCHASE, TRANSFER

__all__ = ["Acts", "NearSites", "Places", "draw_acts"]

_HOUR_US = 3_600_000_000
_BURST_HOURS = 3.0  # a card-testing burst runs through its cards within a few hours
_ATM_LIMIT_USD = 500.0  # a day's cash machine limit caps what a mule takes out at once


@dataclass
class Weighted:
    """Places (edges or sites) grouped by country, each with a weight (its expected volume): one is
    picked by weight in a given country, or anywhere."""

    items: np.ndarray  # sorted by country
    offsets: np.ndarray  # per country, over items
    in_country: np.ndarray  # country + the item's cumulative share of its country's weight
    anywhere: np.ndarray  # cumulative share of all the weight

    @classmethod
    def of(cls, items: np.ndarray, country: np.ndarray, weight: np.ndarray, n_countries: int) -> "Weighted":
        order = np.lexsort((items, country))
        # a place without a measured volume still gets a sliver of weight (large enough to survive
        # the running sum), never a NaN
        weight = np.nan_to_num(weight[order].astype(np.float64))
        weight = np.maximum(weight, 1e-6 * weight.mean() if weight.size and weight.mean() > 0 else 1.0)
        items, country = items[order], country[order]
        offsets = np.concatenate(([0], np.cumsum(np.bincount(country, minlength=n_countries))))
        within = np.cumsum(weight)
        base = np.concatenate(([0.0], within))[offsets[:-1]][country]
        total = (np.concatenate(([0.0], within))[offsets[1:]] - np.concatenate(([0.0], within))[offsets[:-1]])[country]
        return cls(items, offsets, country + (within - base) / total, within / within[-1] if within.size else within)

    def pick(self, u, country=None, home=None) -> np.ndarray:
        """An item per uniform u: in `country` where `home` is true and the country has any, else anywhere
        (-1 when there are none at all)."""
        u = np.asarray(u, np.float64)
        if self.items.size == 0:
            return np.full(u.shape, -1, np.int64)
        anywhere = self.items[np.minimum(np.searchsorted(self.anywhere, u), self.items.size - 1)]
        if country is None:
            return anywhere.astype(np.int64)
        country = np.broadcast_to(np.asarray(country), u.shape)
        c = np.maximum(country, 0)
        has = (self.offsets[c + 1] > self.offsets[c]) & (country >= 0) & np.asarray(home, bool)
        at = np.minimum(np.searchsorted(self.in_country, c + u), self.items.size - 1)
        at = np.minimum(np.clip(at, self.offsets[c], self.offsets[c + 1] - 1), self.items.size - 1)
        return np.where(has, self.items[np.maximum(at, 0)], anywhere).astype(np.int64)


@dataclass
class NearSites:
    """Sites around a point (a home, a compromised site): one picked among the `candidates` nearest
    by the Huff weight a party picks its favourites with (engine_kernels/flows/patronage.py), so a
    ring working near a place goes where that place's neighbours go."""

    tree: cKDTree | None  # over the unit vectors of the sites with a weight; None without any
    sites: np.ndarray  # site index of each point of the tree
    weight: np.ndarray  # of each point
    candidates: int
    distance_km: float
    exponent: float

    @classmethod
    def of(cls, site_lat: np.ndarray, site_lon: np.ndarray, weight: np.ndarray, candidates: int, distance_km: float,
           exponent: float) -> "NearSites":
        """Over the sites with a weight (a site without volume sells nothing to anyone)."""
        sites = np.flatnonzero(np.nan_to_num(weight) > 0)
        tree = cKDTree(unit_vectors(site_lat[sites], site_lon[sites])) if sites.size else None
        return cls(tree, sites, weight[sites].astype(np.float64), candidates, distance_km, exponent)

    def pick(self, u, lat, lon) -> np.ndarray:
        """A site per (uniform, point in degrees); -1 where there is no site."""
        lat = np.asarray(lat, np.float64)
        if self.tree is None or lat.size == 0:
            return np.full(lat.shape, -1, np.int64)
        index, _ = huff_choice(self.tree, unit_vectors(lat, np.asarray(lon, np.float64)), self.weight,
                               np.asarray(u, np.float64), self.candidates, self.distance_km, self.exponent)
        return self.sites[index].astype(np.int64)


@dataclass
class Places:
    """Where campaigns act and with what, as indices into the world's arrays."""

    edges: Weighted  # every edge, by its expected online volume
    risky_edges: Weighted  # the same, tilted towards merchants whose goods resell (digital, electronics, travel)
    risky_sites: Weighted  # the same, tilted towards merchants whose goods resell
    cash_sites: Weighted  # cash machines by their volume
    near_sites: NearSites  # every site by its volume, around a point
    near_risky: NearSites  # the same, tilted towards merchants whose goods resell
    near_cash: NearSites  # cash machines by their volume, around a point
    domestic_share: float  # share of acts in the victim's (or fraudster's) own country
    edge_merchant: np.ndarray
    edge_country: np.ndarray
    site_merchant: np.ndarray
    site_country: np.ndarray
    site_cash: np.ndarray  # the site is a cash machine
    site_lat: np.ndarray  # degrees
    site_lon: np.ndarray
    home_lat: np.ndarray  # per party, degrees
    home_lon: np.ndarray
    terminal_offsets: np.ndarray
    terminal_list: np.ndarray
    merchant_site_offsets: np.ndarray  # per merchant, over merchant_sites
    merchant_sites: np.ndarray
    merchant_edge_offsets: np.ndarray  # per merchant, over merchant_edges
    merchant_edges: np.ndarray
    farm_devices: np.ndarray
    risky_ips: np.ndarray  # datacentre and VPN addresses
    other_ip_offsets: np.ndarray  # per country: public Wi-Fi and mobile addresses
    other_ip_list: np.ndarray
    party_country: np.ndarray
    first_card: np.ndarray  # per party, -1 without
    price_fx: np.ndarray  # per country: local units per US dollar at US prices
    minor_unit: np.ndarray  # per country
    merchant_median_usd: np.ndarray  # per merchant: its sector's usual amount (6b.yaml amounts)
    merchant_sigma: np.ndarray
    party_offset_us: np.ndarray  # per party: its home zone's UTC offset mid-horizon
    hour_share: np.ndarray  # 24 shares: when in their local day people pay (6b.yaml transfers.hours)
    ninety_nine: float  # price points of purchases (6b.yaml amounts)
    round_share: float


@dataclass
class Acts:
    """One row per act, in (ts_utc, campaign, unit) order. Indices into the world's arrays; -1 where
    the payment uses the payer's own means (its device, address, transfer handle), chosen like a
    legitimate payment's."""

    campaign: np.ndarray  # row of the plan's campaigns
    target: np.ndarray  # row of the plan's targets
    unit: np.ndarray  # target serial · 2^16 + act number
    ts_utc: np.ndarray
    flow_type: np.ndarray
    party: np.ndarray  # payer
    instrument: np.ndarray  # card, or -1 for the payer's own handle (transfers)
    device: np.ndarray
    ip: np.ndarray
    merchant: np.ndarray
    site: np.ndarray
    edge: np.ndarray
    payee: np.ndarray
    merchant_country: np.ndarray  # -1 for transfers
    amount: np.ndarray  # local money of merchant_country, or of the payer for transfers
    invalid: np.ndarray  # a card-testing probe of a dead card: declined for invalid card data
    refund_days: np.ndarray  # a refund claimed this many days after clearing, nan without
    role: np.ndarray  # LABEL_ROLES of the payer

    @property
    def size(self) -> int:
        return self.ts_utc.size

    def rows(self, keep) -> "Acts":
        return Acts(**{k: v[keep] for k, v in vars(self).items()})


def _csr_pick(u, offsets: np.ndarray, values: np.ndarray, group) -> np.ndarray:
    """values of a group's slice picked by u; -1 where the group has none."""
    group = np.maximum(np.asarray(group), 0)
    lo, n = offsets[group], offsets[group + 1] - offsets[group]
    at = lo + np.minimum((np.asarray(u) * n).astype(np.int64), np.maximum(n - 1, 0))
    return np.where(n > 0, values[np.minimum(at, max(values.size - 1, 0))] if values.size else -1, -1)


def _money(x_usd, country, places: Places, note_usd=0.0) -> np.ndarray:
    """US dollars at US prices as local money, to the minor unit, or where note_usd > 0 to the power
    of ten of local money nearest below that many dollars (cash in notes, transfers in whole units)."""
    minor = places.minor_unit[country]
    local = np.asarray(x_usd) * places.price_fx[country]
    note = np.asarray(note_usd) * places.price_fx[country]
    step = np.where(note > 0, np.maximum(10.0 ** np.floor(np.log10(np.maximum(note, 1e-12))), minor), minor)
    return np.maximum(np.round(local / step) * step, step)


class _Builder:
    """Columns of acts, gathered type by type."""

    def __init__(self):
        self.parts: list[dict] = []

    def add(self, places: Places, **columns) -> None:
        n = columns["ts_utc"].size
        full = {"device": -1, "ip": -1, "merchant": -1, "site": -1, "edge": -1, "payee": -1, "instrument": -1,
                "invalid": False, "refund_days": np.nan}
        for name, default in full.items():
            columns.setdefault(name, np.full(n, default))
        for name in ("device", "ip", "merchant", "site", "edge", "payee", "instrument"):
            columns[name] = np.broadcast_to(np.asarray(columns[name], np.int64), (n,))
        if "merchant_country" not in columns:
            edge, site = columns["edge"], columns["site"]
            columns["merchant_country"] = np.where(edge >= 0, places.edge_country[np.maximum(edge, 0)],
                                                   np.where(site >= 0, places.site_country[np.maximum(site, 0)], -1))
        merchant = np.where(columns["edge"] >= 0, places.edge_merchant[np.maximum(columns["edge"], 0)],
                            np.where(columns["site"] >= 0, places.site_merchant[np.maximum(columns["site"], 0)],
                                     columns["merchant"]))
        columns["merchant"] = merchant
        self.parts.append({k: np.broadcast_to(np.asarray(v), (n,)) for k, v in columns.items()})

    def acts(self) -> Acts:
        names = [f for f in Acts.__dataclass_fields__]
        cols = {k: np.concatenate([p[k] for p in self.parts]) if self.parts else np.zeros(0) for k in names}
        for k in names:
            if k not in ("amount", "refund_days", "invalid"):
                cols[k] = cols[k].astype(np.int64)
        cols["invalid"] = cols["invalid"].astype(bool)
        cols["amount"] = cols["amount"].astype(np.float64)
        cols["refund_days"] = cols["refund_days"].astype(np.float64)
        order = np.lexsort((cols["unit"], cols["campaign"], cols["ts_utc"]))
        return Acts(**{k: v[order] for k, v in cols.items()})


def _nearest_site(places: Places, party: np.ndarray, merchant: np.ndarray) -> np.ndarray:
    """Each payer's nearest site of the merchant (-1 for a merchant without sites): a ring member
    buys at the colluding merchant's branch nearest home."""
    out = np.full(party.size, -1, np.int64)
    for m in np.unique(merchant[merchant >= 0]):
        sites = places.merchant_sites[places.merchant_site_offsets[m]:places.merchant_site_offsets[m + 1]]
        rows = np.flatnonzero(merchant == m)
        if sites.size == 0 or rows.size == 0:
            continue
        km = great_circle_km(np.repeat(places.home_lat[party[rows]], sites.size),
                             np.repeat(places.home_lon[party[rows]], sites.size),
                             np.tile(places.site_lat[sites], rows.size), np.tile(places.site_lon[sites], rows.size))
        out[rows] = sites[np.argmin(km.reshape(rows.size, sites.size), axis=1)]
    return out


def _running_total(group: np.ndarray, t: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Each row's value plus the values of its group's earlier rows (by t)."""
    order = np.lexsort((t, group))
    g, v = group[order], value[order]
    total = np.cumsum(v)
    start = np.maximum.accumulate(np.where(np.r_[True, g[1:] != g[:-1]], np.arange(g.size), 0))
    out = np.empty(value.size)
    out[order] = total - (total - v)[start]
    return out


def _usd(places: Places, merchant: np.ndarray, u, factor) -> np.ndarray:
    """A purchase's dollars: the merchant's usual amount times a log-normal factor (sigmas add in quadrature)."""
    sigma = np.hypot(places.merchant_sigma[merchant], factor.sigma)
    return log_normal(u, places.merchant_median_usd[merchant] * factor.median, sigma)


def _moment(places: Places, day, u, party) -> np.ndarray:
    """µs since 1970 of a moment of a local day (days since 1970, whole) of the party, at an hour
    drawn by u from the local-day profile: fraudsters pay in their victims' waking hours like
    everyone else, or their own flows would give them away."""
    cum = np.cumsum(places.hour_share) / places.hour_share.sum()
    u = np.asarray(u, np.float64)
    hour = np.minimum(np.searchsorted(cum, u, side="right"), 23)
    below = np.where(hour > 0, cum[np.maximum(hour - 1, 0)], 0.0)
    within = np.clip((u - below) / np.maximum(cum[hour] - below, 1e-12), 0.0, 1.0 - 1e-9)
    local = np.asarray(day, np.int64) * DAY_US + ((hour + within) * _HOUR_US).astype(np.int64)
    return local - places.party_offset_us[party]


@njit(cache=True)
def _price_points(amount, u, ninety_nine, round_share, minor_unit, out):
    for i in range(amount.shape[0]):
        out[i] = price_point(amount[i], u[i], ninety_nine, round_share, minor_unit[i])


def _expand(target_rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(target row, act number) of every act, `counts[i]` acts for target_rows[i]."""
    rows = np.repeat(target_rows, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return rows, np.arange(rows.size) - first


def draw_acts(keys, policy: FraudPolicy, plan: Plan, places: Places) -> Acts:
    """Every act of the plan's campaigns; `keys(label)` gives a substream label's key."""
    target_key, act_key = keys(substreams.FRAUD_TARGET), keys(substreams.FRAUD_ACT)
    cid = plan.campaign_id
    t_type = plan.fraud_type[plan.campaign].astype(np.int64)
    v = uniforms(target_key, cid[plan.campaign], plan.serial, 12)  # the plan drew columns 0-1
    out = _Builder()

    def act_uniforms(rows, k):
        return uniforms(act_key, cid[plan.campaign[rows]], (plan.serial[rows] << 16) + k, 8)

    def common(rows, k, role=None):
        c = plan.campaign[rows]
        return dict(campaign=c, target=rows, unit=(plan.serial[rows] << 16) + k, party=plan.party[rows],
                    role=plan.role[rows] if role is None else np.full(rows.size, role))

    day_start = plan.start_day * DAY_US
    # --- card testing: probes in a burst at a few merchants, then real charges on the cards that work
    ct = np.flatnonzero(t_type == CARD_TESTING)
    p = policy.card_testing
    rows, k = _expand(ct, between(v[ct, 2], p.probes.lo, p.probes.hi))
    w = act_uniforms(rows, k)
    c = plan.campaign[rows]
    burst = day_start[c] + (plan.anchor_u[c] * 0.8 * DAY_US).astype(np.int64)
    edge = places.risky_edges.pick((plan.anchor_u[c] * 7919 + (k % 3) / 3.0) % 1.0)  # a few merchants a burst
    country = places.edge_country[np.maximum(edge, 0)]
    probe = p.probe_usd[0] + w[:, 1] * (p.probe_usd[1] - p.probe_usd[0])  # 0-2 units of the local money
    out.add(places, **common(rows, k), ts_utc=burst + (w[:, 0] * _BURST_HOURS * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            device=pick(plan.anchor_u[c], places.farm_devices), ip=pick(v[rows, 10], places.risky_ips),
            amount=np.maximum(np.round(probe / places.minor_unit[country]) * places.minor_unit[country],
                              places.minor_unit[country]),
            invalid=v[rows, 3] < p.invalid_share)
    works = ct[v[ct, 3] >= p.invalid_share]
    rows, k = _expand(works, between(v[works, 4], p.charges.lo, p.charges.hi))
    w = act_uniforms(rows, 1000 + k)
    c = plan.campaign[rows]
    after = log_normal(w[:, 0], p.charge_hours.median, p.charge_hours.sigma, p.charge_hours.cap)
    home = places.party_country[plan.party[rows]]
    edge = places.risky_edges.pick(w[:, 1], home, w[:, 5] < places.domestic_share)
    out.add(places, **common(rows, 1000 + k),
            ts_utc=day_start[c] + (plan.anchor_u[c] * 0.8 * DAY_US).astype(np.int64)
            + ((_BURST_HOURS + after) * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            device=pick(v[rows, 11], places.farm_devices), ip=pick(v[rows, 10], places.risky_ips),
            amount=_money(_usd(places, places.edge_merchant[np.maximum(edge, 0)], w[:, 4], p.charge_factor),
                          places.edge_country[np.maximum(edge, 0)], places))

    # --- stolen cards: used days after the compromise, online or with counterfeits in store; adapted
    # campaigns buy ordinary things online for less, from addresses in the victim's country and a
    # device spoofing the victim's
    st = np.flatnonzero(t_type == STOLEN)
    s = policy.stolen_cards
    exposed = plan.start_day[plan.campaign[st]] + np.floor(v[st, 2] * plan.days[plan.campaign[st]]).astype(np.int64)
    first_use = exposed + between(v[st, 3], s.lead_days.lo, s.lead_days.hi)
    per_day = between(v[st, 5], s.per_day.lo, s.per_day.hi)
    rows, k = _expand(st, between(v[st, 4], s.days.lo, s.days.hi) * per_day)
    w = act_uniforms(rows, k)
    at = np.searchsorted(st, rows)
    ts = _moment(places, first_use[at] + k // per_day[at], w[:, 0], plan.party[rows])
    adapted_from = plan.adapted_from[plan.campaign[rows]]
    adapted = (adapted_from >= 0) & (ts >= adapted_from)
    online = w[:, 1] < s.online_share
    victim_country = places.party_country[plan.party[rows]]
    home = w[:, 7] < places.domestic_share
    edge = np.where(online, np.where(adapted, places.edges.pick(w[:, 2], victim_country, home),
                                     places.risky_edges.pick(w[:, 2], victim_country, home)), -1)
    # A counterfeit card buys what resells, or takes cash where cash machines see volume: abroad, or
    # at home near the compromised site, where the ring that skimmed it works. Once adapted, it
    # shops like anyone near the victim's home.
    victim = plan.party[rows]
    compromised = plan.site[plan.campaign[rows]]
    site = np.where(online, -1, places.risky_sites.pick(w[:, 2], victim_country, home))
    local = ~online & ~adapted & home
    site[local] = places.near_risky.pick(w[local, 2], places.site_lat[compromised[local]],
                                         places.site_lon[compromised[local]])
    near = ~online & adapted
    site[near] = places.near_sites.pick(w[near, 2], places.home_lat[victim[near]], places.home_lon[victim[near]])
    cash = ~online & places.site_cash[np.maximum(site, 0)]
    country = np.where(online, places.edge_country[np.maximum(edge, 0)], places.site_country[np.maximum(site, 0)])
    usd = _usd(places, np.where(online, places.edge_merchant[np.maximum(edge, 0)],
                                places.site_merchant[np.maximum(site, 0)]), w[:, 3], s.amount_factor)
    usd = np.where(adapted, usd * policy.adaptation.amount_factor, usd) * np.where(online, 1.0, s.in_store_factor)
    usd = np.minimum(usd, s.limit_usd)
    # A ring works a card from one device and one address at a time: the card's, for its whole run.
    ip = np.where(adapted, _csr_pick(v[rows, 10], places.other_ip_offsets, places.other_ip_list, victim_country),
                  pick(v[rows, 10], places.risky_ips))
    out.add(places, **common(rows, k), ts_utc=ts,
            flow_type=np.where(online, CNP_PURCHASE, np.where(cash, ATM_WITHDRAWAL, CP_PURCHASE)),
            instrument=plan.instrument[rows], edge=edge, site=site,
            # adapted rings spoof the victim's device fingerprint: the payer's own device (-1)
            device=np.where(online, np.where(adapted, -1, pick(v[rows, 11], places.farm_devices)),
                            _csr_pick(w[:, 5], places.terminal_offsets, places.terminal_list, site)),
            ip=np.where(online, ip, -1), amount=_money(usd, country, places, note_usd=np.where(cash, 20.0, 0.0)))

    # --- account takeover: a new device and address, then transfers draining the account to a mule,
    # and purchases online
    a = policy.account_takeover
    ato = np.flatnonzero(t_type == ATO)
    span = v[ato, 2] * plan.days[plan.campaign[ato]]
    t0 = _moment(places, plan.start_day[plan.campaign[ato]] + np.floor(span).astype(np.int64), span % 1.0,
                 plan.party[ato])
    victim_country = places.party_country[plan.party[ato]]
    # A remote-access takeover works the victim's own device and connection (-1: the payer's own).
    remote = v[ato, 9] < a.remote_access_share
    device = np.where(remote, -1, pick(v[ato, 3], places.farm_devices))
    ip = np.where(remote, -1, np.where(v[ato, 4] < 0.5, pick(v[ato, 5], places.risky_ips),
                                       _csr_pick(v[ato, 5], places.other_ip_offsets, places.other_ip_list,
                                                 victim_country)))
    balance = log_normal(v[ato, 6], a.balance_usd.median, a.balance_usd.sigma)
    drains = between(v[ato, 7], a.drains.lo, a.drains.hi)
    rows, k = _expand(ato, drains)
    w = act_uniforms(rows, k)
    at = np.searchsorted(ato, rows)
    share = a.drain_share[0] + w[:, 1] * (a.drain_share[1] - a.drain_share[0])
    out.add(places, **common(rows, k), ts_utc=t0[at] + ((k + w[:, 0]) * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, TRANSFER), device=device[at], ip=ip[at],
            payee=plan.mule[plan.campaign[rows]], merchant_country=np.full(rows.size, -1),
            amount=_money(balance[at] * share / drains[at], victim_country[at], places, note_usd=1.0))
    buys = a.purchases
    rows, k = _expand(ato, between(v[ato, 8], buys.lo, buys.hi))
    w = act_uniforms(rows, 100 + k)
    at = np.searchsorted(ato, rows)
    edge = places.edges.pick(w[:, 1], victim_country[at], w[:, 3] < places.domestic_share)
    out.add(places, **common(rows, 100 + k), ts_utc=t0[at] + ((0.5 + w[:, 0] * 6) * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            device=device[at], ip=ip[at],
            amount=_money(_usd(places, places.edge_merchant[np.maximum(edge, 0)], w[:, 2], a.purchase_factor),
                          places.edge_country[np.maximum(edge, 0)], places))

    # --- APP scams: victims push transfers to a mule, who forwards most within hours to a second
    # mule, who takes some of it out at a cash machine
    app = policy.app_scam
    ap = np.flatnonzero(t_type == APP)
    kind = plan.scam_kind[plan.campaign[ap]].astype(np.int64)
    lo = np.array([x.payments.lo for x in app.kinds])[kind]
    hi = np.array([x.payments.hi for x in app.kinds])[kind]
    rows, k = _expand(ap, between(v[ap, 2], lo, hi))
    w = act_uniforms(rows, k)
    c = plan.campaign[rows]
    at = np.searchsorted(ap, rows)
    span = w[:, 0] * plan.days[c]
    ts = _moment(places, plan.start_day[c] + np.floor(span).astype(np.int64), span % 1.0, plan.party[rows])
    victim_country = places.party_country[plan.party[rows]]
    med = np.array([x.amount_usd.median for x in app.kinds])[kind[at]]
    sig = np.array([x.amount_usd.sigma for x in app.kinds])[kind[at]]
    paid = _money(log_normal(w[:, 1], med, sig), victim_country, places, note_usd=1.0)
    out.add(places, **common(rows, k), ts_utc=ts, flow_type=np.full(rows.size, TRANSFER), payee=plan.mule[c],
            merchant_country=np.full(rows.size, -1), amount=paid)
    mule, second = plan.mule[c], plan.second_mule[c]
    fwd_at = ts + (log_normal(w[:, 2], app.forward_hours.median, app.forward_hours.sigma, app.forward_hours.cap)
                   * _HOUR_US).astype(np.int64) + 60_000_000
    fwd = paid * (app.forward_share[0] + w[:, 3] * (app.forward_share[1] - app.forward_share[0]))
    ok = (mule >= 0) & (second >= 0) & (mule != second)
    mule_country = places.party_country[np.maximum(mule, 0)]
    out.add(places, campaign=c[ok], target=rows[ok], unit=(plan.serial[rows[ok]] << 16) + 500 + k[ok], party=mule[ok],
            role=np.full(ok.sum(), MULE), ts_utc=fwd_at[ok], flow_type=np.full(ok.sum(), TRANSFER), payee=second[ok],
            merchant_country=np.full(ok.sum(), -1),
            amount=_money(fwd[ok] / places.price_fx[mule_country[ok]], mule_country[ok], places))
    card = places.first_card[np.maximum(second, 0)]
    cash = ok & (w[:, 4] < app.cash_out_share) & (card >= 0)
    second_country = places.party_country[np.maximum(second, 0)]
    # A mule takes the cash out at a machine near home, where its card is used to being, or where
    # its country's machines see volume when the nearest lie abroad (or anywhere, in a world
    # whose country has none).
    site = places.near_cash.pick(w[cash, 5], places.home_lat[second[cash]], places.home_lon[second[cash]])
    abroad = (site < 0) | (places.site_country[np.maximum(site, 0)] != second_country[cash])
    site[abroad] = places.cash_sites.pick(w[cash, 5][abroad], second_country[cash][abroad], True)
    sc = places.site_country[np.maximum(site, 0)]
    out.add(places, campaign=c[cash], target=rows[cash], unit=(plan.serial[rows[cash]] << 16) + 700 + k[cash],
            party=second[cash], role=np.full(cash.sum(), MULE),
            ts_utc=fwd_at[cash] + ((0.5 + w[cash, 6] * 5) * _HOUR_US).astype(np.int64),
            flow_type=np.full(cash.sum(), ATM_WITHDRAWAL), instrument=card[cash], site=site,
            device=_csr_pick(w[cash, 7], places.terminal_offsets, places.terminal_list, site),
            amount=_money(np.minimum(fwd[cash] / places.price_fx[second_country[cash]], _ATM_LIMIT_USD), sc, places,
                          note_usd=20.0))

    # --- refund abuse: online purchases whose full refund is claimed within days
    r = policy.refund_abuse
    ra = np.flatnonzero(t_type == REFUND)
    mean = r.purchases_per_week * plan.days[plan.campaign[ra]] / 7.0
    rows, k = _expand(ra, poisson.ppf(v[ra, 2], mean).astype(np.int64))
    w = act_uniforms(rows, k)
    c = plan.campaign[rows]
    edge = places.edges.pick(w[:, 1], places.party_country[plan.party[rows]], w[:, 4] < places.domestic_share)
    span = w[:, 0] * plan.days[c]
    out.add(places, **common(rows, k),
            ts_utc=_moment(places, plan.start_day[c] + np.floor(span).astype(np.int64), span % 1.0, plan.party[rows]),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            amount=_money(_usd(places, places.edge_merchant[np.maximum(edge, 0)], w[:, 2], r.amount_factor),
                          places.edge_country[np.maximum(edge, 0)], places),
            refund_days=log_normal(w[:, 3], r.refund_days.median, r.refund_days.sigma, r.refund_days.cap))

    # --- merchant collusion: ring cards buy at the colluding merchant, more as the bust-out nears
    m = policy.merchant_collusion
    co = np.flatnonzero(t_type == COLLUSION)
    mean = m.per_card_per_day * plan.days[plan.campaign[co]]
    rows, k = _expand(co, poisson.ppf(v[co, 2], mean).astype(np.int64))
    w = act_uniforms(rows, k)
    c = plan.campaign[rows]
    # Later days carry more of the acts: the day offset is drawn with density rising along the window.
    x = np.sqrt(w[:, 0]) * plan.days[c]
    merchant = plan.merchant[c]
    site = _nearest_site(places, plan.party[rows], merchant)
    edge = np.where(site < 0, _csr_pick(w[:, 1], places.merchant_edge_offsets, places.merchant_edges, merchant), -1)
    country = np.where(site >= 0, places.site_country[np.maximum(site, 0)], places.edge_country[np.maximum(edge, 0)])
    keep = (site >= 0) | (edge >= 0)
    usd = _usd(places, np.maximum(merchant, 0), w[:, 2], m.amount_factor) * (1 + m.growth_per_day) ** x
    # A bust-out runs each card up to its credit line: the payment that would pass it is not made.
    usd = np.minimum(usd, m.limit_usd)
    keep &= _running_total(rows, x, usd) <= m.limit_usd
    dev = np.where(site >= 0, _csr_pick(w[:, 3], places.terminal_offsets, places.terminal_list, site),
                   pick(w[:, 3], places.farm_devices))
    cols = dict(**common(rows, k),
                ts_utc=_moment(places, plan.start_day[c] + np.floor(x).astype(np.int64), x % 1.0, plan.party[rows]),
                flow_type=np.where(site >= 0, CP_PURCHASE, CNP_PURCHASE), instrument=plan.instrument[rows],
                site=site, edge=edge, device=dev, amount=_money(usd, country, places))
    out.add(places, **{n: np.asarray(col)[keep] for n, col in cols.items()})
    acts = out.acts()
    acts = acts.rows((acts.flow_type == TRANSFER) | (acts.instrument >= 0))  # a card payment needs a card
    # Purchases end in price points like everyone's (x.99, round numbers); the tiny card tests do not.
    shop = ((acts.flow_type == CP_PURCHASE) | (acts.flow_type == CNP_PURCHASE)) & (acts.amount > 5 * places.minor_unit[
        np.maximum(acts.merchant_country, 0)] * 100)
    rows = np.flatnonzero(shop)
    priced = np.empty(rows.size)
    _price_points(acts.amount[rows], uniforms(act_key, cid[acts.campaign[rows]], acts.unit[rows] + (1 << 40), 1)[:, 0],
                  places.ninety_nine, places.round_share, places.minor_unit[acts.merchant_country[rows]], priced)
    acts.amount[rows] = priced
    return acts
