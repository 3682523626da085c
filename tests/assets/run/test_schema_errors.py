"""The one JSON-Schema error formatter (engine_assets/run/schema_errors.py): where, what, and the fix."""

import jsonschema
import pytest

from engine_assets.run.schema_errors import json_path, schema_problems, show

SCHEMA = {
    "type": "object",
    "required": ["name", "bucket_minutes"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": "^[a-z]+$"},
        "bucket_minutes": {"enum": [15, 30, 60]},
        "merchants": {"type": "integer", "minimum": 1},
        "share": {"type": "number", "exclusiveMaximum": 1},
        "countries": {"oneOf": [
            {"const": "all"}, {"type": "array", "items": {"type": "string", "pattern": "^[A-Z]{2}$"}},
        ]},
        "columns": {"type": "object", "patternProperties": {"^[a-z_]+$": {}}, "additionalProperties": False},
    },
}


def _problems(document) -> list[str]:
    return schema_problems(jsonschema.Draft202012Validator(SCHEMA), document, "config/profiles/x.yaml")


@pytest.mark.parametrize(("change", "line"), [
    ({"bucket_minutes": 7}, "at $.bucket_minutes: 7 is not allowed; allowed values: 15, 30, 60"),
    ({"merchants": "lots"}, 'at $.merchants: "lots" is not allowed; expected type: integer'),
    ({"merchants": 0}, "at $.merchants: 0 is not allowed; allowed: >= 1"),
    ({"share": 1}, "at $.share: 1 is not allowed; allowed: < 1"),
    ({"name": "Demo"}, 'at $.name: "Demo" is not allowed; allowed: text matching ^[a-z]+$'),
    ({"merchant": 5},
     "at $: unknown field(s) 'merchant'; allowed fields: bucket_minutes, columns, countries, merchants, name, share"),
    ({"columns": {"Label": 1}}, "at $.columns: unknown field(s) 'Label'; names matching ^[a-z_]+$"),
    ({"countries": "everything"},
     'at $.countries: "everything" is not allowed; allowed: "all"; or a list of string matching ^[A-Z]{2}$'),
    # A list where a list is allowed: the fault is inside it, not the choice of alternative.
    ({"countries": ["US", "gb"]}, 'at $.countries[1]: "gb" is not allowed; allowed: text matching ^[A-Z]{2}$'),
])
def test_each_problem_names_file_path_value_and_fix(change, line):
    assert _problems({"name": "demo", "bucket_minutes": 60, **change}) == [f"config/profiles/x.yaml: {line}"]


def test_missing_field_says_add_it():
    missing = "config/profiles/x.yaml: at $: required field 'bucket_minutes' is missing; add it"
    assert _problems({"name": "demo"}) == [missing]


def test_every_problem_is_listed_in_file_order():
    problems = _problems({"name": "Demo", "bucket_minutes": 7, "merchants": 0})
    assert [p.split(": ")[1] for p in problems] == ["at $.bucket_minutes", "at $.merchants", "at $.name"]


def test_json_path_quotes_keys_that_are_not_identifiers():
    assert json_path(["properties", "mcc", "x-arrow-type"]) == "$.properties.mcc.x-arrow-type"
    assert json_path(["datasets", 0]) == "$.datasets[0]"
    assert json_path(["policies", "a.yaml"]) == "$.policies['a.yaml']"


def test_long_values_are_cut():
    text = show(list(range(100)))
    assert len(text) == 120 and text.endswith("...")
