"""The party behind each arrival, and the card, device and address it pays with.

Order-free: an arrival's choices are drawn from its own keyed stream (engine_kernels/flows/draws.py)
over tables that do not depend on the day, so a day computed alone equals the same day in any batch.

Card present (at a site of a card-present merchant): a visitor from abroad (travel share), a party
anywhere in the country (the heavy tail), else a regular of the site (its sector's regular share:
the parties who chose it as their favourite, engine_kernels/flows/patronage.py) or one of its
neighbours. Card not present (an edge, or a mail-order site): a party from another country
(foreign share), else one of the keyed regulars of the (merchant, market), else anyone of the
market. The pools hold card-active parties with a card only.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine_kernels.flows.draws import block_uniforms, unit_key
from engine_kernels.vocabulary import ATM_WITHDRAWAL, ATTACHMENTS, CNP_PURCHASE, CP_PURCHASE, TRANSFER

__all__ = ["attach_arrivals", "equip"]

REGULAR, NEIGHBOUR, DOMESTIC, VISITOR, ONLINE_REGULAR, ONLINE, ONLINE_FOREIGN = range(len(ATTACHMENTS))
_VISITOR_TRIES = 8


@njit(cache=True, nogil=True)
def _visitor(key, home, everyone, party_country):
    """A card-active party of another country than `home` (any, if eight draws all land at home)."""
    n = everyone.shape[0]
    pick = everyone[min(int(block_uniforms(key, 1)[0] * n), n - 1)]
    for t in range(_VISITOR_TRIES):
        if party_country[pick] != home:
            return pick
        pick = everyone[min(int(block_uniforms(key, 2 + t)[0] * n), n - 1)]
    return pick


@njit(cache=True, nogil=True)
def _anyone(u, country, country_offsets, country_party):
    lo, hi = country_offsets[country], country_offsets[country + 1]
    return country_party[lo + min(int(u * (hi - lo)), hi - lo - 1)]


@njit(cache=True, parallel=True, nogil=True)
def attach_arrivals(label_key, pool_key, arrival_id, online, site, market, merchant, regular_share, pool_size,
                    travel_share, domestic_share, online_regular_share, foreign_share,
                    regular_offsets, regular_party, neighbour_offsets, neighbour_party,
                    country_offsets, country_party, party_country, party_out, how_out):
    """Fill party_out (index into the parties) and how_out (ATTACHMENTS code) of every arrival.

    online[i]: the arrival is card not present; site[i]: its site's index in the patronage CSRs
    (card present); market[i]: the country whose parties it draws from; regular_share[i] and
    pool_size[i]: its site's sector share, its (merchant, market)'s online pool size."""
    everyone = country_party
    for i in prange(arrival_id.shape[0]):
        key = unit_key(label_key, arrival_id[i], 0)
        u0, u1, u2, u3 = block_uniforms(key, 0)
        c = market[i]
        empty = country_offsets[c + 1] == country_offsets[c]
        if not online[i]:
            s = site[i]
            n_regular = regular_offsets[s + 1] - regular_offsets[s]
            n_neighbour = neighbour_offsets[s + 1] - neighbour_offsets[s]
            if u0 < travel_share or empty:
                party_out[i], how_out[i] = _visitor(key, c, everyone, party_country), VISITOR
            elif u0 < travel_share + domestic_share:
                party_out[i], how_out[i] = _anyone(u1, c, country_offsets, country_party), DOMESTIC
            elif u2 < regular_share[i] and n_regular > 0:
                party_out[i] = regular_party[regular_offsets[s] + min(int(u1 * n_regular), n_regular - 1)]
                how_out[i] = REGULAR
            elif n_neighbour > 0:
                party_out[i] = neighbour_party[neighbour_offsets[s] + min(int(u1 * n_neighbour), n_neighbour - 1)]
                how_out[i] = NEIGHBOUR
            else:
                party_out[i], how_out[i] = _anyone(u1, c, country_offsets, country_party), DOMESTIC
        else:
            if u0 < foreign_share or empty:
                party_out[i], how_out[i] = _visitor(key, c, everyone, party_country), ONLINE_FOREIGN
            elif u2 < online_regular_share and pool_size[i] > 0:
                slot = min(int(u1 * pool_size[i]), pool_size[i] - 1)
                h = unit_key(pool_key, merchant[i], (np.uint64(c) << np.uint64(32)) | np.uint64(slot))
                n = country_offsets[c + 1] - country_offsets[c]
                party_out[i] = country_party[country_offsets[c] + np.int64(h % np.uint64(n))]
                how_out[i] = ONLINE_REGULAR
            else:
                party_out[i], how_out[i] = _anyone(u3, c, country_offsets, country_party), ONLINE


@njit(cache=True, nogil=True)
def _geometric_pick(u, n, decay):
    """Index in 0..n-1 with weights decay^j."""
    total = 0.0
    w = 1.0
    for _ in range(n):
        total += w
        w *= decay
    target = u * total
    w = 1.0
    for j in range(n):
        if target < w:
            return j
        target -= w
        w *= decay
    return n - 1


@njit(cache=True, parallel=True, nogil=True)
def equip(label_key, unit_a, unit_b, flow_type, party, site, party_country, card_decay, wallet_share, other_ip_share,
          card_offsets, card_list, card_is_debit, token_offsets, token_list, device_offsets, device_list,
          terminal_offsets, terminal_list, ip_offsets, ip_list, other_ip_offsets, other_ip_list,
          instrument_out, device_out, ip_out):
    """The instrument, device and address of each card flow (-1 where there is none).

    Cards of a party are listed in a keyed order: the first is its primary card. An ATM takes the
    first debit card; purchases a card by geometric decay, or a wallet token of it. In store the
    device is one of the site's terminals and its address the terminal's first; online it is one
    of the party's devices, through one of the device's addresses or another of the country."""
    for i in prange(party.shape[0]):
        key = unit_key(label_key, unit_a[i], unit_b[i])
        u0, u1, u2, u3 = block_uniforms(key, 0)
        v0, v1, v2, v3 = block_uniforms(key, 1)
        p, t = party[i], flow_type[i]
        lo, n = card_offsets[p], card_offsets[p + 1] - card_offsets[p]
        card = -1
        if t == ATM_WITHDRAWAL:
            for j in range(n):
                if card_is_debit[card_list[lo + j]]:
                    card = card_list[lo + j]
                    break
            if card < 0 and n > 0:
                card = card_list[lo]
        elif n > 0 and t != TRANSFER:
            card = card_list[lo + _geometric_pick(u0, n, card_decay)]
        instrument = card
        if card >= 0 and t != ATM_WITHDRAWAL:
            m = token_offsets[card + 1] - token_offsets[card]
            if m > 0 and u1 < wallet_share[t]:
                instrument = token_list[token_offsets[card] + min(int(u2 * m), m - 1)]
        instrument_out[i] = instrument
        device, ip = -1, -1
        if t == CNP_PURCHASE or t == TRANSFER:
            m = device_offsets[p + 1] - device_offsets[p]
            if m > 0:
                device = device_list[device_offsets[p] + min(int(u3 * m), m - 1)]
                k = ip_offsets[device + 1] - ip_offsets[device]
                c = party_country[p]
                n_other = other_ip_offsets[c + 1] - other_ip_offsets[c]
                if (v0 < other_ip_share or k == 0) and n_other > 0:
                    ip = other_ip_list[other_ip_offsets[c] + min(int(v1 * n_other), n_other - 1)]
                elif k > 0:
                    ip = ip_list[ip_offsets[device] + min(int(v1 * k), k - 1)]
        elif t == CP_PURCHASE or t == ATM_WITHDRAWAL:
            s = site[i]
            m = terminal_offsets[s + 1] - terminal_offsets[s] if s >= 0 else 0
            if m > 0:
                device = terminal_list[terminal_offsets[s] + min(int(u3 * m), m - 1)]
                if ip_offsets[device + 1] > ip_offsets[device]:
                    ip = ip_list[ip_offsets[device]]
        device_out[i], ip_out[i] = device, ip
