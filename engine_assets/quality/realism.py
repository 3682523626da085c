"""Verdicts of segment validations, built one way: corridors, invariants, expectations, reported figures.

Every validation (engine_assets/world/*/validation.py, engine_assets/clock/*/validation.py)
turns its figures into `CheckOutcome`s (engine_assets/quality/gates.py) here, so a band reads the
same in every report.json: "0.35-0.55", ">= 0.9", "<= 1e-09", "== 0 <what is counted>".

Bounds are inclusive. A realism figure needs a large enough world to mean something (the
`enforce_from_*` minimums of config/policies/*.yaml, e.g. 1A's 500 merchants): below its
`Sample` minimum a check passes as not judged, and its details say why. Every judged-by-sample
check's details carry the sample size and the minimum, so a report says what a figure rests on.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine_assets.quality.gates import CheckOutcome

__all__ = ["Sample", "band", "corridor", "expectation", "invariant", "reported"]


@dataclass(frozen=True)
class Sample:
    """What a figure is measured over, and how much of it the corridor needs to be judged."""

    size: int
    minimum: int
    unit: str  # what `size` counts: "merchants", "sites", "escalated (merchant, country) pairs"

    @property
    def enough(self) -> bool:
        return self.size >= self.minimum

    def note(self) -> dict[str, Any]:
        """What the report says of the sample: its size, the size the corridor is judged from, and
        whether it was judged (with why not)."""
        note = {"sample": f"{self.size} {self.unit}", "judged_from": f"{self.minimum} {self.unit}",
                "enforced": self.enough}
        if not self.enough:
            note["why"] = f"{self.size} {self.unit} < {self.minimum}: too few to judge the figure"
        return note


def _number(x: float) -> str:
    return f"{x:.12g}"


def band(low: float | None = None, high: float | None = None) -> str:
    """The corridor text of inclusive bounds: "0.03-0.08", ">= 4", "<= 0", "== 1"."""
    if low is None and high is None:
        raise ValueError("band: give low, high or both")
    if low is not None and high is not None:
        return f"== {_number(low)}" if low == high else f"{_number(low)}-{_number(high)}"
    return f">= {_number(low)}" if low is not None else f"<= {_number(high)}"


def expectation(name: str, holds: bool, figure: Any, expected: str, *, sample: Sample | None = None,
                details: Mapping[str, Any] | None = None) -> CheckOutcome:
    """A check of a fact that is not a number in a band (the US's largest zone is New York's):
    `expected` says it in words; passes when it holds or when `sample` is too small to judge."""
    judged = sample is None or sample.enough
    note = {} if sample is None else sample.note()
    return CheckOutcome(name, bool(holds) or not judged, figure, expected, {**(details or {}), **note})


def corridor(name: str, figure: float | None, low: float | None = None, high: float | None = None, *,
             digits: int | None = None, holds: bool = True, unmeasured: str | None = None,
             sample: Sample | None = None, details: Mapping[str, Any] | None = None) -> CheckOutcome:
    """`figure` inside [low, high] (either bound may be open).

    `digits` rounds the reported figure, not the one judged. `holds` is a side condition the
    figure does not show (name it in `details`). A figure of None was not measured: the check
    passes if `unmeasured` says why nothing was there to measure, and fails otherwise; NaN (a
    measure that came out undefined) fails. Below the `sample` minimum every figure passes.
    """
    missing = figure is None or figure != figure
    inside = not missing and (low is None or low <= figure) and (high is None or figure <= high)
    if figure is None and unmeasured is not None:
        inside, details = True, {**(details or {}), "measured": False, "why_unmeasured": unmeasured}
    shown = None if missing else (round(figure, digits) if digits is not None else figure)
    return expectation(name, inside and holds, shown, band(low, high), sample=sample, details=details)


def invariant(name: str, violations: int, what: str, details: Mapping[str, Any] | None = None) -> CheckOutcome:
    """An exact rule: no `what` (rows, merchants, zones...) may break it; the figure is how many do."""
    return CheckOutcome(name, violations == 0, violations, f"== 0 {what}", dict(details or {}))


def reported(name: str, figure: Any, details: Mapping[str, Any] | None = None) -> CheckOutcome:
    """A figure the report shows without a verdict (its check is declared non-blocking)."""
    return CheckOutcome(name, True, figure, None, dict(details or {}))
