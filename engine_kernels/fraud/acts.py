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

from engine_kernels.fraud.draws import between, log_normal, pick, uniforms
from engine_kernels.fraud.plan import APP, ATO, CARD_TESTING, COLLUSION, DAY_US, MULE, REFUND, STOLEN, Plan
from engine_kernels.fraud.policy import FraudPolicy
from engine_kernels.vocabulary import ATM_WITHDRAWAL, CNP_PURCHASE, CP_PURCHASE, TRANSFER

__all__ = ["Acts", "Places", "draw_acts"]

_HOUR_US = 3_600_000_000
_BURST_HOURS = 3.0  # a card-testing burst runs through its cards within a few hours
_ATM_LIMIT_USD = 500.0  # a day's cash machine limit caps what a mule takes out at once


@dataclass
class Places:
    """Where campaigns act and with what, as indices into the world's arrays."""

    risky_edges: np.ndarray  # edges of merchants selling what resells (digital goods, electronics, travel)
    risky_sites: np.ndarray  # sites of such merchants
    edges: np.ndarray  # every edge
    edge_merchant: np.ndarray
    edge_country: np.ndarray
    cash_sites: np.ndarray  # sites of cash machines, sorted by country
    cash_offsets: np.ndarray  # per country, over cash_sites
    site_merchant: np.ndarray
    site_country: np.ndarray
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


def _expand(target_rows: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(target row, act number) of every act, `counts[i]` acts for target_rows[i]."""
    rows = np.repeat(target_rows, counts)
    first = np.repeat(np.cumsum(counts) - counts, counts)
    return rows, np.arange(rows.size) - first


def draw_acts(keys, policy: FraudPolicy, plan: Plan, places: Places) -> Acts:
    """Every act of the plan's campaigns; `keys(label)` gives a substream label's key."""
    from engine_kernels.randomness import substreams

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
    edge = pick((plan.anchor_u[c] * 7919 + (k % 3) / 3.0) % 1.0, places.risky_edges)
    country = places.edge_country[np.maximum(edge, 0)]
    probe = p.probe_usd[0] + w[:, 1] * (p.probe_usd[1] - p.probe_usd[0])  # 0-2 units of the local money
    out.add(places, **common(rows, k), ts_utc=burst + (w[:, 0] * _BURST_HOURS * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            device=pick(w[:, 2], places.farm_devices), ip=pick(w[:, 3], places.risky_ips),
            amount=np.maximum(np.round(probe / places.minor_unit[country]) * places.minor_unit[country],
                              places.minor_unit[country]),
            invalid=v[rows, 3] < p.invalid_share)
    works = ct[v[ct, 3] >= p.invalid_share]
    rows, k = _expand(works, between(v[works, 4], p.charges.lo, p.charges.hi))
    w = act_uniforms(rows, 1000 + k)
    c = plan.campaign[rows]
    after = log_normal(w[:, 0], p.charge_hours.median, p.charge_hours.sigma, p.charge_hours.cap)
    edge = pick(w[:, 1], places.risky_edges)
    out.add(places, **common(rows, 1000 + k),
            ts_utc=day_start[c] + (plan.anchor_u[c] * 0.8 * DAY_US).astype(np.int64)
            + ((_BURST_HOURS + after) * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            device=pick(w[:, 2], places.farm_devices), ip=pick(w[:, 3], places.risky_ips),
            amount=_money(log_normal(w[:, 4], p.charge_usd.median, p.charge_usd.sigma),
                          places.edge_country[np.maximum(edge, 0)], places))

    # --- stolen cards: used days after the compromise, online or at cash machines abroad; adapted
    # campaigns buy ordinary things for less, from addresses in the victim's country
    st = np.flatnonzero(t_type == STOLEN)
    s = policy.stolen_cards
    exposed = plan.start_day[plan.campaign[st]] + np.floor(v[st, 2] * plan.days[plan.campaign[st]]).astype(np.int64)
    first_use = exposed + between(v[st, 3], s.lead_days.lo, s.lead_days.hi)
    per_day = between(v[st, 5], s.per_day.lo, s.per_day.hi)
    rows, k = _expand(st, between(v[st, 4], s.days.lo, s.days.hi) * per_day)
    w = act_uniforms(rows, k)
    at = np.searchsorted(st, rows)
    ts = (first_use[at] + k // per_day[at]) * DAY_US + (w[:, 0] * DAY_US).astype(np.int64)
    adapted_from = plan.adapted_from[plan.campaign[rows]]
    adapted = (adapted_from >= 0) & (ts >= adapted_from)
    online = adapted | (w[:, 1] < s.online_share)
    victim_country = places.party_country[plan.party[rows]]
    edge = np.where(online, np.where(adapted, pick(w[:, 2], places.edges), pick(w[:, 2], places.risky_edges)), -1)
    cash = ~online & (w[:, 6] < 0.5)  # a counterfeit card at a cash machine, or buying goods that resell
    site = np.where(online, -1, np.where(cash, pick(w[:, 2], places.cash_sites), pick(w[:, 2], places.risky_sites)))
    country = np.where(online, places.edge_country[np.maximum(edge, 0)], places.site_country[np.maximum(site, 0)])
    usd = log_normal(w[:, 3], s.amount_usd.median, s.amount_usd.sigma)
    usd = np.where(adapted, usd * policy.adaptation.amount_factor, usd)
    ip = np.where(adapted, _csr_pick(w[:, 4], places.other_ip_offsets, places.other_ip_list, victim_country),
                  pick(w[:, 4], places.risky_ips))
    out.add(places, **common(rows, k), ts_utc=ts,
            flow_type=np.where(online, CNP_PURCHASE, np.where(cash, ATM_WITHDRAWAL, CP_PURCHASE)),
            instrument=plan.instrument[rows], edge=edge, site=site,
            device=np.where(online, pick(w[:, 5], places.farm_devices),
                            _csr_pick(w[:, 5], places.terminal_offsets, places.terminal_list, site)),
            ip=np.where(online, ip, -1), amount=_money(usd, country, places, note_usd=np.where(cash, 20.0, 0.0)))

    # --- account takeover: a new device and address, then transfers draining the account to a mule,
    # and purchases online
    a = policy.account_takeover
    ato = np.flatnonzero(t_type == ATO)
    t0 = day_start[plan.campaign[ato]] + (v[ato, 2] * plan.days[plan.campaign[ato]] * DAY_US).astype(np.int64)
    device = pick(v[ato, 3], places.farm_devices)
    victim_country = places.party_country[plan.party[ato]]
    ip = np.where(v[ato, 4] < 0.5, pick(v[ato, 5], places.risky_ips),
                  _csr_pick(v[ato, 5], places.other_ip_offsets, places.other_ip_list, victim_country))
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
    edge = pick(w[:, 1], places.edges)
    out.add(places, **common(rows, 100 + k), ts_utc=t0[at] + ((0.5 + w[:, 0] * 6) * _HOUR_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            device=device[at], ip=ip[at],
            amount=_money(log_normal(w[:, 2], a.amount_usd.median, a.amount_usd.sigma),
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
    ts = day_start[c] + (w[:, 0] * plan.days[c] * DAY_US).astype(np.int64)
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
            amount=np.maximum(np.round(fwd[ok] / places.minor_unit[mule_country[ok]]) * places.minor_unit[mule_country[ok]],
                              places.minor_unit[mule_country[ok]]))
    card = places.first_card[np.maximum(second, 0)]
    cash = ok & (w[:, 4] < app.cash_out_share) & (card >= 0)
    second_country = places.party_country[np.maximum(second, 0)]
    site = _csr_pick(w[cash, 5], places.cash_offsets, places.cash_sites, second_country[cash])
    site = np.where(site >= 0, site, pick(w[cash, 5], places.cash_sites))
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
    edge = pick(w[:, 1], places.edges)
    out.add(places, **common(rows, k), ts_utc=day_start[c] + (w[:, 0] * plan.days[c] * DAY_US).astype(np.int64),
            flow_type=np.full(rows.size, CNP_PURCHASE), instrument=plan.instrument[rows], edge=edge,
            amount=_money(log_normal(w[:, 2], r.amount_usd.median, r.amount_usd.sigma),
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
    site = _csr_pick(w[:, 1], places.merchant_site_offsets, places.merchant_sites, merchant)
    edge = np.where(site < 0, _csr_pick(w[:, 1], places.merchant_edge_offsets, places.merchant_edges, merchant), -1)
    country = np.where(site >= 0, places.site_country[np.maximum(site, 0)], places.edge_country[np.maximum(edge, 0)])
    keep = (site >= 0) | (edge >= 0)
    usd = log_normal(w[:, 2], m.amount_usd.median, m.amount_usd.sigma) * (1 + m.growth_per_day) ** x
    dev = np.where(site >= 0, _csr_pick(w[:, 3], places.terminal_offsets, places.terminal_list, site),
                   pick(w[:, 3], places.farm_devices))
    cols = dict(**common(rows, k), ts_utc=day_start[c] + (x * DAY_US).astype(np.int64),
                flow_type=np.where(site >= 0, CP_PURCHASE, CNP_PURCHASE), instrument=plan.instrument[rows],
                site=site, edge=edge, device=dev, amount=_money(usd, country, places))
    out.add(places, **{n: np.asarray(col)[keep] for n, col in cols.items()})
    acts = out.acts()
    return acts.rows((acts.flow_type == TRANSFER) | (acts.instrument >= 0))  # a card payment needs a card
