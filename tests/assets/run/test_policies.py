"""Policy documents refused at parse time (engine_assets/run/policies.py, config/schemas/policies/):
a schema violation or a cross-field inconsistency names the field at fault."""

import copy
import shutil

import jsonschema
import pytest

from engine_assets.run.config import CONFIG_DIR, load_policies, read_yaml
from engine_assets.run.errors import EngineConfigError
from engine_assets.run.policies import (
    parse_bursts,
    parse_calendar,
    parse_demand,
    parse_merchants,
    parse_policy_1a,
    parse_routing,
    parse_virtual,
    parse_weekly_shapes,
    parse_zones,
)


def policy(name: str):
    """A fresh copy of config/policies/<name>.yaml, free to edit."""
    return read_yaml(CONFIG_DIR / "policies" / f"{name}.yaml")


def edited(content, path, value):
    bad = copy.deepcopy(content)
    node = bad
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return bad


# --------------------------------------------------------------------------- 1A merchants

POLICY_1A = policy("1a")
SCHEMA_1A = read_yaml(CONFIG_DIR / "schemas" / "policies" / "1a.schema.yaml")


def test_policy_1a_passes_its_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA_1A)
    jsonschema.Draft202012Validator(SCHEMA_1A).validate(POLICY_1A)
    assert parse_policy_1a(POLICY_1A).n_gdp_bands == 4


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("outlet_count", "dispersion", "base"), -1.3),
        (("outlet_count", "dispersion", "base"), 0),
        (("outlet_count", "mean", "base"), -9.0),
        (("hurdle", "sector", "pets"), 0.4),
        (("merchants", "sector_weights", "casinos"), 0.1),
        (("cross_border", "openness", "grocery"), 1.5),
        (("hurdle", "slope"), 1.0),
        (("candidates", "sanctioned_countries"), ["iran"]),
        (("split", "home_share_floor", "share"), [0.92, 0.85, 0.75, 0.4]),
    ],
)
def test_schema_rejects_bad_policy(path, value):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SCHEMA_1A).validate(edited(POLICY_1A, path, value))


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("hurdle", "gdp_band"), [0.1, 0.2], "hurdle.gdp_band"),
        (("gdp_bands", "per_capita_edges_usd"), [14000, 4500, 40000], "gdp_bands.per_capita_edges_usd"),
        (("split", "home_share_floor", "max_outlets"), [10, 20], "split.home_share_floor.share"),
    ],
)
def test_cross_field_errors_name_the_field(path, value, field):
    with pytest.raises(ValueError, match=field.replace(".", r"\.")):
        parse_policy_1a(edited(POLICY_1A, path, value))


# --------------------------------------------------------------------------- 2B routing, 3B virtual merchants


def test_routing_cross_field_errors_name_the_field():
    bad = edited(policy("2b"), ("site_weights", "top_share_cap"), [0.8, 0.7])
    with pytest.raises(ValueError, match="site_weights.top_share_cap needs one entry per size band"):
        parse_routing(bad)


def test_virtual_errors_name_the_field():
    bad = edited(policy("3b"), ("settlement", "probability"), [0.5, 0.5])
    with pytest.raises(ValueError, match="settlement.probability"):
        parse_virtual(bad)


# --------------------------------------------------------------------------- 5A demand, shapes, calendar

POLICY_5A = policy("5a")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["demand_classes"]["online"].update(default="consumer_daytime"), "not online classes"),
    (lambda d: d["demand_classes"]["card_present"].pop("fuel"), r"card_present: sectors \['fuel'\]"),
    (lambda d: d["volumes"]["per_site"]["office_hours"].update(clip=10), "clip must be at least the median"),
])
def test_bad_demand_policies_name_the_field(edit, message):
    content = copy.deepcopy(POLICY_5A)
    edit(content)
    with pytest.raises(ValueError, match=message):
        parse_demand(content)


def test_a_policy_class_without_a_shape_is_refused():
    with pytest.raises(ValueError, match=r"classes \['teleport'\] have no weekly shape"):
        parse_weekly_shapes(POLICY_5A, ["office_hours", "teleport"])


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["calendar"]["paydays"].update(biweekly_anchor="2026-01-01"), "must be a Friday"),
    (lambda d: d["calendar"]["campaigns"]["singles_day"].update(date="13-40"), "is not a month-day"),
    (lambda d: d["calendar"]["campaigns"]["year_end"].update(countries=["all", "US"]), "write \\[all\\] alone"),
    (lambda d: d["calendar"]["outages"].update(hours=[6, 1]), "shortest, longest"),
])
def test_bad_calendar_policies_name_the_field(edit, message):
    content = copy.deepcopy(POLICY_5A)
    edit(content)
    with pytest.raises(ValueError, match=message):
        parse_calendar(content)


# --------------------------------------------------------------------------- orderings, in every file


@pytest.mark.parametrize("name, parse, path, value, message", [
    ("1a", parse_merchants, ("realism", "corridors", "gini_outlets"), [0.62, 0.45],
     r"realism\.corridors\.gini_outlets: write \[low, high\], got \[0\.62, 0\.45\]"),
    ("2b", parse_routing, ("site_weights", "hub_share"), [0.75, 0.45], r"site_weights\.hub_share: write \[low, high\]"),
    ("2b", parse_routing, ("realism", "median_top_share"), [0.6, 0.25], r"realism\.median_top_share: write \[low, high\]"),
    ("3b", parse_virtual, ("edges", "profiles", "offshore_hub", "edges"), [58, 24],
     r"edges\.profiles\.offshore_hub\.edges: write \[fewest, most\], got \[58, 24\]"),
    ("5b", parse_bursts, ("realism", "latent_mean"), [1.05, 0.95], r"realism\.latent_mean: write \[low, high\]"),
    ("2b", parse_routing, ("site_weights", "band_max_sites"), [10, 3],
     r"site_weights\.band_max_sites must be strictly increasing, got \[10, 3\]"),
    ("3a", parse_zones, ("escalation", "min_sites"), [3, 6, 6, 25, 50], r"escalation\.min_sites must be strictly increasing"),
    ("5b", parse_bursts, ("grouping", "volume_band_edges"), [500, 50],
     r"grouping\.volume_band_edges must be strictly increasing, got \[500\.0, 50\.0\]"),
])
def test_pairs_and_edges_written_out_of_order_name_the_field(name, parse, path, value, message):
    with pytest.raises(ValueError, match=message):
        parse(edited(policy(name), path, value))


# --------------------------------------------------------------------------- scenarios across files


def test_a_scenario_without_5a_and_5b_parameters_is_refused_at_load(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    path = config / "policies/scenarios.yaml"
    path.write_text(path.read_text() + "  holiday_rush:\n    description: Baseline with a December surge.\n")
    with pytest.raises(EngineConfigError) as err:
        load_policies(config)
    assert str(err.value).splitlines() == [
        f"{config}/policies/5a.yaml: scenario(s) holiday_rush of scenarios.yaml have no entry under scenarios: "
        "(class_factor, outage_multiplier); add them, or remove the scenario(s) from scenarios.yaml",
        f"{config}/policies/5b.yaml: scenario(s) holiday_rush of scenarios.yaml have no entries in latent.sigma, "
        "latent.length_hours and counts.kappa; add them, or remove the scenario(s) from scenarios.yaml",
    ]
