"""What parties hold (engine_kernels/entities/holdings.py): hand_out's cells, floor and cap, the
accounts of every party and the cards, wallet tokens and transfer handles on them."""

import numpy as np
import pytest

from engine_kernels.entities.holdings import draw_accounts, draw_instruments, hand_out
from engine_kernels.entities.parties import draw_parties
from engine_kernels.entities.policy import Holding
from engine_kernels.ids import entity_ids
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import ACCOUNT_TYPES, INSTRUMENT_FORMS, INSTRUMENT_TYPES, PARTY_TYPES, REGIONS, SCHEMES

CI = 77
DEBIT, CREDIT, WALLET, HANDLE = (INSTRUMENT_TYPES.index(t) for t in INSTRUMENT_TYPES)
PHYSICAL, VIRTUAL, TOKEN, ALIAS = (INSTRUMENT_FORMS.index(f) for f in INSTRUMENT_FORMS)
RETAIL = PARTY_TYPES.index("retail")
CURRENT, BUSINESS_CURRENT = ACCOUNT_TYPES.index("current"), ACCOUNT_TYPES.index("business_current")
CARD_ACCOUNTS = (ACCOUNT_TYPES.index("credit_card"), ACCOUNT_TYPES.index("business_credit_card"))


def _tol(p, n, z=5.0):
    return z * np.sqrt(p * (1 - p) / n)


@pytest.fixture(scope="module")
def world(policy, kit):
    """(parties, accounts, instruments) of a 30,000-party country in the Americas."""
    draws = kit.make_draws()
    parties = draw_parties(30_000, CI, REGIONS.index("Americas"), policy.parties, draws)
    accounts = draw_accounts(parties, policy.accounts, CI, draws)
    return parties, accounts, draw_instruments(accounts, policy.instruments, "US", CI, draws)


# --- hand_out ---

def _owners(n):
    return entity_ids("party", CI, np.arange(1, n + 1, dtype=np.uint64))


HOLDING = Holding("test", eligible=np.array([0.6, 1.0, 0.3]), per_holder=np.array([1.5, 2.2, 1.0]), floor=1, cap=5,
                  sigma=0.6)


def test_hand_out_conserves_each_cell_and_respects_eligibility_floor_and_cap(kit):
    n, code = 30_000, 5
    ids = _owners(n)
    cells = np.arange(n) % 3
    counts, unplaced = hand_out(ids, cells, HOLDING, kit.make_draws(), code)
    # The owner's eligibility is its own keyed uniform, whatever the owners' order.
    u = kit.make_draws().uniforms(substreams.HOLDING, ids, 2, field=code)[:, 0]
    eligible = u < HOLDING.eligible[cells]
    assert unplaced == 0
    assert (counts[~eligible] == 0).all()
    assert (counts[eligible] >= HOLDING.floor).all() and counts.max() <= HOLDING.cap
    for c in range(3):
        in_cell = cells == c
        assert counts[in_cell].sum() == np.rint((eligible & in_cell).sum() * HOLDING.per_holder[c])
        p = HOLDING.eligible[c]
        assert eligible[in_cell].mean() == pytest.approx(p, abs=_tol(p, in_cell.sum()) + 1e-9)
    # A cap that binds: the cell of 2.2 per holder with a cap of 2 gives everyone 2 and loses the rest.
    capped = Holding("capped", HOLDING.eligible, HOLDING.per_holder, 1, 2, 0.6)
    counts2, unplaced2 = hand_out(ids, cells, capped, kit.make_draws(), code)
    assert counts2.max() == 2 and (counts2[eligible & (cells == 1)] == 2).all()
    lost = np.rint((eligible & (cells == 1)).sum() * 2.2) - 2 * (eligible & (cells == 1)).sum()
    assert unplaced2 == lost > 0


def test_hand_out_with_given_totals_reports_what_the_cap_cannot_place(kit):
    n = 1_000
    one = Holding("one", np.ones(1), np.ones(1), 1, 3, 0.5)
    counts, unplaced = hand_out(_owners(n), np.zeros(n, np.int64), one, kit.make_draws(), 9,
                                totals=np.array([3 * n + 17]))
    assert (counts == 3).all() and unplaced == 17
    counts, unplaced = hand_out(_owners(n), np.zeros(n, np.int64), one, kit.make_draws(), 9, totals=np.array([2_345]))
    assert counts.sum() == 2_345 and counts.min() >= 1 and counts.max() <= 3 and unplaced == 0


def test_hand_out_keys_on_the_owner_not_its_position(kit):
    n = 5_000
    ids, cells = _owners(n), np.arange(n) % 3
    counts, _ = hand_out(ids, cells, HOLDING, kit.make_draws(), 5)
    perm = np.random.default_rng(0).permutation(n)
    shuffled, _ = hand_out(ids[perm], cells[perm], HOLDING, kit.make_draws(), 5)
    assert np.array_equal(shuffled, counts[perm])
    other_code, _ = hand_out(ids, cells, HOLDING, kit.make_draws(), 6)
    assert not np.array_equal(other_code, counts)  # products are told apart by their code


# --- accounts ---

def test_every_party_holds_its_floor_of_current_accounts(policy, world):
    parties, accounts, _ = world
    retail = parties.party_type == RETAIL
    current = np.bincount(accounts.party[accounts.account_type == CURRENT], minlength=parties.size)
    business = np.bincount(accounts.party[accounts.account_type == BUSINESS_CURRENT], minlength=parties.size)
    assert (current[retail] >= 1).all() and (business[~retail] >= 1).all()
    assert (current[~retail] == 0).all() and (business[retail] == 0).all()
    # Account types go to their holders only.
    for code, product in enumerate(policy.accounts):
        owners = parties.party_type[accounts.party[accounts.account_type == code]]
        assert np.isin(owners, product.holders).all(), ACCOUNT_TYPES[code]
        held = np.bincount(accounts.party[accounts.account_type == code], minlength=parties.size)
        assert held.max() <= product.holding.cap, ACCOUNT_TYPES[code]


def test_current_accounts_per_segment_are_round_of_holders_times_per_holder(policy, world):
    # Everyone is eligible for a current account, so the segment's cell holds exactly
    # round(parties of the segment × accounts per holder).
    parties, accounts, _ = world
    for code in (CURRENT, BUSINESS_CURRENT):
        product = policy.accounts[code]
        held = np.isin(parties.party_type, product.holders)
        for s in np.unique(parties.segment[held]):
            n_s = int((held & (parties.segment == s)).sum())
            got = int(((accounts.account_type == code) & (parties.segment[accounts.party] == s)).sum())
            assert got == np.rint(n_s * product.holding.per_holder[s])


def test_eligibility_of_savings_follows_the_segment(policy, world):
    parties, accounts, _ = world
    savings = ACCOUNT_TYPES.index("savings")
    holds = np.bincount(accounts.party[accounts.account_type == savings], minlength=parties.size) > 0
    for s in np.unique(parties.segment[parties.party_type == RETAIL]):
        mine = (parties.segment == s) & (parties.party_type == RETAIL)
        p = policy.accounts[savings].holding.eligible[s]
        assert holds[mine].mean() == pytest.approx(p, abs=_tol(p, mine.sum()))


def test_account_ids_are_unique_and_sorted_by_party_then_type(world):
    parties, accounts, _ = world
    n = accounts.account_id.shape[0]
    assert accounts.account_id.tolist() == entity_ids("account", CI, np.arange(1, n + 1, dtype=np.uint64)).tolist()
    assert (np.diff(accounts.party) >= 0).all()
    same = np.diff(accounts.party) == 0
    assert (np.diff(accounts.account_type)[same] >= 0).all()
    assert accounts.unplaced == 0
    assert (accounts.opened_months_ago >= 0).all()
    assert (accounts.opened_months_ago <= parties.tenure_months[accounts.party]).all()


# --- instruments ---

def test_cards_sit_on_their_account_types_and_tokens_on_cards_of_the_same_account(policy, world):
    _, accounts, ins = world
    kind = accounts.account_type[ins.account]
    assert np.isin(kind[ins.instrument_type == DEBIT], policy.instruments.debit.accounts).all()
    assert np.isin(kind[ins.instrument_type == DEBIT], (CURRENT, BUSINESS_CURRENT)).all()
    assert np.isin(kind[ins.instrument_type == CREDIT], CARD_ACCOUNTS).all()
    assert np.isin(kind[ins.instrument_type == HANDLE], (CURRENT, BUSINESS_CURRENT)).all()
    # Every current account has a debit card (floor 1, all eligible), every card account a credit card.
    has_debit = np.bincount(ins.account[ins.instrument_type == DEBIT], minlength=accounts.account_id.shape[0]) > 0
    has_credit = np.bincount(ins.account[ins.instrument_type == CREDIT], minlength=accounts.account_id.shape[0]) > 0
    assert has_debit[np.isin(accounts.account_type, (CURRENT, BUSINESS_CURRENT))].all()
    assert has_credit[np.isin(accounts.account_type, CARD_ACCOUNTS)].all()
    tokens = np.flatnonzero(ins.instrument_type == WALLET)
    card = ins.card[tokens]
    assert tokens.size and (card >= 0).all()
    assert np.isin(ins.instrument_type[card], (DEBIT, CREDIT)).all()
    assert (ins.account[card] == ins.account[tokens]).all()
    assert (ins.scheme[card] == ins.scheme[tokens]).all() and (ins.expiry_month[card] == ins.expiry_month[tokens]).all()
    assert (ins.card[ins.instrument_type != WALLET] == -1).all()
    per_card = np.bincount(card, minlength=ins.instrument_id.shape[0])[np.isin(ins.instrument_type, (DEBIT, CREDIT))]
    assert per_card.max() <= policy.instruments.wallet.cap
    assert (per_card > 0).mean() == pytest.approx(policy.instruments.wallet.eligible[0], abs=0.01)


def test_forms_schemes_and_expiry_by_instrument_type(policy, world):
    _, _, ins = world
    t = ins.instrument_type
    cards = np.isin(t, (DEBIT, CREDIT))
    assert np.isin(ins.form[cards], (PHYSICAL, VIRTUAL)).all()
    assert (ins.form[t == WALLET] == TOKEN).all() and (ins.form[t == HANDLE] == ALIAS).all()
    handles = t == HANDLE
    assert handles.any() and (ins.scheme[handles] == -1).all() and (ins.expiry_month[handles] == -1).all()
    low, high = policy.instruments.expiry_months
    assert ins.expiry_month[~handles].min() >= low and ins.expiry_month[~handles].max() <= high
    for kind, product in ((DEBIT, policy.instruments.debit), (CREDIT, policy.instruments.credit)):
        virtual = (ins.form[t == kind] == VIRTUAL).mean()
        assert virtual == pytest.approx(product.virtual_share, abs=_tol(product.virtual_share, (t == kind).sum()))
    # Ids in order: debit cards, credit cards, wallet tokens, then handles.
    assert (np.diff(t) >= 0).all()
    n = ins.instrument_id.shape[0]
    assert ins.instrument_id.tolist() == entity_ids("instrument", CI, np.arange(1, n + 1, dtype=np.uint64)).tolist()
    assert np.unique(ins.token).shape[0] == n
    assert ins.unplaced == 0


def test_schemes_follow_the_international_mix_outside_domestic_countries(policy, world):
    _, _, ins = world
    scheme = ins.scheme[np.isin(ins.instrument_type, (DEBIT, CREDIT))]
    share = np.bincount(scheme, minlength=len(SCHEMES)) / scheme.shape[0]
    mix = policy.instruments.scheme_shares
    assert share[SCHEMES.index("VISA")] == pytest.approx(0.52, abs=_tol(0.52, scheme.shape[0]))
    assert np.abs(share - mix).max() <= _tol(0.5, scheme.shape[0])
    assert (share[mix == 0] == 0).all()  # no domestic scheme in the US


def test_a_domestic_scheme_takes_its_share_in_its_country(policy, kit, world):
    _, accounts, _ = world
    ins = draw_instruments(accounts, policy.instruments, "IN", CI, kit.make_draws())
    scheme = ins.scheme[np.isin(ins.instrument_type, (DEBIT, CREDIT))]
    n = scheme.shape[0]
    share = np.bincount(scheme, minlength=len(SCHEMES)) / n
    own, p = policy.instruments.domestic["IN"]
    assert SCHEMES[own] == "RUPAY" and p == 0.45
    assert share[own] == pytest.approx(0.45, abs=_tol(0.45, n))
    # The rest keeps the international mix: VISA on 52% of the other 55%.
    assert share[SCHEMES.index("VISA")] == pytest.approx(0.55 * 0.52, abs=_tol(0.286, n))
    others = [SCHEMES.index(s) for s in ("UNIONPAY", "JCB", "MIR", "CB")]
    assert (share[others] == 0).all()


def test_cards_per_retail_party_lie_in_the_realism_corridor(world):
    parties, accounts, ins = world
    cards = np.isin(ins.instrument_type, (DEBIT, CREDIT))
    per_party = np.bincount(accounts.party[ins.account[cards]], minlength=parties.size)
    mean = per_party[parties.party_type == RETAIL].mean()
    assert 1.5 <= mean <= 4.0
    assert per_party[parties.party_type == RETAIL].min() >= 1  # every current account has a debit card
