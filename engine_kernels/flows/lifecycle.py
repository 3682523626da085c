"""A payment's lifecycle: its amount, 3-D Secure, authorisation, then reversal or clearing and refund.

Everything a flow gets is drawn from its own keyed stream, so the lifecycle of a flow never
depends on the others of its day. Times are microseconds since 1970 (UTC); each next event of a
flow is strictly later than the one before (at least 1 ms).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine_kernels.flows.draws import block_uniforms, unit_key
from engine_kernels.vocabulary import ATM_WITHDRAWAL, OUTCOMES, TRANSFER

__all__ = ["Lifecycle", "draw_amounts", "expand_events", "lifecycle", "nice_note", "price_point"]

APPROVED, PARTIAL, DECLINED, AUTH_FAILED = range(len(OUTCOMES))
FRICTIONLESS, CHALLENGE_PASSED, CHALLENGE_FAILED = range(3)
AUTHENTICATION, AUTH_REQUEST, AUTH_RESPONSE, REVERSAL, CLEARING, REFUND = range(6)
_MS = 1000
_HOUR_US = 3_600_000_000


@njit(cache=True, nogil=True)
def _normal(u):
    """Standard normal by inversion (Acklam's rational approximation, |error| < 1.2e-9)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02,
         -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01,
         -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00,
         4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00)
    if u < 0.02425:
        q = math.sqrt(-2 * math.log(u))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if u > 1 - 0.02425:
        q = math.sqrt(-2 * math.log(1 - u))
        return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / \
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    q = u - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / \
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


@njit(cache=True, nogil=True)
def _log_normal(u, median, sigma, cap):
    return min(median * math.exp(sigma * _normal(u)), cap)


@njit(cache=True, nogil=True)
def _minor(x, minor_unit):
    return max(round(x / minor_unit) * minor_unit, minor_unit)


@njit(cache=True, nogil=True)
def price_point(x, u, ninety_nine, round_share, minor_unit):
    """`x` as a price: ending in 99 of the minor unit just under two significant digits' next step
    (37.40 -> 37.99, 4,980 JPY -> 4,999), rounded to a whole 5 of that step (35, 5,000), or
    rounded to the minor unit; never below one minor unit."""
    scale = 10.0 ** (math.floor(math.log10(max(x, minor_unit))) - 1)
    scale = max(scale, minor_unit)
    if u < ninety_nine and scale > minor_unit:
        return _minor(math.ceil(x / scale) * scale - minor_unit, minor_unit)
    if u < ninety_nine + round_share:
        step = 5 * scale
        return _minor(max(round(x / step), 1.0) * step, minor_unit)
    return _minor(x, minor_unit)


@njit(cache=True, nogil=True)
def nice_note(x, minor_unit):
    """The 1-2-5 banknote value nearest `x` on a log scale (ATM amounts)."""
    k = math.floor(math.log10(max(x, minor_unit)))
    best, gap = x, 1e300
    for e in (k - 1, k, k + 1):
        for m in (1.0, 2.0, 5.0):
            v = m * 10.0 ** e
            g = abs(math.log(v / x))
            if v >= minor_unit and g < gap:
                best, gap = v, g
    return best


@njit(cache=True, parallel=True, nogil=True)
def draw_amounts(label_key, unit_a, unit_b, flow_type, median, sigma, minor_unit, ninety_nine, round_share,
                 atm_values, atm_cumulative, atm_scale, out):
    """Purchase amounts: log-normal around the flow's local median with price points; ATM amounts:
    a policy value in local money (atm_scale: price level x FX) in whole notes of the 1-2-5 note
    nearest the smallest policy value (US dollars: 20, 40, 60, 100, 200, 300)."""
    for i in prange(out.shape[0]):
        u0, u1, u2, _ = block_uniforms(unit_key(label_key, unit_a[i], unit_b[i]), 0)
        if flow_type[i] == ATM_WITHDRAWAL:
            j = 0
            while j < atm_values.shape[0] - 1 and u0 >= atm_cumulative[j]:
                j += 1
            # Whole notes of the country's note nearest the smallest policy value (a $20 bill at US prices).
            note = nice_note(atm_values[0] * atm_scale[i], minor_unit[i])
            out[i] = _minor(max(round(atm_values[j] * atm_scale[i] / note), 1.0) * note, minor_unit[i])
        else:
            x = _log_normal(u0, median[i], sigma[i], np.inf)
            out[i] = price_point(x, u1, ninety_nine, round_share, minor_unit[i])


class Lifecycle:
    """Per-flow outcome arrays of `lifecycle` (times in µs since 1970; -1 where no such event)."""

    def __init__(self, n: int):
        self.outcome = np.empty(n, np.int8)
        self.reason = np.empty(n, np.int8)  # DECLINE_REASONS code, -1 unless declined
        self.three_ds = np.empty(n, np.int8)  # THREE_DS_RESULTS code, -1 when not attempted
        self.auth_at = np.empty(n, np.int64)  # auth request (after any 3-D Secure)
        self.latency_us = np.empty(n, np.int64)
        self.approved = np.empty(n, np.float64)  # approved amount, 0 unless approved
        self.reversal_at = np.empty(n, np.int64)
        self.clearing_at = np.empty(n, np.int64)
        self.refund_at = np.empty(n, np.int64)
        self.refund_amount = np.empty(n, np.float64)
        self.events = np.empty(n, np.int64)

    def rows(self, rows: slice) -> "Lifecycle":
        """The outcomes of a slice of flows (views, no copy)."""
        out = Lifecycle(0)
        for name, values in vars(self).items():
            setattr(out, name, values[rows])
        return out

    def arrays(self):
        return (self.outcome, self.reason, self.three_ds, self.auth_at, self.latency_us, self.approved,
                self.reversal_at, self.clearing_at, self.refund_at, self.refund_amount, self.events)


@njit(cache=True, parallel=True, nogil=True)
def _lifecycle(label_key, unit_a, unit_b, flow_type, ts_utc, amount, amount_ratio, income, minor_unit, partial_ok,
               three_ds_rate, settle_hours, declinable, decline, income_odds, elasticity, reasons, partial_share,
               partial_lo, partial_hi, latency_median, latency_sigma, timeout_ms, frictionless, challenge_failure,
               frictionless_lo, frictionless_hi, challenge_median, challenge_sigma, clearing_median, clearing_sigma,
               clearing_cap, reversal_share, reversal_median, reversal_sigma, refund_share, partial_refund_share,
               partial_refund_lo, partial_refund_hi, refund_median, refund_sigma, refund_cap, forced_reason,
               claimed_refund_days,
               outcome, reason, three_ds, auth_at, latency_us, approved, reversal_at, clearing_at, refund_at,
               refund_amount, events):
    for i in prange(flow_type.shape[0]):
        key = unit_key(label_key, unit_a[i], unit_b[i])
        u = block_uniforms(key, 0)
        v = block_uniforms(key, 1)
        w = block_uniforms(key, 2)
        x = block_uniforms(key, 3)
        t = flow_type[i]
        at = ts_utc[i]
        n_events = 0
        three_ds[i] = -1
        reason[i] = -1
        reversal_at[i] = -1
        clearing_at[i] = -1
        refund_at[i] = -1
        refund_amount[i] = 0.0
        approved[i] = 0.0
        if x[0] < three_ds_rate[i]:
            n_events += 1
            if u[0] < frictionless:
                three_ds[i] = FRICTIONLESS
                seconds = frictionless_lo + u[1] * (frictionless_hi - frictionless_lo)
            else:
                seconds = _log_normal(u[1], challenge_median, challenge_sigma, 600.0)
                three_ds[i] = CHALLENGE_FAILED if u[2] < challenge_failure else CHALLENGE_PASSED
            at += max(np.int64(seconds * 1e6), np.int64(_MS))
            if three_ds[i] == CHALLENGE_FAILED:
                outcome[i] = AUTH_FAILED
                auth_at[i] = -1
                latency_us[i] = 0
                events[i] = n_events
                continue
        auth_at[i] = at
        latency = max(np.int64(_log_normal(u[3], latency_median, latency_sigma, timeout_ms) * _MS), np.int64(_MS))
        latency_us[i] = latency
        responded = at + latency
        n_events += 2
        p = 0.0
        if declinable[i]:
            p = min(decline[t] * income_odds[income[i]] * amount_ratio[i] ** elasticity, 0.5)
        if declinable[i] and forced_reason[i] >= 0:  # a dead card, or the bank's rule
            outcome[i] = DECLINED
            reason[i] = forced_reason[i]
            events[i] = n_events
            continue
        if v[0] < p:
            outcome[i] = DECLINED
            r = 0
            while r < reasons.shape[1] - 1 and v[1] >= reasons[t, r]:
                r += 1
            reason[i] = r
            events[i] = n_events
            continue
        granted = amount[i]
        outcome[i] = APPROVED
        if partial_ok[i] and v[2] < partial_share:
            outcome[i] = PARTIAL
            granted = min(max(round(amount[i] * (partial_lo + v[3] * (partial_hi - partial_lo)) / minor_unit[i])
                              * minor_unit[i], minor_unit[i]), amount[i])
        approved[i] = granted
        if t == TRANSFER:
            clearing_at[i] = responded + max(np.int64(settle_hours[i] * _HOUR_US), np.int64(_MS))
            events[i] = n_events + 1
            continue
        claimed = claimed_refund_days[i] == claimed_refund_days[i]  # not nan: a refund is claimed
        if w[0] < reversal_share[t] and not claimed:
            reversal_at[i] = responded + max(np.int64(_log_normal(w[1], reversal_median, reversal_sigma, 1440.0)
                                                     * 60e6), np.int64(_MS))
            events[i] = n_events + 1
            continue
        hours = _log_normal(w[1], clearing_median[t], clearing_sigma[t], clearing_cap[t])
        clearing_at[i] = responded + max(np.int64(hours * _HOUR_US), np.int64(_MS))
        n_events += 1
        if claimed or (t != ATM_WITHDRAWAL and w[2] < refund_share[t]):
            days = claimed_refund_days[i] if claimed else _log_normal(w[3], refund_median, refund_sigma, refund_cap)
            refund_at[i] = clearing_at[i] + max(np.int64(days * 24 * _HOUR_US), np.int64(_MS))
            if x[1] < partial_refund_share and not claimed:
                fraction = partial_refund_lo + x[2] * (partial_refund_hi - partial_refund_lo)
                refund_amount[i] = min(max(round(granted * fraction / minor_unit[i]) * minor_unit[i],
                                           minor_unit[i]), granted)
            else:
                refund_amount[i] = granted
            n_events += 1
        events[i] = n_events


def lifecycle(label_key: int, unit_a, unit_b, flow_type, ts_utc, amount, amount_ratio, income, minor_unit, partial_ok,
              three_ds_rate, settle_hours, declinable, auth, life, forced_reason=None,
              claimed_refund_days=None) -> Lifecycle:
    """Outcome arrays of every flow under the policy's authorisation and lifecycle tables.
    three_ds_rate: probability the flow goes through 3-D Secure (1 where the issuer mandates it);
    settle_hours: a transfer's settlement delay; declinable: whether the payer can be declined;
    forced_reason: a decline reason the flow gets whatever its draws (-1 none); claimed_refund_days:
    a full refund claimed that many days after clearing (nan none). Neither changes any draw, so
    the other flows' lifecycles are the same with or without them."""
    n = flow_type.shape[0]
    out = Lifecycle(n)
    forced_reason = np.full(n, -1, np.int8) if forced_reason is None else forced_reason.astype(np.int8)
    claimed_refund_days = np.full(n, np.nan) if claimed_refund_days is None else claimed_refund_days
    clearing = life.clearing_hours
    _lifecycle(np.uint64(label_key), unit_a, unit_b, flow_type, ts_utc, amount, amount_ratio, income, minor_unit,
               partial_ok, three_ds_rate, settle_hours, declinable, auth.decline, auth.income_odds,
               auth.amount_elasticity, auth.reasons, auth.partial_share, *auth.partial_fraction,
               auth.latency.median, auth.latency.sigma, auth.latency.cap, auth.frictionless, auth.challenge_failure,
               *auth.frictionless_seconds, auth.challenge_seconds.median, auth.challenge_seconds.sigma,
               np.array([c.median for c in clearing]), np.array([c.sigma for c in clearing]),
               np.array([c.cap for c in clearing]), np.append(life.reversal_share, 0.0),
               life.reversal_minutes.median, life.reversal_minutes.sigma, np.append(life.refund_share, [0.0, 0.0]),
               life.partial_refund_share, *life.partial_refund_fraction, life.refund_days.median,
               life.refund_days.sigma, life.refund_days.cap, forced_reason, claimed_refund_days, *out.arrays())
    return out


@njit(cache=True, parallel=True, nogil=True)
def _expand(first, ts_utc, amount, outcome, reason, three_ds, auth_at, latency_us, approved, reversal_at, clearing_at,
            refund_at, refund_amount, flow_row, seq, kind, at, value, code):
    for i in prange(first.shape[0] - 1):
        j = first[i]
        if three_ds[i] >= 0:
            flow_row[j], seq[j], kind[j], at[j], value[j], code[j] = i, 0, AUTHENTICATION, ts_utc[i], amount[i], -1
            j += 1
        if auth_at[i] < 0:
            continue
        s = j - first[i]
        flow_row[j], seq[j], kind[j], at[j], value[j], code[j] = i, s, AUTH_REQUEST, auth_at[i], amount[i], -1
        j += 1
        # Response codes: 0 approval, 1 partial approval, then 2 + the decline reason.
        answer = 1 if outcome[i] == PARTIAL else (2 + reason[i] if outcome[i] == DECLINED else 0)
        flow_row[j], seq[j], kind[j], at[j], value[j], code[j] = (i, s + 1, AUTH_RESPONSE, auth_at[i] + latency_us[i],
                                                                  approved[i], answer)
        j += 1
        if reversal_at[i] >= 0:
            flow_row[j], seq[j], kind[j], at[j], value[j], code[j] = i, s + 2, REVERSAL, reversal_at[i], approved[i], -1
            j += 1
        if clearing_at[i] >= 0:
            flow_row[j], seq[j], kind[j], at[j], value[j], code[j] = i, s + 2, CLEARING, clearing_at[i], approved[i], -1
            j += 1
        if refund_at[i] >= 0:
            flow_row[j], seq[j], kind[j], at[j], value[j], code[j] = i, s + 3, REFUND, refund_at[i], refund_amount[i], -1


def expand_events(ts_utc, amount, life: Lifecycle):
    """(flow row, seq, event type, ts_utc µs, amount, response code index or -1) of every event,
    flow by flow in row order."""
    first = np.concatenate(([0], np.cumsum(life.events)))
    n = int(first[-1])
    flow_row, seq = np.empty(n, np.int64), np.empty(n, np.int16)
    kind, at, value, code = np.empty(n, np.int8), np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.int8)
    _expand(first, ts_utc, amount, life.outcome, life.reason, life.three_ds, life.auth_at, life.latency_us,
            life.approved, life.reversal_at, life.clearing_at, life.refund_at, life.refund_amount,
            flow_row, seq, kind, at, value, code)
    return flow_row, seq, kind, at, value, code
