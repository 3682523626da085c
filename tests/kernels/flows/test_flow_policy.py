"""6b.yaml parsed (engine_assets/run/flow_policy.py): the shipped policy becomes vectors in the
vocabulary's orders, and broken copies are refused with the field at fault named."""

import copy

import jsonschema
import numpy as np
import pytest

from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.flow_policy import parse_flows
from engine_kernels.vocabulary import DECLINE_REASONS, FLOW_TYPE_KEYS, PARTY_TYPES, SECTORS, SEGMENTS


_DELETE = object()


def _edited(document, path, value):
    """A deep copy of `document` with the value at `path` replaced (or deleted with _DELETE)."""
    bad = copy.deepcopy(document)
    node = bad
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return bad


def test_the_shipped_policy_passes_its_schema(flow_document):
    schema = read_yaml(CONFIG_DIR / "schemas" / "policies" / "6b.schema.yaml")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(flow_document)


def test_maps_become_vectors_in_vocabulary_order(flow_document):
    d = flow_document
    model, realism = parse_flows(d)
    att, amounts, auth = model.attachment, model.amounts, model.authorisation
    assert att.regular_share.tolist() == [d["attachment"]["regular_share"][s] for s in SECTORS]
    assert att.wallet_share.tolist() == [0.25, 0.15] and att.neighbours == (8, 1024)
    assert att.online_regulars == (4, 50_000) and att.favourite_candidates == 8
    assert amounts.median_usd.tolist() == [d["amounts"]["sectors"][s]["median"] for s in SECTORS]
    assert amounts.sigma[SECTORS.index("travel")] == 1.10
    assert auth.decline.tolist() == [d["authorisation"]["decline"][k] for k in FLOW_TYPE_KEYS]
    assert auth.income_odds.tolist() == [1.5, 1.15, 0.9, 0.6]
    assert auth.partial_sectors.tolist() == [s in ("fuel", "grocery") for s in SECTORS]
    assert auth.latency.median == 260 and auth.latency.cap == 5000 and auth.partial_fraction == (0.3, 0.95)
    assert "DE" in auth.three_ds_mandated and "US" not in auth.three_ds_mandated
    t = model.transfers
    assert t.p2p_per_month.tolist() == [d["transfers"]["p2p_per_month"][p] for p in PARTY_TYPES]
    assert t.salary_segments.tolist() == [s in ("mass", "family", "affluent") for s in SEGMENTS]
    assert t.paydays.tolist() == [1, 15, 25, 28, 31] and t.paydays.dtype == np.int64
    assert model.sessions.gap_minutes == 30.0 and model.sessions.lead_minutes.median == 4.0
    assert realism.decline_card_present == (0.01, 0.04) and realism.primary_share["grocery"] == (0.65, 0.92)
    assert realism.enforce_from_flows == 200_000


def test_distributions_become_cumulative_tables_ending_at_one(flows, flow_document):
    auth = flows.authorisation
    assert auth.reasons.shape == (len(FLOW_TYPE_KEYS), len(DECLINE_REASONS))
    assert np.allclose(auth.reasons[:, -1], 1.0) and (np.diff(auth.reasons, axis=1) >= 0).all()
    cp = flow_document["authorisation"]["reasons"]["card_present"]
    assert np.diff(auth.reasons[0], prepend=0.0) == pytest.approx([cp[r] for r in DECLINE_REASONS])
    assert flows.amounts.atm_weights == pytest.approx(np.cumsum([0.18, 0.22, 0.15, 0.25, 0.15, 0.05]))
    assert flows.transfers.payday_weights == pytest.approx([0.15, 0.25, 0.50, 0.65, 1.0])
    hours = flows.transfers.hours
    assert hours.shape == (24,) and hours[-1] == pytest.approx(1.0) and (np.diff(hours) > 0).all()
    profile = np.asarray(flow_document["transfers"]["hours"])
    assert np.diff(hours, prepend=0.0) == pytest.approx(profile / profile.sum())


def test_settlement_hours_by_rail(flows):
    life = flows.lifecycle
    assert life.settlement("FPS") == 0.003 and life.settlement("PIX") == 0.003
    assert life.settlement("SEPA") == 20 and life.settlement("ACH") == 20
    assert life.settlement("SWIFT") == 36 and life.settlement("RTGS_X") == 4
    assert [c.cap for c in life.clearing_hours] == [23.5, 240, 23.5]
    assert life.reversal_share.tolist() == [0.008, 0.020, 0.002] and life.refund_share.tolist() == [0.05, 0.11]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("attachment", "regular_share", "pets"), 0.5, r"attachment\.regular_share: unknown key\(s\) pets"),
        (("attachment", "regular_share", "fuel"), _DELETE, r"attachment\.regular_share: no value for fuel"),
        (("authorisation", "reasons", "card_present", "do_not_honour"), 0.5,
         r"authorisation\.reasons\.card_present must be non-negative and sum to 1"),
        (("amounts", "atm", "values"), [20, 40, 60, 100, 200], r"amounts\.atm: 5 values but 6 weights"),
        (("amounts", "atm", "weights"), [0.2, 0.2, 0.2, 0.2, 0.2, 0.2], r"amounts\.atm\.weights must .* sum to 1"),
        (("transfers", "paydays", "days"), [1, 15, 31], r"transfers\.paydays: 3 days but 5 weights"),
        (("authorisation", "partial_approval", "fraction"), [0.95, 0.3],
         r"authorisation\.partial_approval\.fraction: write \[low, high\]"),
        (("lifecycle", "partial_refund", "fraction"), [0.9, 0.1], r"lifecycle\.partial_refund\.fraction"),
        (("attachment", "neighbours", "min"), 2_000, r"attachment\.neighbours min/max"),
        (("transfers", "salary_segments"), ["mass", "gig"], r"transfers\.salary_segments: unknown key\(s\) gig"),
        (("realism", "decline_card_present"), [0.04, 0.01], r"realism\.decline_card_present: write \[low, high\]"),
    ],
)
def test_broken_copies_are_refused_naming_the_field(flow_document, path, value, message):
    with pytest.raises(ValueError, match=message):
        parse_flows(_edited(flow_document, path, value))


def test_the_parser_does_not_edit_the_document(flow_document):
    before = copy.deepcopy(flow_document)
    parse_flows(flow_document)
    assert flow_document == before
