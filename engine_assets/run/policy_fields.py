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


def _floor_cap(table: Mapping[str, Any], low: str, high: str, field: str, cast: Callable[[Any], Any] = float) -> tuple:
    """Two keys of one map that bound a range ({floor, cap}, {min, max}) as a (low, high) tuple; refused when the
    upper bound is below the lower one."""
    lo, hi = cast(table[low]), cast(table[high])
    if hi < lo:
        raise ValueError(f"{field} {low}/{high}: {high} = {hi} is below {low} = {lo}; raise {field}.{high} to at "
                         f"least {lo} or lower {field}.{low}")
    return lo, hi


def _at_most_one(shares: Mapping[str, float], field: str, whole: str) -> None:
    """Shares of one whole taken in turn by one draw (u < a, else u < a + b, ...): together at most 1, or the
    later ones silently lose what is beyond 1."""
    total = sum(float(v) for v in shares.values())
    if total > 1 + 1e-9:
        parts = " + ".join(f"{name} {value}" for name, value in shares.items())
        raise ValueError(f"{field}: {parts} = {total:.6g} exceeds 1, but they are shares of {whole}; lower them so "
                         "they sum to at most 1")


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
