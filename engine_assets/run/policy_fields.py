"""Field parsers every policy parser shares (engine_assets/run/policies.py, entity_policy.py)."""

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np

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


def _known(table: Mapping[str, Any], names: Sequence[str], field: str) -> None:
    unknown = sorted(set(table) - set(names))
    if unknown:
        raise ValueError(f"{field}: unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(names)}")


def _distribution(values: Sequence[float], field: str, names: Sequence[str] | None = None) -> np.ndarray:
    arr = np.asarray(values, np.float64)
    if names is not None and arr.shape != (len(names),):
        raise ValueError(f"{field} needs {len(names)} entries ({', '.join(names)}), got {arr.shape[0]}")
    if (arr < 0).any() or not math.isclose(float(arr.sum()), 1.0, abs_tol=1e-6):
        raise ValueError(f"{field} must be non-negative and sum to 1, got {list(values)} (sum {arr.sum():.6g})")
    return arr / arr.sum()


def _share_map(table: Mapping[str, float], names: Sequence[str], field: str) -> np.ndarray:
    """A distribution over `names` from a map naming some of them (the others 0)."""
    _known(table, names, field)
    return _distribution([float(table.get(n, 0.0)) for n in names], field)
