"""Every enum a contract declares equals the tuple the code publishes from, so the two cannot drift."""

import pytest

from engine_assets.quality.contracts import load_contract, load_dictionary
from engine_kernels import vocabulary
from engine_kernels.civil_time.site_zones import SOURCES
from engine_kernels.intensity.calendar import TYPES
from engine_kernels.intensity.demand import ROLES
from engine_kernels.reference.timezones import LABEL_SOURCES
from engine_kernels.sites.virtual import PROFILES
from engine_kernels.sites.weights import SHAPES

# Column name -> the engine's closed vocabulary it holds (engine_kernels/vocabulary.py).
VOCABULARY_COLUMNS = {
    "sector": vocabulary.SECTORS,
    "demand_sector": vocabulary.SECTORS,
    "channel": vocabulary.CHANNELS,
    "channel_group": vocabulary.CHANNELS,
    "virtual_class": vocabulary.VIRTUAL_CLASSES,
    "demand_class": vocabulary.DEMAND_CLASSES,
}
# (dataset, column) -> the values of an enum that one kernel defines and one segment publishes.
KERNEL_COLUMNS = {
    ("reference/tz_grid", "source"): LABEL_SOURCES,
    ("seg_2a/site_timezones", "tz_source"): SOURCES,
    ("seg_2b/site_weights", "shape"): SHAPES,
    ("seg_3b/edge_catalogue", "profile"): PROFILES,
    ("seg_5a/calendar", "event_type"): TYPES,
    ("seg_5a/merchant_zone_profile", "zone_role"): ROLES,
}
# 6A's columns, each named with its table: names as general as `role` or `usage` stay local.
_6A = {
    "parties": {"party_type": vocabulary.PARTY_TYPES, "segment": vocabulary.SEGMENTS,
                "age_band": vocabulary.AGE_BANDS, "income_band": vocabulary.INCOME_BANDS,
                "risk_tier": vocabulary.RISK_TIERS},
    "accounts": {"account_type": vocabulary.ACCOUNT_TYPES},
    "instruments": {"instrument_type": vocabulary.INSTRUMENT_TYPES, "form": vocabulary.INSTRUMENT_FORMS,
                    "scheme": vocabulary.SCHEMES},
    "devices": {"device_type": vocabulary.DEVICE_TYPES, "os": vocabulary.OPERATING_SYSTEMS,
                "usage": vocabulary.DEVICE_USAGES},
    "device_links": {"role": vocabulary.LINK_ROLES},
    "ips": {"ip_type": vocabulary.IP_TYPES, "asn_class": vocabulary.ASN_CLASSES},
    "ip_links": {"ip_type": vocabulary.IP_TYPES},
    "fraud_roles": {"entity_kind": vocabulary.ENTITY_KINDS, "role": vocabulary.FRAUD_ROLES},
}
KERNEL_COLUMNS |= {(f"seg_6a/{table}", column): values for table, columns in _6A.items()
                   for column, values in columns.items()}
# 6B's columns, each named with its table.
_6B = {
    "patronage": {"relation": vocabulary.PATRONAGE_RELATIONS, "sector": vocabulary.SECTORS},
    "flows": {"flow_type": vocabulary.FLOW_TYPES, "channel": vocabulary.PAYMENT_CHANNELS,
              "transfer_kind": vocabulary.TRANSFER_KINDS, "attachment": vocabulary.ATTACHMENTS,
              "three_ds": vocabulary.THREE_DS_RESULTS, "outcome": vocabulary.OUTCOMES,
              "decline_reason": vocabulary.DECLINE_REASONS, "response_code": vocabulary.RESPONSE_CODES},
    "events": {"event_type": vocabulary.EVENT_TYPES, "response_code": vocabulary.RESPONSE_CODES},
    "fraud_campaigns": {"fraud_type": vocabulary.FRAUD_TYPES, "scam_kind": vocabulary.SCAM_KINDS},
    "fraud_targets": {"role": vocabulary.LABEL_ROLES},
    "truth_labels": {"label": vocabulary.LABELS, "role": vocabulary.LABEL_ROLES},
    "bank_view": {"rule_decision": vocabulary.RULE_DECISIONS, "dispute_kind": vocabulary.DISPUTE_KINDS,
                  "chargeback_outcome": vocabulary.CHARGEBACK_OUTCOMES, "bank_label": vocabulary.BANK_LABELS},
    "transactions": {"flow_type": vocabulary.FLOW_TYPES, "channel": vocabulary.PAYMENT_CHANNELS,
                     "fraud_type": vocabulary.LABELS, "bank_label": vocabulary.BANK_LABELS},
    "cases": {"key_kind": vocabulary.CASE_KEYS, "decision": vocabulary.CASE_DECISIONS},
    "sessions": {"profile_change": vocabulary.PROFILE_CHANGES},
}
KERNEL_COLUMNS |= {(f"seg_6b/{table}", column): values for table, columns in _6B.items()
                   for column, values in columns.items()}
# The holidays package names the category; the engine keeps only its default one.
FROM_PACKAGES = {("reference/holidays", "kind")}

ENUM_COLUMNS = [(dataset, column) for dataset in load_dictionary()
                for column in load_contract(dataset).columns if column.enum is not None]


def test_the_vocabularies_hold_distinct_values():
    for name in vocabulary.__all__:
        values = getattr(vocabulary, name)
        if isinstance(values, tuple):
            assert len(set(values)) == len(values), name
    assert set(vocabulary.ONLINE_DEMAND_CLASSES) < set(vocabulary.DEMAND_CLASSES)


def test_contracts_declare_enums_of_every_vocabulary():
    names = {column.name for _, column in ENUM_COLUMNS}
    assert set(VOCABULARY_COLUMNS) <= names
    assert {key for key in KERNEL_COLUMNS} <= {(d, c.name) for d, c in ENUM_COLUMNS}


@pytest.mark.parametrize("dataset, column", ENUM_COLUMNS, ids=[f"{d}.{c.name}" for d, c in ENUM_COLUMNS])
def test_contract_enum_equals_the_code_vocabulary(dataset, column):
    declared = [v for v in column.enum if v is not None]  # a nullable column lists null too
    assert len(set(declared)) == len(declared), f"contracts/{dataset}.yaml: {column.name} repeats a value"
    if (dataset, column.name) in FROM_PACKAGES:
        return
    code = KERNEL_COLUMNS.get((dataset, column.name), VOCABULARY_COLUMNS.get(column.name))
    assert code is not None, (f"contracts/{dataset}.yaml: enum column {column.name} has no vocabulary in "
                              "engine_kernels/vocabulary.py or KERNEL_COLUMNS here")
    assert set(declared) == set(code), f"contracts/{dataset}.yaml: {column.name}"
