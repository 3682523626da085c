"""One way to turn a figure into a verdict (engine_assets/quality/realism.py)."""

import math

import pytest

from engine_assets.quality.realism import Sample, band, corridor, expectation, invariant, reported


@pytest.mark.parametrize(("low", "high", "text"), [
    (0.03, 0.08, "0.03-0.08"), (4, None, ">= 4"), (None, 0, "<= 0"), (1, 1, "== 1"), (None, 1e-9, "<= 1e-09"),
])
def test_band_text_has_one_format(low, high, text):
    assert band(low, high) == text


@pytest.mark.parametrize(("figure", "passed"), [
    (0.03, True), (0.08, True), (0.05, True), (0.0299, False), (0.081, False),
])
def test_bounds_are_inclusive(figure, passed):
    assert corridor("share", figure, 0.03, 0.08).passed is passed


def test_figure_is_judged_before_rounding():
    outcome = corridor("share", 0.080004, high=0.08, digits=4)
    assert not outcome.passed and outcome.figure == 0.08 and outcome.corridor == "<= 0.08"


def test_below_the_sample_minimum_the_check_passes_and_says_why():
    outcome = corridor("gini", 0.99, 0.45, 0.62, sample=Sample(60, 500, "merchants"), details={"bands": 4})
    assert outcome.passed and outcome.figure == 0.99
    assert outcome.details == {"bands": 4, "sample": "60 merchants", "judged_from": "500 merchants", "enforced": False,
                               "why": "60 merchants < 500: too few to judge the figure"}


def test_at_the_sample_minimum_the_corridor_is_enforced():
    outcome = corridor("gini", 0.99, 0.45, 0.62, sample=Sample(500, 500, "merchants"))
    assert not outcome.passed
    assert outcome.details == {"sample": "500 merchants", "judged_from": "500 merchants", "enforced": True}


def test_an_undefined_figure_fails_and_an_unmeasured_one_passes_only_with_a_reason():
    assert not corridor("cv", math.nan, low=0.3).passed
    assert not corridor("cv", None, low=0.3).passed
    outcome = corridor("drop", None, low=0.3, unmeasured="no holiday in the horizon")
    assert outcome.passed and outcome.figure is None
    assert outcome.details == {"measured": False, "why_unmeasured": "no holiday in the horizon"}


def test_a_side_condition_can_fail_a_figure_inside_its_band():
    assert not corridor("gap", 0.0, high=1e-9, holds=False).passed


def test_expectation_states_the_fact_in_words():
    outcome = expectation("us_zones", False, 5, "America/New_York largest")
    assert (outcome.passed, outcome.figure, outcome.corridor) == (False, 5, "America/New_York largest")
    assert expectation("trend", False, False, "rising", sample=Sample(1, 2, "merchants")).passed


def test_invariant_counts_violations():
    assert invariant("ids_unique", 0, "repeated ids").passed
    broken = invariant("ids_unique", 3, "repeated ids", {"examples": [1]})
    assert (broken.passed, broken.figure, broken.corridor) == (False, 3, "== 0 repeated ids")
    assert broken.details == {"examples": [1]}


def test_reported_figure_has_no_band():
    outcome = reported("outlets", 1200, {"max": 40})
    assert outcome.passed and outcome.corridor is None
