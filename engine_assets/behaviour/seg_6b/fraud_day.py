"""A day's share of the fraud plan: the campaigns' acts as flows in the day's columns, and the
first-party claims on the day's genuine purchases.

Acts are payments like any other: their unit is (campaign id, target serial · 2^16 + act), they are
ranked with the day's flows by (ts_utc, unit) and go through the same lifecycle. Where an act uses
the payer's own means (a scam victim's phone, an abuser's own card online) they are chosen by the
same keyed kernel as a legitimate payment's.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np

from engine_assets.behaviour.seg_6b.campaigns import Fraud
from engine_assets.behaviour.seg_6b.world import World
from engine_kernels.civil_time.transitions import utc_to_local
from engine_kernels.fraud.bank import BankView
from engine_kernels.fraud.plan import DAY_US, FIRST_PARTY, FRAUDSTER
from engine_kernels.fraud.rule import is_member
from engine_kernels.vocabulary import ATM_WITHDRAWAL, CNP_PURCHASE, IP_TYPES, TRANSFER

LEGIT = 0  # LABELS[0]; a fraud type t is label t + 1


@dataclass
class Truth:
    """Per flow of the day: its label (LABELS code), campaign id (0 for none), the payer's role
    (LABEL_ROLES code, -1), and what the bank's rule and the lifecycle need of the campaign."""

    label: np.ndarray
    campaign_id: np.ndarray
    role: np.ndarray
    invalid: np.ndarray  # a card-testing probe of a dead card
    refund_days: np.ndarray  # nan unless a refund is claimed
    rule_score: np.ndarray | None = None
    rule_decision: np.ndarray | None = None  # RULE_DECISIONS code
    bank: BankView | None = None

    def rows(self, rows: slice) -> "Truth":
        bank = None if self.bank is None else BankView(*(v[rows] for v in vars(self.bank).values()))
        return dataclasses.replace(self, bank=bank, **{k: None if v is None else v[rows] for k, v in vars(self).items()
                                                      if k != "bank"})


def day_acts(world: World, fraud: Fraud, day: dt.date, equip, rails_of) -> tuple[dict, dict] | None:
    """The day's acts as the columns build_day concatenates, and what else they carry (rails, payee
    country, label, campaign, role, invalid, refund_days); None when there are none.
    `equip(unit_a, unit_b, flow_type, party, site)` and `rails_of(payer, payee)` are the day's own."""
    start = (day - dt.date(1970, 1, 1)).days * DAY_US
    acts = fraud.acts
    lo, hi = np.searchsorted(acts.ts_utc, [start, start + DAY_US])
    if hi <= lo:
        return None
    a = acts.rows(slice(lo, hi))
    n = a.size
    plan = fraud.plan
    unit_a = plan.campaign_id[a.campaign]
    unit_b = a.unit.astype(np.uint64)
    flow_type = a.flow_type
    transfer = flow_type == TRANSFER
    own_card, own_device, own_ip = equip(unit_a, unit_b, flow_type.astype(np.int8), a.party, a.site)
    instrument = np.where(transfer, world.handle[a.party], a.instrument)
    # In store the site's terminal and its line answer, as for everyone; remotely the act's own
    # device and address, or the payer's.
    in_store = (flow_type != CNP_PURCHASE) & ~transfer
    device = np.where(in_store | (a.device < 0), own_device, a.device)
    ip = np.where(in_store | (a.ip < 0), own_ip, a.ip)
    rails, rail, payee_country = rails_of(a.party, a.payee)
    rail = np.where(transfer, rail, -1)
    country = np.where(transfer, world.party_country[a.party], a.merchant_country)
    zone = np.where(a.edge >= 0, world.edge_zone[np.maximum(a.edge, 0)],
                    np.where(a.site >= 0, world.site_zone[np.maximum(a.site, 0)], world.home_zone[a.party]))
    zone = np.where(zone >= 0, zone, world.home_zone[a.party])
    sector = np.where(a.merchant >= 0, world.merchant_sector[np.maximum(a.merchant, 0)], -1)
    policy = world.identity.policies.flows.model
    median_usd = np.where(sector >= 0, policy.amounts.median_usd[np.maximum(sector, 0)],
                          policy.transfers.p2p_amount.median)
    return dict(
        unit_a=unit_a, unit_b=unit_b, arrival_id=np.zeros(n, np.uint64), flow_type=flow_type,
        transfer_kind=np.where(transfer, 0, -1), attachment=np.full(n, -1), ts_utc=a.ts_utc,
        ts_local=utc_to_local(a.ts_utc, zone, world.transitions), zone=zone, party=a.party, instrument=instrument,
        device=device, ip=ip, merchant=np.where(transfer, -1, a.merchant),
        merchant_country=np.where(transfer, -1, country),
        site=a.site, edge=a.edge, payee=a.payee, rail=rail, amount=a.amount, currency=country,
        median=median_usd * world.money.price_fx[country], sector=sector,
    ), dict(rails=rails, payee_country=np.where(transfer, payee_country, -1),
            label=(plan.fraud_type[a.campaign] + 1).astype(np.int8), campaign=a.campaign, role=a.role.astype(np.int8),
            invalid=a.invalid, refund_days=a.refund_days)


def first_party_claims(world: World, fraud: Fraud, party: np.ndarray, ts_utc: np.ndarray, flow_type: np.ndarray,
                       amount: np.ndarray, currency: np.ndarray) -> np.ndarray:
    """Row of the first-party campaign claiming each flow, -1 for none: a fraudster's own online
    purchases above the policy's amount inside the campaign's window."""
    plan = fraud.plan
    mine = plan.fraud_type[plan.campaign] == FIRST_PARTY
    who, row = plan.party[mine], plan.campaign[mine]
    out = np.full(party.size, -1, np.int64)
    if who.size == 0:
        return out
    order = np.argsort(who, kind="stable")
    who, row = who[order], row[order]
    at = np.minimum(np.searchsorted(who, party), who.size - 1)
    hit = who[at] == party
    c = row[at]
    start = plan.start_day[c] * DAY_US
    end = (plan.start_day[c] + plan.days[c]) * DAY_US
    usd = amount / world.money.price_fx[currency]
    least = world.identity.policies.fraud.model.first_party_min_usd
    claim = hit & (flow_type == CNP_PURCHASE) & (ts_utc >= start) & (ts_utc < end) & (usd >= least)
    out[claim] = c[claim]
    return out


def truth(world: World, fraud: Fraud | None, acts: dict | None, n_legit: int, order: np.ndarray, f: dict) -> Truth:
    """The ranked day's truth: the acts' labels where `order` points past the legitimate flows,
    then the first-party claims on the rest."""
    n = order.size
    label, row = np.zeros(n, np.int8), np.full(n, -1, np.int64)
    role, invalid, refund = np.full(n, -1, np.int8), np.zeros(n, bool), np.full(n, np.nan)
    if acts is not None:
        at = np.flatnonzero(order >= n_legit)
        j = order[at] - n_legit
        label[at], row[at], role[at] = acts["label"][j], acts["campaign"][j], acts["role"][j]
        invalid[at], refund[at] = acts["invalid"][j], acts["refund_days"][j]
    if fraud is not None:
        claim = first_party_claims(world, fraud, f["party"], f["ts_utc"], f["flow_type"], f["amount"], f["currency"])
        claim[label != 0] = -1
        hit = claim >= 0
        label[hit], row[hit], role[hit] = FIRST_PARTY + 1, claim[hit], FRAUDSTER
    campaign_id = np.zeros(n, np.uint64)
    if fraud is not None:
        campaign_id[row >= 0] = fraud.plan.campaign_id[row[row >= 0]]
    return Truth(label, campaign_id, role, invalid, refund)


def rule_features(world: World, f: dict, cross: np.ndarray) -> list[np.ndarray]:
    """The rule's inputs (RULE_FEATURES order), each a float32 array over the ranked day."""
    flow_type, device, ip, party = f["flow_type"], f["device"], f["ip"], f["party"]
    remote = (flow_type == CNP_PURCHASE) | (flow_type == TRANSFER)
    new_device = remote & (device >= 0) & ~is_member(world.device_offsets, world.device_list, party, device)
    has_ip = ip >= 0
    ip_type = np.where(has_ip, world.ip_type[np.maximum(ip, 0)], -1)
    risky = (ip_type == IP_TYPES.index("datacentre")) | (ip_type == IP_TYPES.index("vpn_proxy"))
    mismatch = has_ip & (world.ip_country[np.maximum(ip, 0)] != world.party_country[party])
    hour = (f["ts_local"] // 3_600_000_000) % 24
    usual = np.clip(np.log(np.maximum(f["amount"] / f["median"], 1e-9)), 0.0, 3.0)
    return [x.astype(np.float32) for x in (new_device, risky, mismatch, flow_type == CNP_PURCHASE, cross, hour < 6,
                                           flow_type == ATM_WITHDRAWAL, usual)]
