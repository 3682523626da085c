"""6b.yaml parsed (engine_assets/run/flow_policy.py): the shipped policy becomes vectors in the
vocabulary's orders, and broken copies are refused with the field at fault named."""

import copy

import jsonschema
import numpy as np
import pytest

from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.flow_policy import parse_flows
from engine_kernels.vocabulary import DECLINE_REASONS, FLOW_TYPE_KEYS, PARTY_TYPES, SECTORS, SEGMENTS


_DELETE, _SHORTER, _DOUBLED = object(), object(), object()  # remove; drop the last entry; double every entry


def _edited(document, path, value):
    """A deep copy of `document` with the value at `path` replaced (or edited by a marker)."""
    bad = copy.deepcopy(document)
    node = bad
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    elif value is _SHORTER:
        node[path[-1]] = node[path[-1]][:-1]
    elif value is _DOUBLED:
        node[path[-1]] = [2 * x for x in node[path[-1]]]
    else:
        node[path[-1]] = value
    return bad


def test_the_shipped_policy_passes_its_schema(flow_document):
    schema = read_yaml(CONFIG_DIR / "schemas" / "policies" / "6b.schema.yaml")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(flow_document)


def test_maps_become_vectors_in_vocabulary_order(flow_document):
    """Every map keyed by sector, flow type, party type or segment is read in the vocabulary's order."""
    d = flow_document
    model, realism = parse_flows(d)
    att, amounts, auth, t = model.attachment, model.amounts, model.authorisation, model.transfers
    assert att.regular_share.tolist() == [d["attachment"]["regular_share"][s] for s in SECTORS]
    assert att.wallet_share.tolist() == [d["attachment"]["wallet_share"][k] for k in FLOW_TYPE_KEYS[:2]]
    neighbours, online = d["attachment"]["neighbours"], d["attachment"]["online"]
    assert att.neighbours == (neighbours["min"], neighbours["max"])
    assert att.online_regulars == (online["min_regulars"], online["max_regulars"])
    assert amounts.median_usd.tolist() == [d["amounts"]["sectors"][s]["median"] for s in SECTORS]
    assert amounts.sigma.tolist() == [d["amounts"]["sectors"][s]["sigma"] for s in SECTORS]
    assert auth.decline.tolist() == [d["authorisation"]["decline"][k] for k in FLOW_TYPE_KEYS]
    partial = d["authorisation"]["partial_approval"]
    assert auth.partial_sectors.tolist() == [s in partial["sectors"] for s in SECTORS]
    assert auth.partial_fraction == tuple(partial["fraction"])
    assert auth.latency.cap == d["authorisation"]["latency_ms"]["timeout"]
    assert auth.three_ds_mandated == frozenset(d["authorisation"]["three_ds"]["mandated"])
    assert t.p2p_per_month.tolist() == [d["transfers"]["p2p_per_month"][p] for p in PARTY_TYPES]
    assert t.bills_per_month.tolist() == [d["transfers"]["bills_per_month"][p] for p in PARTY_TYPES]
    assert t.salary_segments.tolist() == [s in d["transfers"]["salary_segments"] for s in SEGMENTS]
    assert t.biller_sectors.tolist() == [s in d["transfers"]["biller_sectors"] for s in SECTORS]
    assert t.paydays.tolist() == d["transfers"]["paydays"]["days"] and t.paydays.dtype == np.int64
    life = model.lifecycle
    assert life.reversal_share.tolist() == [d["lifecycle"]["reversal_share"][k] for k in FLOW_TYPE_KEYS[:3]]
    assert [c.cap for c in life.clearing_hours] == [d["lifecycle"]["clearing_hours"][k]["cap"]
                                                    for k in FLOW_TYPE_KEYS[:3]]
    assert model.sessions.gap_minutes == d["sessions"]["inactivity_gap_minutes"]
    assert realism.decline_card_present == tuple(d["realism"]["decline_card_present"])
    assert realism.primary_share["grocery"] == tuple(d["realism"]["primary_share"]["grocery"])


def test_distributions_become_cumulative_tables_ending_at_one(flows, flow_document):
    d = flow_document
    auth = flows.authorisation
    assert auth.reasons.shape == (len(FLOW_TYPE_KEYS), len(DECLINE_REASONS))
    assert np.allclose(auth.reasons[:, -1], 1.0) and (np.diff(auth.reasons, axis=1) >= 0).all()
    for t, k in enumerate(FLOW_TYPE_KEYS):
        shares = d["authorisation"]["reasons"][k]
        assert np.diff(auth.reasons[t], prepend=0.0) == pytest.approx([shares[r] for r in DECLINE_REASONS])
    assert flows.amounts.atm_weights == pytest.approx(np.cumsum(d["amounts"]["atm"]["weights"]))
    assert flows.transfers.payday_weights == pytest.approx(np.cumsum(d["transfers"]["paydays"]["weights"]))
    hours = flows.transfers.hours
    assert hours.shape == (24,) and hours[-1] == pytest.approx(1.0) and (np.diff(hours) >= 0).all()
    profile = np.asarray(d["transfers"]["hours"])
    assert np.diff(hours, prepend=0.0) == pytest.approx(profile / profile.sum())


def test_settlement_hours_by_rail(flows, flow_document):
    """Instant rails, batch rails, SWIFT, and any other rail at the default."""
    hours = flow_document["lifecycle"]["settlement_hours"]
    life = flows.lifecycle
    for rail in flow_document["lifecycle"]["instant_rails"]:
        assert life.settlement(rail) == hours["instant"], rail
    for rail in flow_document["lifecycle"]["batch_rails"]:
        assert life.settlement(rail) == hours["batch"], rail
    assert life.settlement("SWIFT") == hours["swift"] and life.settlement("RTGS_X") == hours["default"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("attachment", "regular_share", "pets"), 0.5, r"attachment\.regular_share: unknown key\(s\) pets"),
        (("attachment", "regular_share", "fuel"), _DELETE, r"attachment\.regular_share: no value for fuel"),
        (("authorisation", "reasons", "card_present", "do_not_honour"), 0.5,
         r"authorisation\.reasons\.card_present must be non-negative and sum to 1"),
        (("amounts", "atm", "values"), _SHORTER, r"amounts\.atm: \d+ values but \d+ weights"),
        (("amounts", "atm", "weights"), _DOUBLED, r"amounts\.atm\.weights must .* sum to 1"),
        (("transfers", "paydays", "days"), _SHORTER, r"transfers\.paydays: \d+ days but \d+ weights"),
        (("authorisation", "partial_approval", "fraction"), [0.95, 0.3],
         r"authorisation\.partial_approval\.fraction: write \[low, high\]"),
        (("lifecycle", "partial_refund", "fraction"), [0.9, 0.1], r"lifecycle\.partial_refund\.fraction"),
        (("attachment", "neighbours", "min"), 10**9, r"attachment\.neighbours min/max"),
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
