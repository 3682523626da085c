"""Account-to-account transfers of one UTC day, per party from policy rates.

Each party draws, on its own keyed stream for the day, Poisson counts of P2P payments and bills;
retail parties are credited a salary (from a business of their country) or a benefit (from a public
body) on their keyed payday. A P2P payee is a household member or a party a few homes away (the
parties of a country listed in home-cell order, so neighbours in the list live near each other),
or this often a party abroad (SWIFT). Times follow the local hour profile in the payer's zone.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine_kernels.flows.draws import block_uniforms
from engine_kernels.flows.lifecycle import _log_normal, price_point
from engine_kernels.randomness.streams import fold_id
from engine_kernels.vocabulary import TRANSFER_KINDS

__all__ = ["day_transfers", "party_streams", "transfer_unit"]

P2P, BILL, SALARY, BENEFIT = range(len(TRANSFER_KINDS))
_DAY_S = 86_400
_HOUSEHOLD_REACH = 6


@njit(cache=True, nogil=True)
def transfer_unit(day, kind, k):
    """Second key of a transfer's unit (its payer's party id is the first): day, kind and rank."""
    return (day << 16) | (kind << 12) | k


@njit(cache=True, nogil=True)
def _poisson(u, lam):
    k, p = 0, math.exp(-lam)
    c = p
    while u > c and k < 60:
        k += 1
        p *= lam / k
        c += p
    return k


@njit(cache=True, nogil=True)
def _is_payday(day_of_month, last_day, payday):
    return day_of_month == min(payday, last_day)


@njit(cache=True, nogil=True)
def _payee(u0, u1, u2, p, spatial, position, household, country_offsets, household_share, neighbourhood,
           party_country, n_parties):
    """A P2P payee for payer p: a household member, or a party a few list places away."""
    c = party_country[p]
    lo, hi = country_offsets[c], country_offsets[c + 1]
    pos = position[p]
    if u0 < household_share and household[p] >= 0:
        for step in range(1, _HOUSEHOLD_REACH + 1):
            for q in (pos - step, pos + step):
                if lo <= q < hi and household[spatial[q]] == household[p]:
                    return spatial[q]
    if hi - lo < 2:
        return -1
    offset = 1 + min(int(-math.log(u1) * neighbourhood / 3), neighbourhood - 1)
    q = pos + offset if u2 < 0.5 else pos - offset
    if q < lo or q >= hi:
        q = pos - offset if q >= hi else pos + offset
    q = min(max(q, lo), hi - 1)
    if q == pos:
        q = lo if pos != lo else lo + 1
    return spatial[q]


@njit(cache=True, parallel=True, nogil=True)
def _party_streams(label_key, party_id, party_type, paydays, payday_cumulative, key_out, payday_out):
    for p in prange(party_id.shape[0]):
        key_out[p] = fold_id(np.uint64(label_key), np.uint64(party_id[p]), np.uint64(0))
        payday_out[p] = 0
        if party_type[p] == 0:  # retail: a monthly credit on the party's keyed payday
            pay = block_uniforms(fold_id(key_out[p], np.uint64(0), np.uint64(1)), 0)[0]
            j = 0
            while j < paydays.shape[0] - 1 and pay >= payday_cumulative[j]:
                j += 1
            payday_out[p] = paydays[j]


def party_streams(label_key, party_id, party_type, paydays, payday_cumulative) -> tuple[np.ndarray, np.ndarray]:
    """What does not change from day to day, for a run to compute once: each party's key under
    the label (its id folded in, so a unit's key is one fold away: the same keys as
    unit_key(label_key, party_id, unit)) and its payday (day of month; 0 for none)."""
    n = party_id.shape[0]
    key, payday = np.empty(n, np.uint64), np.empty(n, np.int64)
    _party_streams(np.uint64(label_key), party_id, party_type, paydays, payday_cumulative, key, payday)
    return key, payday


@njit(cache=True, nogil=True)
def _unit(party_key, unit):
    return fold_id(party_key, np.uint64(unit), np.uint64(1))


@njit(cache=True, parallel=True, nogil=True)
def _counts(day, day_of_month, last_day, party_key, payday, party_type, salaried, p2p_rate, bill_rate, p2p_out,
            bill_out, credit_out):
    """Each party's P2P and bill counts of the day, and its credit kind (-1 none)."""
    for p in prange(party_key.shape[0]):
        u = block_uniforms(_unit(party_key[p], day), 0)
        p2p_out[p] = _poisson(u[0], p2p_rate[party_type[p]])
        bill_out[p] = _poisson(u[1], bill_rate[party_type[p]])
        credit_out[p] = -1
        if payday[p] > 0 and _is_payday(day_of_month, last_day, payday[p]):
            credit_out[p] = SALARY if salaried[p] else BENEFIT


@njit(cache=True, parallel=True, nogil=True)
def _fill(day, day_start_us, first, p2p, bill, credit, party_key, income, party_country, offset_s, spatial,
          position, household, country_offsets, employers_offsets, employers, payers_offsets, payers, billers_offsets,
          billers, price_fx, minor_unit, household_share, abroad_share, neighbourhood, salary_usd, salary_sigma,
          benefit_usd, benefit_sigma, p2p_median, p2p_sigma, p2p_round, bill_median, bill_sigma, hours_cumulative,
          ninety_nine, round_share, payer_o, payee_o, biller_o, kind_o, origin_o, unit_o, ts_o, amount_o):
    everyone = party_key.shape[0]
    for p in prange(party_key.shape[0]):
        for k in range(first[p + 1] - first[p]):
            m = first[p] + k
            kind = P2P if k < p2p[p] else (BILL if k < p2p[p] + bill[p] else credit[p])
            unit = np.uint64(transfer_unit(day, kind, k))
            stream = _unit(party_key[p], unit)
            v = block_uniforms(stream, 0)
            w = block_uniforms(stream, 1)
            c = party_country[p]
            # prange indices are unsigned: cast once so party indices stay int64 across branches.
            me = np.int64(p)
            payer, payee, biller = me, np.int64(-1), np.int64(-1)
            amount = 0.0
            if kind == P2P:
                if v[0] < abroad_share:
                    q = min(int(v[1] * everyone), everyone - 1)
                    for t in range(8):
                        if party_country[q] != c:
                            break
                        q = min(int(block_uniforms(stream, 2 + t)[0] * everyone), everyone - 1)
                    payee = np.int64(q) if party_country[q] != c else np.int64(-1)
                else:
                    payee = _payee(v[1], v[2], v[3], me, spatial, position, household, country_offsets,
                                   household_share, neighbourhood, party_country, everyone)
                x = _log_normal(w[0], p2p_median, p2p_sigma, np.inf)
                amount = price_point(x * price_fx[c], w[1], 0.0, p2p_round, minor_unit[c])
            elif kind == BILL:
                lo, hi = billers_offsets[c], billers_offsets[c + 1]
                if hi > lo:
                    biller = np.int64(billers[lo + min(int(v[1] * (hi - lo)), hi - lo - 1)])
                x = _log_normal(w[0], bill_median, bill_sigma, np.inf)
                amount = price_point(x * price_fx[c], w[1], ninety_nine, round_share, minor_unit[c])
            else:
                table_o, table = (employers_offsets, employers) if kind == SALARY else (payers_offsets, payers)
                lo, hi = table_o[c], table_o[c + 1]
                if hi > lo:
                    h = _unit(party_key[p], kind)  # the same employer every month
                    payer, payee = table[lo + np.int64(h % np.uint64(hi - lo))], me
                base = salary_usd[income[p]] if kind == SALARY else benefit_usd[income[p]]
                sigma = salary_sigma if kind == SALARY else benefit_sigma
                amount = price_point(_log_normal(w[0], base, sigma, 1e12) * price_fx[c], 1.0, 0.0, 0.0, minor_unit[c])
            # No payee (a lone party), biller or paying body in the country: the payment is not in this world.
            missing = (kind == P2P and payee < 0) or (kind == BILL and biller < 0) or (kind >= SALARY and payee < 0)
            # The hour has a block of its own: v[3] already chose the side of a neighbour payee.
            clock = block_uniforms(stream, 10)[0]
            hour = 0
            while hour < 23 and clock >= hours_cumulative[hour]:
                hour += 1
            local_s = hour * 3600 + int(w[2] * 3600)
            second = (local_s - offset_s[payer]) % _DAY_S  # the payer's local hour, placed in this UTC day
            payer_o[m], payee_o[m], biller_o[m] = payer, payee, biller
            kind_o[m] = -1 if missing else kind
            origin_o[m], unit_o[m] = p, unit
            ts_o[m] = day_start_us + np.int64(second) * 1_000_000 + np.int64(w[3] * 1e6)
            amount_o[m] = amount


def day_transfers(label_key, day, day_start_us, day_of_month, last_day, party_id, party_type, salaried, income,
                  party_country, offset_s, spatial, position, household, country_offsets, employers_offsets,
                  employers, payers_offsets, payers, billers_offsets, billers, price_fx, minor_unit,
                  p2p_rate, bill_rate, household_share, abroad_share, neighbourhood, paydays, payday_cumulative,
                  salary_usd, salary_sigma, benefit_usd, benefit_sigma, p2p_median, p2p_sigma, p2p_round,
                  bill_median, bill_sigma, hours_cumulative, ninety_nine, round_share, streams=None):
    """Every transfer of the day as (payer, payee, biller, kind, origin, unit, ts µs, amount in the
    payer's money), in (origin, rank) order. `origin` is the party whose stream drew it (the payee
    of a credit) and (party_id[origin], unit) its unit key; payee and biller are -1 where they do
    not apply. `streams` are party_streams(label_key, party_id, ...) when the caller keeps them."""
    n = party_id.shape[0]
    party_key, payday = streams or party_streams(label_key, party_id, party_type, paydays, payday_cumulative)
    p2p, bill, credit = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    _counts(day, day_of_month, last_day, party_key, payday, party_type, salaried, p2p_rate, bill_rate, p2p, bill,
            credit)
    first = np.concatenate(([0], np.cumsum(p2p + bill + (credit >= 0)))).astype(np.int64)
    m = int(first[-1])
    payer, payee, biller, origin = (np.empty(m, np.int64) for _ in range(4))
    kind, unit, ts, amount = np.empty(m, np.int8), np.empty(m, np.uint64), np.empty(m, np.int64), np.empty(m)
    _fill(day, day_start_us, first, p2p, bill, credit, party_key, income, party_country, offset_s, spatial,
          position, household, country_offsets, employers_offsets, employers, payers_offsets, payers, billers_offsets,
          billers, price_fx, minor_unit, household_share, abroad_share, neighbourhood, salary_usd, salary_sigma,
          benefit_usd, benefit_sigma, p2p_median, p2p_sigma, p2p_round, bill_median, bill_sigma, hours_cumulative,
          ninety_nine, round_share, payer, payee, biller, kind, origin, unit, ts, amount)
    keep = kind >= 0
    return payer[keep], payee[keep], biller[keep], kind[keep], origin[keep], unit[keep], ts[keep], amount[keep]


