"""fraud.yaml parsed (engine_assets/run/fraud_policy.py): the shipped policy passes its schema and
becomes tables in the vocabulary's orders; broken copies are refused with the field at fault named."""

import copy

import jsonschema
import pytest

from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.fraud_policy import parse_fraud
from engine_kernels.vocabulary import FRAUD_TYPES, RULE_FEATURES, SCAM_KINDS


@pytest.fixture(scope="module")
def document():
    return read_yaml(CONFIG_DIR / "policies" / "fraud.yaml")


@pytest.fixture(scope="module")
def schema():
    schema = read_yaml(CONFIG_DIR / "schemas" / "policies" / "fraud.schema.yaml")
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_shipped_policy_passes_its_schema_and_parses_in_vocabulary_order(document, schema):
    schema.validate(document)
    model, realism = parse_fraud(document)
    assert len(model.campaigns) == len(FRAUD_TYPES)
    for name, rate in zip(FRAUD_TYPES, model.campaigns):
        assert rate.per_million_month == document["campaigns"][name]["per_million_month"]
    assert len(model.app_scam.kinds) == len(SCAM_KINDS)
    assert model.bank.rule.weights.tolist() == [document["bank"]["rule"]["weights"][f] for f in RULE_FEATURES]
    assert realism.fraud_share == (0.0005, 0.005) and realism.model_auc == (0.85, 0.96)


@pytest.mark.parametrize("path, value", [
    (("campaigns", "stolen_cards", "per_million_month"), -1),
    (("campaigns", "card_testing", "targets"), [0, 5]),
    (("bank", "rule", "threshold"), 1.5),
    (("bank", "rule", "weights", "night"), "high"),
    (("app_scam", "kinds", "purchase", "share"), 2),
    (("stolen_cards", "limit_usd"), 0),
    (("account_takeover", "profile_change", "takeover_kinds", "sim_swap"), 0.1),
])
def test_the_schema_refuses_broken_values(document, schema, path, value):
    bad = copy.deepcopy(document)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        schema.validate(bad)


def test_the_parser_names_what_the_schema_cannot_see(document):
    bad = copy.deepcopy(document)
    bad["campaigns"]["stolen_cards"]["window_days"] = [9, 3]
    with pytest.raises(ValueError, match="campaigns.stolen_cards.window_days"):
        parse_fraud(bad)
    bad = copy.deepcopy(document)
    bad["app_scam"]["kinds"]["romance"]["share"] = 0.5
    with pytest.raises(ValueError, match="app_scam.kinds"):
        parse_fraud(bad)
    bad = copy.deepcopy(document)
    bad["account_takeover"]["profile_change"]["legit_kinds"]["new_payee"] = 0.2
    with pytest.raises(ValueError, match="account_takeover.profile_change.legit_kinds"):
        parse_fraud(bad)
