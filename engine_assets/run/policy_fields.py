"""Field parsers every policy parser shares (engine_assets/run/policies.py, entity_policy.py)."""

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

Document = Mapping[str, Any]
Realism = TypeVar("Realism")


def _ordered_pair(pair: Sequence, field: str, cast: Callable[[Any], Any] = float, ends: str = "low, high") -> tuple:
    """A two-entry list of the YAML ([low, high], [shortest, longest], ...) as a tuple; refused when
    written the wrong way round, since the kernels draw from or test against the interval."""
    low, high = cast(pair[0]), cast(pair[1])
    if low > high:
        raise ValueError(f"{field}: write [{ends}], got [{low}, {high}]")
    return low, high


def _realism(cls: type[Realism], document: Document, field: str = "realism") -> Realism:
    """A segment's `realism` map as its dataclass, field by field; every [low, high] list in it, also
    inside a map of corridors (1a.yaml), becomes a checked pair of floats."""

    def value(v: Any, where: str) -> Any:
        if isinstance(v, list):
            return _ordered_pair(v, where)
        if isinstance(v, Mapping):
            return {k: value(x, f"{where}.{k}") for k, x in v.items()}
        return v

    return cls(**{k: value(v, f"{field}.{k}") for k, v in document.items()})
