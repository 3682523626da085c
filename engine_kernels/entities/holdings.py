"""What parties hold: accounts by product, cards and wallet tokens on them, transfer handles.

Every count goes through the one allocator (engine_kernels/entities/allocation.py) via `hand_out`:
owners fall in cells (a segment, a party type, or one cell), a cell holds
round(eligible owners × items per eligible owner) items, and the allocator shares them
out with the product's floor, log-normal propensity and hard cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from engine_kernels.entities.allocation import allocate
from engine_kernels.entities.draws import Draws, pick
from engine_kernels.entities.parties import Parties
from engine_kernels.entities.policy import AccountProduct, CardProduct, Holding, InstrumentPolicy
from engine_kernels.ids import entity_ids
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import ACCOUNT_TYPES, INSTRUMENT_TYPES

__all__ = ["Accounts", "Instruments", "draw_accounts", "draw_instruments", "hand_out"]

DEBIT, CREDIT, WALLET, HANDLE = range(len(INSTRUMENT_TYPES))
PHYSICAL, VIRTUAL, TOKEN, ALIAS = range(4)


def hand_out(owner_ids: np.ndarray, cells: np.ndarray, holding: Holding, draws: Draws, code: int,
             totals: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """(items per owner in the owners' order, items the caps left unplaced).

    `cells` gives each owner's cell (an index into holding.eligible); `code` tells products apart
    in the owners' substreams. A cell holds round(its eligible owners × items per eligible owner)
    items, unless `totals` per cell says otherwise.
    """
    n_cells = holding.eligible.shape[0]
    order = np.argsort(cells, kind="stable")
    per_cell = np.bincount(cells, minlength=n_cells)
    u = draws.uniforms(substreams.HOLDING, owner_ids[order], 2, field=code)
    if totals is None:
        sorted_cells = cells[order]
        eligible = np.bincount(sorted_cells[u[:, 0] < holding.eligible[sorted_cells]], minlength=n_cells)
        totals = np.rint(eligible * holding.per_holder).astype(np.int64)
    result = allocate(np.concatenate(([0], np.cumsum(per_cell))), totals, u[:, 0], ndtri(u[:, 1]),
                      holding.eligible, holding.sigma, holding.floor, holding.cap)
    counts = np.empty(owner_ids.shape[0], np.int64)
    counts[order] = result.counts
    return counts, int(result.unplaced.sum())


@dataclass(frozen=True)
class Accounts:
    account_id: np.ndarray
    party: np.ndarray  # int64 position of the owner in Parties
    account_type: np.ndarray  # int8 into ACCOUNT_TYPES
    opened_months_ago: np.ndarray  # int32
    unplaced: int


def draw_accounts(parties: Parties, products: tuple[AccountProduct, ...], country_index: int,
                  draws: Draws) -> Accounts:
    owners, kinds, unplaced = [], [], 0
    for code, product in enumerate(products):
        held = np.flatnonzero(np.isin(parties.party_type, product.holders))
        counts, lost = hand_out(parties.party_id[held], parties.segment[held], product.holding, draws, code)
        owners.append(np.repeat(held, counts))
        kinds.append(np.full(int(counts.sum()), code, np.int8))
        unplaced += lost
    party = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    kind = np.concatenate(kinds) if kinds else np.zeros(0, np.int8)
    order = np.lexsort((kind, party))
    party, kind = party[order], kind[order]
    account_id = entity_ids("account", country_index, np.arange(1, party.shape[0] + 1, dtype=np.uint64))
    u = draws.uniform(substreams.HOLDING, account_id, field=len(ACCOUNT_TYPES))
    opened = np.floor(u * (parties.tenure_months[party] + 1)).astype(np.int32)
    return Accounts(account_id, party, kind, opened, unplaced)


@dataclass(frozen=True)
class Instruments:
    instrument_id: np.ndarray
    account: np.ndarray  # int64 position in Accounts
    instrument_type: np.ndarray  # int8 into INSTRUMENT_TYPES
    form: np.ndarray  # int8 into INSTRUMENT_FORMS
    scheme: np.ndarray  # int8 into SCHEMES, -1 for transfer handles
    card: np.ndarray  # int64 position of the tokenised card, -1 otherwise
    expiry_month: np.ndarray  # int32 months after the horizon's first month, -1 for handles
    token: np.ndarray  # uint64 opaque
    unplaced: int


def _per_account(accounts: Accounts, product: CardProduct, draws: Draws, code: int) -> tuple[np.ndarray, int]:
    held = np.flatnonzero(np.isin(accounts.account_type, product.accounts))
    counts, lost = hand_out(accounts.account_id[held], np.zeros(held.shape[0], np.int64), product.holding, draws, code)
    return np.repeat(held, counts), lost


def draw_instruments(accounts: Accounts, policy: InstrumentPolicy, country: str, country_index: int,
                     draws: Draws) -> Instruments:
    """Cards (debit then credit), wallet tokens on them, then transfer handles; ids in that order."""
    debit, lost_d = _per_account(accounts, policy.debit, draws, 100)
    credit, lost_c = _per_account(accounts, policy.credit, draws, 101)
    card_account = np.concatenate([debit, credit])
    card_type = np.concatenate([np.full(debit.shape[0], DEBIT, np.int8), np.full(credit.shape[0], CREDIT, np.int8)])
    n_cards = card_account.shape[0]
    card_serial = np.arange(1, n_cards + 1, dtype=np.uint64)
    u = draws.uniforms(substreams.CARD, entity_ids("instrument", country_index, card_serial), 4)
    virtual_share = np.where(card_type == DEBIT, policy.debit.virtual_share, policy.credit.virtual_share)
    form = np.where(u[:, 0] < virtual_share, VIRTUAL, PHYSICAL).astype(np.int8)
    scheme = pick(u[:, 1], np.cumsum(policy.scheme_shares)).astype(np.int8)
    if country in policy.domestic:
        own, share = policy.domestic[country]
        scheme = np.where(u[:, 2] < share, own, scheme).astype(np.int8)
    low, high = policy.expiry_months
    expiry = (low + np.floor(u[:, 3] * (high - low + 1))).astype(np.int32)

    tokens, lost_w = hand_out(entity_ids("instrument", country_index, card_serial), np.zeros(n_cards, np.int64),
                              policy.wallet, draws, 102)
    token_card = np.repeat(np.arange(n_cards), tokens)
    handles, lost_h = _per_account(accounts, policy.handles, draws, 103)
    n_tokens, n_handles = token_card.shape[0], handles.shape[0]
    n = n_cards + n_tokens + n_handles
    instrument_id = entity_ids("instrument", country_index, np.arange(1, n + 1, dtype=np.uint64))
    return Instruments(
        instrument_id=instrument_id,
        account=np.concatenate([card_account, card_account[token_card], handles]),
        instrument_type=np.concatenate([card_type, np.full(n_tokens, WALLET, np.int8),
                                        np.full(n_handles, HANDLE, np.int8)]),
        form=np.concatenate([form, np.full(n_tokens, TOKEN, np.int8), np.full(n_handles, ALIAS, np.int8)]),
        scheme=np.concatenate([scheme, scheme[token_card], np.full(n_handles, -1, np.int8)]),
        card=np.concatenate([np.full(n_cards, -1, np.int64), token_card, np.full(n_handles, -1, np.int64)]),
        expiry_month=np.concatenate([expiry, expiry[token_card], np.full(n_handles, -1, np.int32)]),
        token=draws.hashes(substreams.TOKEN, instrument_id),
        unplaced=lost_d + lost_c + lost_w + lost_h,
    )

