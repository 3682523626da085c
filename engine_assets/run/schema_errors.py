"""JSON-Schema violations as sentences a user can act on: where (file and JSON path), what, and the fix.

One formatter for every document the engine checks against a schema: profiles and policies
(engine_assets/run/config.py), dataset contracts, the contract dictionary and JSON artefacts
(engine_assets/quality/contracts.py). A line reads

    config/profiles/ci.yaml: at $.bucket_minutes: 7 is not allowed; allowed values: 5, 10, 15, 20, 30, 60

Values are shown as JSON (as a YAML or JSON file would spell them), cut to 120 characters.
"""

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

__all__ = ["errors_in_order", "explain", "json_path", "schema_problems", "show"]

# Keywords that say a value has the wrong shape for a oneOf/anyOf branch, not a wrong detail.
_SHAPE = ("type", "const", "enum")
_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def json_path(parts: Iterable[str | int]) -> str:
    """Render a path such as ``$.properties.mcc.x-arrow-type``, ``$.datasets[0]`` or ``$.policies['a.yaml']``."""
    rendered = "$"
    for part in parts:
        if isinstance(part, int):
            rendered += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", part):
            rendered += f".{part}"
        else:
            rendered += f"[{part!r}]"
    return rendered


def show(value: Any, limit: int = 120) -> str:
    """A value as JSON text, cut to `limit` characters."""
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(schema: Any) -> str | None:
    """One alternative of a oneOf/anyOf in words, or None when it is not a simple one (a $ref, a combinator)."""
    if not isinstance(schema, Mapping):
        return None
    if "const" in schema:
        return show(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(show(v) for v in schema["enum"])
    if schema.get("type") == "array" and isinstance(schema.get("items", {}), Mapping):
        item = schema.get("items", {})
        pattern = f" matching {item['pattern']}" if "pattern" in item else ""
        return f"a list of {item.get('type', 'values')}{pattern}"
    if isinstance(schema.get("type"), str) and set(schema) <= {"type", "description", "title"}:
        return schema["type"]
    return None


def _alternatives(error: ValidationError) -> ValidationError | str:
    """The error to explain a failed oneOf/anyOf by, or the list of its alternatives in words.

    A branch the value has the shape of (a list where a list is allowed) fails for a reason
    inside it: that reason is the one to fix. Otherwise the alternatives, when simple, say what
    is allowed; jsonschema's best match is the last resort.
    """
    depth = len(error.absolute_path)
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [errs for errs in branches.values()
               if not any(len(e.absolute_path) == depth and e.validator in _SHAPE for e in errs)]
    if len(fitting) == 1:
        return best_match(fitting[0])
    described = [_describe(sub) for sub in error.validator_value] if isinstance(error.validator_value, list) else [None]
    if all(described):
        return "; or ".join(described)
    return best_match(error.context)


def _unknown_fields(error: ValidationError) -> tuple[str, str]:
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    known = sorted(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    extra = sorted(k for k in error.instance if k not in known and not any(re.search(p, k) for p in patterns))
    allowed = ([f"allowed fields: {', '.join(known)}"] if known else []) + (
        [f"names matching {' or '.join(patterns)}"] if patterns else [])
    return f"unknown field(s) {', '.join(repr(k) for k in extra)}", "; or ".join(allowed) or "no fields allowed here"


def explain(error: ValidationError) -> tuple[str, str]:
    """(JSON path, sentence) of one error: the bad value or field, then what would be accepted."""
    if error.context:
        inner = _alternatives(error)
        if isinstance(inner, ValidationError):
            return explain(inner)
        return json_path(error.absolute_path), f"{show(error.instance)} is not allowed; allowed: {inner}"
    where, value = json_path(error.absolute_path), show(error.instance)
    rule, expected = error.validator, error.validator_value
    if rule == "required":
        missing = error.message.removesuffix(" is a required property")
        return where, f"required field {missing} is missing; add it"
    if rule == "additionalProperties" and isinstance(error.instance, Mapping):
        what, fix = _unknown_fields(error)
        return where, f"{what}; {fix}"
    if rule == "enum":
        return where, f"{value} is not allowed; allowed values: {', '.join(show(v) for v in expected)}"
    if rule == "const":
        return where, f"{value} is not allowed; allowed value: {show(expected)}"
    if rule == "type":
        types = expected if isinstance(expected, str) else " or ".join(expected)
        return where, f"{value} is not allowed; expected type: {types}"
    if rule in _BOUNDS:
        return where, f"{value} is not allowed; allowed: {_BOUNDS[rule]} {expected}"
    if rule == "pattern":
        return where, f"{value} is not allowed; allowed: text matching {expected}"
    if rule == "not":
        return where, f"{value} is not allowed here"
    return where, f"{error.message} (value: {value})"


def errors_in_order(validator: jsonschema.protocols.Validator, document: Any) -> list[ValidationError]:
    """Every violation of `document`, in the order of their paths (as a reader meets them in the file)."""
    return sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))


def schema_problems(validator: jsonschema.protocols.Validator, document: Any, where: str) -> list[str]:
    """Every violation of `document`, one line each: ``<where>: at <JSON path>: <sentence>``."""
    return [f"{where}: at {path}: {text}" for path, text in map(explain, errors_in_order(validator, document))]
