"""One (scenario, day) of payments: every arrival's payer and means, the day's transfers, every
flow's lifecycle and events, and the online sessions.

Each step is a kernel of engine_kernels/flows keyed on the flow's unit (an arrival id, or a party
id and the transfer's day, kind and rank), so the day is the same computed alone or in any batch.
Flows are ranked by (ts_utc, unit) and flow_id carries the scenario, day and rank.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from engine_assets.behaviour.seg_6b.campaigns import Fraud
from engine_assets.behaviour.seg_6b.fraud_day import Truth, day_acts, rule_features, truth as _truth
from engine_assets.behaviour.seg_6b.world import World, codes_of, index_of, zone_offsets
from engine_kernels.civil_time.transitions import utc_to_local
from engine_kernels.flows.attach import attach_arrivals, equip
from engine_kernels.flows.lifecycle import Lifecycle, draw_amounts, expand_events, lifecycle
from engine_kernels.flows.order import put, rank_order, take
from engine_kernels.flows.sessions import Sessions, sessionise
from engine_kernels.flows.transfers import BILL, P2P, SALARY, day_transfers
from engine_kernels.fraud.bank import bank_view
from engine_kernels.fraud.draws import uniforms
from engine_kernels.fraud.profile import profile_changes
from engine_kernels.fraud.rule import rule_scores
from engine_kernels.ids import flow_ids, session_ids
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import ATM_WITHDRAWAL, CNP_PURCHASE, CP_PURCHASE, DECLINE_REASONS, LABELS, TRANSFER

_DAY_US = 86_400_000_000
# Columns a day carries in narrower types than the kernels return: codes, and indices into the
# world's arrays (the reference world has 15M instruments); a day holds ~2-3M flows.
_NARROW = {"flow_type": np.int8, "transfer_kind": np.int8, "attachment": np.int8, "rail": np.int8, "sector": np.int8,
           **{k: np.int32 for k in ("zone", "party", "instrument", "device", "ip", "merchant", "merchant_country",
                                    "site", "edge", "payee", "currency")}}
ARRIVAL_COLUMNS = ["arrival_id", "ts_utc", "merchant_id", "legal_country_iso", "site_id", "edge_id", "is_virtual",
                   "tzid", "ts_local", "channel_group"]


@dataclass
class DayFlows:
    """Columns of a day's flows in flow_id order (indices into World arrays; -1 where none)."""

    flow_id: np.ndarray
    arrival_id: np.ndarray  # 0 for transfers
    flow_type: np.ndarray
    transfer_kind: np.ndarray  # -1 for card flows
    attachment: np.ndarray  # -1 for transfers
    ts_utc: np.ndarray
    ts_local: np.ndarray
    tzid: list[str]  # per flow, as the zone name's index into `zones`
    zone: np.ndarray
    party: np.ndarray
    account_id: np.ndarray  # uint64, 0 where none
    instrument: np.ndarray
    device: np.ndarray
    ip: np.ndarray
    merchant: np.ndarray
    merchant_country: np.ndarray
    site: np.ndarray
    edge: np.ndarray
    payee: np.ndarray
    payee_account_id: np.ndarray
    rail: np.ndarray  # index into rails, -1 for card flows
    rails: list[str]
    amount: np.ndarray
    currency: np.ndarray  # country index whose currency it is
    billing_amount: np.ndarray
    billing_currency: np.ndarray
    cross_border: np.ndarray
    life: Lifecycle
    session: np.ndarray  # rank of the flow's session in the day, -1 offline
    session_id: np.ndarray  # uint64, 0 offline
    truth: Truth


    def rows(self, rows: slice) -> "DayFlows":
        """The flows of a slice of rows (views, no copy)."""
        return dataclasses.replace(self, life=self.life.rows(rows), truth=self.truth.rows(rows), **{
            f.name: getattr(self, f.name)[rows] for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)})


@dataclass
class Day:
    flows: DayFlows
    events: tuple
    sessions: Sessions
    words: dict[str, int]


def _card_flows(world: World, arrivals: pl.DataFrame, pools: tuple[np.ndarray, np.ndarray]):
    """Payer, means and amounts of every arrival, in site order: the ids are then looked up and
    each site's regulars and neighbours read in order rather than at random (flows are ranked
    afterwards, and every draw is keyed on the arrival, so this order shows nowhere)."""
    policy = world.identity.policies.flows.model
    att = policy.attachment
    n = arrivals.height
    order = np.argsort(arrivals["site_id"].fill_null(np.iinfo(np.uint64).max).to_numpy())

    def column(name: str, fill=None) -> np.ndarray:
        values = arrivals[name]
        return take(values.fill_null(fill).to_numpy() if fill is not None else values.to_numpy(), order)

    arrival_id = column("arrival_id")
    merchant = index_of(world.merchant_id, column("merchant_id"), "seg_5b/arrival_events.merchant_id")
    acquirer = take(codes_of(arrivals["legal_country_iso"], world.countries), order)
    virtual = column("is_virtual")
    online = take(codes_of(arrivals["channel_group"], ["card_not_present"], -1) == 0, order)
    site = np.full(n, -1, np.int64)
    site[~virtual] = index_of(world.site_id, column("site_id", 0)[~virtual], "seg_5b/arrival_events.site_id")
    edge = np.full(n, -1, np.int64)
    edge[virtual] = index_of(world.edge_id, column("edge_id", 0)[virtual], "seg_5b/arrival_events.edge_id")
    market = np.where(virtual, world.edge_country[np.maximum(edge, 0)], acquirer)
    sector = world.merchant_sector[merchant]
    keys, sizes = pools
    wanted = merchant * len(world.countries) + market
    at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
    pool = np.where((keys.size > 0) & (keys[at] == wanted), sizes[at] if keys.size else 0, 0).astype(np.int64)
    flow_type = np.where(online, CNP_PURCHASE, np.where(world.merchant_is_cash[merchant], ATM_WITHDRAWAL, CP_PURCHASE))
    party, how = np.empty(n, np.int64), np.empty(n, np.int8)
    key = world.identity.substream_key
    attach_arrivals(np.uint64(key(substreams.ATTACH)), np.uint64(key(substreams.ONLINE_POOL)), arrival_id, online,
                    site, market, world.merchant_id[merchant], att.regular_share[sector], pool, att.travel_share,
                    att.domestic_share, att.online_regular_share, att.online_foreign_share,
                    world.regular_offsets, world.regular_party, world.neighbour_offsets, world.neighbour_party,
                    world.country_offsets, world.country_party, world.party_country, party, how)
    zero = np.zeros(n, np.uint64)
    instrument, device, ip = _equip(world, arrival_id, zero, flow_type.astype(np.int8), party, site)
    money = world.money
    amounts = policy.amounts
    amount = np.empty(n)
    median = amounts.median_usd[sector] * money.price_fx[acquirer]
    draw_amounts(np.uint64(key(substreams.AMOUNT)), arrival_id, zero, flow_type.astype(np.int8), median,
                 amounts.sigma[sector], money.minor_unit[acquirer], amounts.ninety_nine, amounts.round_share,
                 amounts.atm_values, amounts.atm_weights, money.price_fx[acquirer], amount)
    return order, dict(
        unit_a=arrival_id, unit_b=zero, arrival_id=arrival_id, flow_type=flow_type, transfer_kind=np.full(n, -1),
        attachment=how.astype(np.int64), ts_utc=take(arrivals["ts_utc"].dt.epoch("us").to_numpy(), order),
        ts_local=take(arrivals["ts_local"].dt.epoch("us").to_numpy(), order),
        zone=take(codes_of(arrivals["tzid"], world.transitions.tzids), order),
        party=party, instrument=instrument, device=device, ip=ip, merchant=merchant, merchant_country=acquirer,
        site=site, edge=edge, payee=np.full(n, -1), rail=np.full(n, -1), amount=amount, currency=acquirer,
        median=median, sector=sector)


def _equip(world: World, unit_a, unit_b, flow_type, party, site):
    """The kernel runs over the flows in party order: a party's cards, tokens, devices and
    addresses lie together in the world's lists, so it streams through them instead of missing
    the cache at every flow (half the time at the reference scale); the draws are keyed, so the
    order changes nothing else."""
    n = party.size
    order = np.argsort(party)
    instrument, device, ip = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    att = world.identity.policies.flows.model.attachment
    equip(np.uint64(world.identity.substream_key(substreams.EQUIP)), take(unit_a, order), take(unit_b, order),
          take(flow_type, order), take(party, order), take(site, order), world.party_country, att.card_decay,
          np.append(att.wallet_share, [0.0, 0.0]), att.other_ip_share, world.card_offsets, world.card_list,
          world.card_is_debit, world.token_offsets, world.token_list, world.device_offsets, world.device_list,
          world.terminal_offsets, world.terminal_list, world.ip_offsets, world.ip_list, world.other_ip_offsets,
          world.other_ip_list, instrument, device, ip)
    return put(instrument, order), put(device, order), put(ip, order)


def _rails(world: World, payer: np.ndarray, payee: np.ndarray):
    """(rail names, each transfer's rail, payee country): the payer country's domestic rail, SWIFT abroad."""
    payer_country = world.party_country[payer]
    payee_country = np.where(payee >= 0, world.party_country[np.maximum(payee, 0)], payer_country)
    rails = sorted(set(world.money.rail)) + ["SWIFT"]
    rail = np.array([rails.index(r) for r in world.money.rail], np.int64)[payer_country]
    rail[payee_country != payer_country] = len(rails) - 1
    return rails, rail, payee_country


def _transfers(world: World, day: dt.date):
    policy = world.identity.policies.flows.model.transfers
    start = int((dt.datetime.combine(day, dt.time()) - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    next_month = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    last_day = (next_month - dt.timedelta(days=1)).day
    offsets = zone_offsets(world.transitions, start + _DAY_US // 2)[world.home_zone]
    per_day = 12 / 365.25
    payer, payee, biller, kind, origin, unit, ts, amount = day_transfers(
        np.uint64(world.identity.substream_key(substreams.TRANSFER)), (day - dt.date(1970, 1, 1)).days, start,
        day.day, last_day, world.party_id, world.party_type, world.salaried, world.income, world.party_country, offsets,
        world.spatial, world.position, world.household, world.all_country_offsets, world.employer_offsets,
        world.employers, world.payer_offsets, world.payers, world.biller_offsets, world.billers, world.money.price_fx,
        world.money.minor_unit, policy.p2p_per_month * per_day, policy.bills_per_month * per_day,
        policy.household_share, policy.abroad_share, policy.neighbourhood, policy.paydays, policy.payday_weights,
        policy.salary_usd, policy.salary_sigma, policy.benefit_usd, policy.benefit_sigma, policy.p2p_amount.median,
        policy.p2p_amount.sigma, policy.p2p_round_share, policy.bill_amount.median, policy.bill_amount.sigma,
        policy.hours, world.identity.policies.flows.model.amounts.ninety_nine,
        world.identity.policies.flows.model.amounts.round_share, world.transfer_streams)
    n = payer.size
    unit_a = world.party_id[origin]
    instrument, device, ip = _equip(world, unit_a, unit, np.full(n, TRANSFER, np.int8), payer, np.full(n, -1))
    instrument = world.handle[payer]
    credit = kind >= SALARY
    device[credit], ip[credit] = -1, -1  # employers' and public bodies' payroll runs are not sessions
    payer_country = world.party_country[payer]
    rails, rail, payee_country = _rails(world, payer, payee)
    local = utc_to_local(ts, world.home_zone[payer], world.transitions)
    medians = np.select([kind == P2P, kind == BILL], [policy.p2p_amount.median, policy.bill_amount.median],
                        np.where(kind == SALARY, policy.salary_usd[world.income[np.maximum(payee, 0)]],
                                 policy.benefit_usd[world.income[np.maximum(payee, 0)]]))
    merchant_country = np.full(n, -1, np.int64)
    merchant_country[biller >= 0] = payer_country[biller >= 0]
    return dict(unit_a=unit_a, unit_b=unit, arrival_id=np.zeros(n, np.uint64), flow_type=np.full(n, TRANSFER),
                transfer_kind=kind.astype(np.int64), attachment=np.full(n, -1), ts_utc=ts, ts_local=local,
                zone=world.home_zone[payer], party=payer, instrument=instrument, device=device, ip=ip,
                merchant=biller, merchant_country=merchant_country, site=np.full(n, -1), edge=np.full(n, -1),
                payee=payee, rail=rail, rails=rails, amount=amount, currency=payer_country,
                median=medians * world.money.price_fx[payer_country], sector=np.full(n, -1)), payee_country


def _ranked(arrivals: pl.DataFrame, both: dict, n_card: int, site_order: np.ndarray) -> np.ndarray:
    """Positions in `both` (card flows in site order, then transfers) of the flows ranked by
    (ts_utc, unit). The arrivals are ranked in their own order, which is nearly by time, so the
    sort is cheap; each then points at its row in site order."""
    keys = [np.concatenate([first, both[k][n_card:]]) for first, k in (
        (arrivals["ts_utc"].dt.epoch("us").to_numpy(), "ts_utc"), (arrivals["arrival_id"].to_numpy(), "unit_a"),
        (np.zeros(n_card, np.uint64), "unit_b"))]  # a card flow's unit is (arrival_id, 0)
    ranked = rank_order(*keys)
    if n_card == 0:
        return ranked
    at = put(np.arange(n_card), site_order)  # the site-order row of each arrival
    return np.where(ranked < n_card, take(at, np.minimum(ranked, n_card - 1)), ranked)


def build_day(world: World, scenario: str, day: dt.date, arrivals: pl.DataFrame, pools,
              fraud: Fraud | None = None) -> Day:
    identity = world.identity
    policy = identity.policies.flows.model
    key = identity.substream_key
    start = int((dt.datetime.combine(day, dt.time()) - dt.datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    site_order, card = _card_flows(world, arrivals, pools)
    moves, payee_country = _transfers(world, day)
    zones = world.transitions.tzids
    rails = moves.pop("rails")
    n_card, n_moves = card["party"].size, moves["party"].size
    parts = [card, moves]
    acts = None if fraud is None else day_acts(
        world, fraud, day, lambda *a: _equip(world, *a), lambda payer, payee: _rails(world, payer, payee))
    if acts is not None:
        parts.append(acts[0])
        acts = acts[1]
    both = {k: np.concatenate([p.pop(k) for p in parts], dtype=_NARROW.get(k), casting="same_kind")
            for k in list(card)}
    del card, moves, parts  # a reference day is ~2M flows: keep one copy of each column alive, not three
    order = _ranked(arrivals, both, n_card, site_order)
    f = {k: take(both.pop(k), order) for k in list(both)}
    n = order.size
    truth = _truth(world, fraud, acts, n_card + n_moves, order, f)
    scenario_index = identity.policies.scenarios.names.index(scenario)
    flow_id = flow_ids(scenario_index, start // _DAY_US, np.arange(n, dtype=np.uint64))
    party_country = world.party_country[f["party"]]
    money = world.money
    is_transfer = f["flow_type"] == TRANSFER
    payee = f["payee"]
    n_acts = n - n_card - n_moves
    counter_country = take(np.concatenate([np.full(n_card, -1), payee_country,
                                           acts["payee_country"] if n_acts else np.zeros(0, np.int64)]), order)
    cross = np.where(is_transfer, (counter_country != party_country) & (counter_country >= 0),
                     party_country != f["merchant_country"])
    billing_currency = np.where(is_transfer, f["currency"], party_country)
    fx = money.fx
    converted = f["amount"] / fx[f["currency"]] * fx[billing_currency] * (1 + policy.amounts.fx_markup)
    currency_code = np.unique(money.currency, return_inverse=True)[1]  # countries sharing a currency share a code
    same = currency_code[f["currency"]] == currency_code[billing_currency]
    minor = money.minor_unit[billing_currency]
    billing = np.where(same, f["amount"], np.maximum(np.round(converted / minor) * minor, minor))
    three_ds = np.where(f["flow_type"] == CNP_PURCHASE,
                        np.where(money.three_ds[party_country], 1.0, policy.authorisation.three_ds_elsewhere), 0.0)
    settle = np.zeros(n)
    rail_hours = np.array([policy.lifecycle.settlement(r) for r in rails])
    settle[is_transfer] = rail_hours[f["rail"][is_transfer]]
    declinable = ~is_transfer | (f["transfer_kind"] <= BILL)
    partial_ok = (f["flow_type"] == CP_PURCHASE) & policy.authorisation.partial_sectors[np.maximum(f["sector"], 0)]
    unit_a, unit_b = f["unit_a"].astype(np.uint64), f["unit_b"].astype(np.uint64)
    rule = identity.policies.fraud.model.bank.rule
    noise = uniforms(key(substreams.FRAUD_RULE), unit_a, unit_b, 2)
    score = rule_scores(noise[:, 0], rule_features(world, f, cross), rule)
    forced = np.where(truth.invalid, DECLINE_REASONS.index("invalid_card_data"),
                      np.where(score >= rule.threshold, DECLINE_REASONS.index("suspected_fraud"), -1))
    life = lifecycle(key(substreams.LIFECYCLE), unit_a, unit_b,
                     f["flow_type"].astype(np.int8), f["ts_utc"], f["amount"], f["amount"] / f["median"],
                     world.income[f["party"]], money.minor_unit[f["currency"]], partial_ok, three_ds, settle,
                     declinable, policy.authorisation, policy.lifecycle, forced, truth.refund_days)
    del unit_a, unit_b
    # The bank also declines for suspected fraud on signals the rule's inputs do not show (part 1
    # draws those declines at policy rates): their scores lie above the threshold it declines at.
    flagged = (life.reason == DECLINE_REASONS.index("suspected_fraud")) & (score < rule.threshold)
    score[flagged] = rule.threshold + (1 - rule.threshold) * noise[flagged, 1]
    truth.rule_score = score.astype(np.float32)
    del noise, score, forced
    answered = np.where(life.auth_at >= 0, life.auth_at + life.latency_us, -1)
    suspect = life.reason == DECLINE_REASONS.index("suspected_fraud")
    truth.rule_decision = suspect.astype(np.int8)
    truth.bank = bank_view(key(substreams.BANK_VIEW), flow_id, truth.label.astype(np.int64) - 1, truth.role,
                           f["flow_type"], f["ts_utc"], answered, (life.outcome == 0) | (life.outcome == 1), suspect,
                           identity.policies.fraud.model.bank)
    events = expand_events(f["ts_utc"], f["amount"], life)
    for spent in ("unit_a", "unit_b", "median", "sector"):  # a payday holds 3M flows: let go of what is done
        del f[spent]
    online = (f["device"] >= 0) & ((f["flow_type"] == CNP_PURCHASE) | is_transfer)
    rows = np.flatnonzero(online)
    sessions = sessionise(key(substreams.SESSION), world.party_id[f["party"][rows]], f["device"][rows], f["ip"][rows],
                          f["ts_utc"][rows], start, policy.sessions.gap_minutes, policy.sessions.lead_minutes,
                          policy.sessions.tail_minutes)
    session = np.full(n, -1, np.int32)
    session[rows] = sessions.flow_session
    sessions.session_id = session_ids(scenario_index, start // _DAY_US,
                                      np.arange(sessions.party.size, dtype=np.uint64))
    sessions.first = rows[sessions.first]
    takeover = np.zeros(sessions.party.size, bool)
    takeover[sessions.flow_session[truth.label[rows] == LABELS.index("account_takeover")]] = True
    sessions.profile_change = profile_changes(key(substreams.PROFILE_CHANGE), sessions.party, sessions.start,
                                              takeover, identity.policies.fraud.model.account_takeover.profile_change)
    flows = DayFlows(
        flow_id=flow_id, arrival_id=f["arrival_id"].astype(np.uint64), flow_type=f["flow_type"],
        transfer_kind=f["transfer_kind"], attachment=f["attachment"], ts_utc=f["ts_utc"], ts_local=f["ts_local"],
        tzid=list(zones), zone=f["zone"], party=f["party"],
        account_id=np.where(f["instrument"] >= 0, world.instrument_account[np.maximum(f["instrument"], 0)],
                            world.current_account[f["party"]]),
        instrument=f["instrument"], device=f["device"], ip=f["ip"], merchant=f["merchant"],
        merchant_country=f["merchant_country"], site=f["site"], edge=f["edge"], payee=payee,
        payee_account_id=np.where(payee >= 0, world.current_account[np.maximum(payee, 0)], 0).astype(np.uint64),
        rail=f["rail"], rails=rails, amount=f["amount"], currency=f["currency"], billing_amount=billing,
        billing_currency=billing_currency, cross_border=cross, life=life, session=session,
        session_id=np.where(session >= 0, sessions.session_id[np.maximum(session, 0)] if sessions.party.size else 0,
                            0).astype(np.uint64), truth=truth)
    words = {substreams.ATTACH: 4 * n_card, substreams.EQUIP: 8 * n, substreams.AMOUNT: 4 * n_card,
             substreams.LIFECYCLE: 16 * n, substreams.TRANSFER: 4 * world.party_id.size + 8 * n_moves,
             substreams.SESSION: 4 * sessions.party.size,
             substreams.PROFILE_CHANGE: 4 * sessions.party.size, substreams.FRAUD_RULE: 8 * n,
             substreams.BANK_VIEW: 8 * n}
    return Day(flows, events, sessions, words)
