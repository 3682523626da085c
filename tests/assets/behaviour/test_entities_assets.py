"""Segment 6A through Dagster on the ci profile: counts, homes, terminals, links, roles, gate and bad input."""

import copy

import numpy as np
import polars as pl
import pytest

from engine_assets.quality.contracts import load_contract
from engine_assets.quality.gates import verify_gate
from engine_assets.run.config import CONFIG_DIR, read_yaml
from engine_assets.run.entity_policy import parse_entities
from engine_assets.run.resources import EngineResource
from engine_assets.storage.datasets import load_dataset
from engine_assets.storage.reader import reader_for
from engine_kernels.vocabulary import FRAUD_ROLES


def _identity(root):
    return EngineResource(data_root=str(root)).identity()


def _read(identity, name, key=None):
    return load_dataset(identity, load_contract(name), key).collect().with_columns(pl.col(pl.Categorical).cast(pl.String))


def _all(identity, name):
    frame, missing = reader_for(identity, name).every_country(name)
    assert not missing
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))


def test_6a_passes_and_opens_its_gate(ci_world):
    report = verify_gate(_identity(ci_world), "seg_6a")
    names = {c["name"] for c in report["checks"]}
    assert {"entity_foreign_keys", "entity_caps", "retail_parties_hold_account_and_instrument",
            "every_site_has_a_terminal", "homes_inside_country_polygon", "parties_as_counted",
            "cards_per_retail_party", "risky_account_odds_ratio", "role_share_accounts"} <= names
    caps = next(c for c in report["checks"] if c["name"] == "entity_caps")
    assert caps["details"]["largest"]["devices_per_party"] <= 20
    assert 2 <= caps["details"]["largest"]["parties_per_device"] <= 6  # shared household devices exist


def test_party_counts_follow_5a_volumes_and_the_profile_scale(ci_world):
    identity = _identity(ci_world)
    counts = _read(identity, "seg_6a/party_counts")
    profile = _read(identity, "seg_5a/merchant_zone_profile")
    classes = _read(identity, "seg_3b/virtual_classification")
    present = profile.join(classes, on="merchant_id").select(
        (pl.col("weekly_volume") * (1 - pl.col("virtual_share"))).sum()).item()
    assert counts["weekly_card_present"].sum() == pytest.approx(present, rel=1e-9)
    policy = identity.policies.entities.model.parties
    weekly = counts["weekly_card_present"].sum() + counts["weekly_online"].sum()
    expected = weekly / (policy.payments_per_active_party_week * policy.active_share) * identity.profile.party_scale
    assert counts["parties"].sum() == round(expected)
    parties = _all(identity, "seg_6a/parties")
    assert dict(parties.group_by("country_iso").len().iter_rows()) == {
        c: n for c, n in counts.select("country_iso", "parties").iter_rows() if n}


def test_homes_households_and_zones(ci_world):
    identity = _identity(ci_world)
    parties = _all(identity, "seg_6a/parties")
    zones = _read(identity, "reference/tz_zones").select("country_iso", "tzid")
    assert parties.join(zones, left_on=["country_iso", "home_tzid"], right_on=["country_iso", "tzid"],
                        how="anti").height == 0
    retail = parties.filter(pl.col("party_type") == "retail")
    assert retail["household_id"].null_count() == 0
    assert parties.filter(pl.col("party_type") != "retail")["household_id"].null_count() == parties.height - retail.height
    # A household shares one home.
    homes = retail.group_by("household_id").agg(pl.col("home_lat").n_unique(), pl.len())
    assert (homes["home_lat"] == 1).all() and homes["len"].max() <= 6 and homes["len"].max() >= 2


def test_terminals_cards_and_links_close_the_world(ci_world):
    identity = _identity(ci_world)
    sites = _all(identity, "seg_1b/site_locations")
    devices = _all(identity, "seg_6a/devices")
    terminals = devices.filter(pl.col("device_type") == "terminal")
    assert set(terminals["site_id"]) == set(sites["site_id"])
    pairs = terminals.select("site_id", "merchant_id").unique().join(sites.select("site_id", "merchant_id"),
                                                                      on=["site_id", "merchant_id"], how="anti")
    assert pairs.height == 0
    instruments = _all(identity, "seg_6a/instruments")
    cards = instruments.filter(pl.col("instrument_type").is_in(["debit_card", "credit_card"]))
    assert cards["token"].str.contains(r"^tok_[0-9a-f]{16}$").all() and instruments["token"].n_unique() == instruments.height
    assert (cards["expiry_month"] > identity.profile.horizon.start).all()
    handles = instruments.filter(pl.col("instrument_type") == "transfer_handle")
    assert handles["scheme"].null_count() == handles.height and handles["rail"].null_count() == 0
    assert set(handles.filter(pl.col("country_iso") == "IN")["rail"]) == {"UPI"}
    links = _all(identity, "seg_6a/ip_links")
    ips = _all(identity, "seg_6a/ips")
    assert links.join(ips.select("ip_id", "ip_type"), on=["ip_id", "ip_type"], how="anti").height == 0
    assert links.filter(pl.col("is_first")).group_by("device_id").len()["len"].max() == 1


def test_roles_point_at_their_entities(ci_world):
    identity = _identity(ci_world)
    roles = _all(identity, "seg_6a/fraud_roles")
    assert set(roles["role"]) <= set(FRAUD_ROLES)
    parties = _all(identity, "seg_6a/parties")
    tiers = parties["risk_tier"].value_counts().sort("risk_tier")
    shares = dict(zip(tiers["risk_tier"], tiers["count"] / parties.height))
    assert shares["low"] == pytest.approx(0.5, abs=0.02) and shares["high"] == pytest.approx(0.03, abs=0.01)
    risky = roles.filter(pl.col("role") == "risky_account")
    accounts = _all(identity, "seg_6a/accounts")
    assert risky.join(accounts, left_on="entity_id", right_on="account_id", how="anti").height == 0
    # Risk follows the owner: accounts of elevated and high tiers are risky more often.
    owner = accounts.join(parties.select("party_id", "risk_tier"), on="party_id").with_columns(
        risky=pl.col("account_id").is_in(risky["entity_id"].implode()),
        risky_owner=pl.col("risk_tier").is_in(["elevated", "high"]))
    rate = owner.group_by("risky_owner").agg(pl.col("risky").mean()).sort("risky_owner")["risky"].to_numpy()
    assert rate[1] > rate[0]


POLICY_6A = read_yaml(CONFIG_DIR / "policies" / "6a.yaml")


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["accounts"]["current"].update(cap=1, per_holder={"default": 2}), r"accounts.current.per_holder must lie between 1 and the cap"),
    (lambda d: d["parties"]["segments"]["retail"].pop("default"), r"parties.segments.retail: needs a `default`"),
    (lambda d: d["parties"]["types"].update(retail=0.5), r"parties.types must be non-negative and sum to 1"),
    (lambda d: d["ips"]["types"]["residential"].update(cap=2), r"ips.types.residential: cap 2 is below devices_per_ip 3"),
    (lambda d: d["instruments"]["domestic"].update(XX={"scheme": "ELO", "share": 0.5}), r"instruments.domestic.XX.scheme: unknown key\(s\) ELO"),
    (lambda d: d["fraud"].update(ring_ips=[6, 2]), r"fraud.ring_ips: write \[low, high\]"),
])
def test_bad_entity_policies_name_the_field(edit, message):
    content = copy.deepcopy(POLICY_6A)
    edit(content)
    with pytest.raises(ValueError, match=message):
        parse_entities(content)


def test_policy_vectors_follow_the_vocabulary_orders():
    model, _ = parse_entities(copy.deepcopy(POLICY_6A))
    from engine_kernels.vocabulary import REGIONS, SEGMENTS

    europe = model.parties.segment_mix["retail"][REGIONS.index("Europe")]
    assert europe[SEGMENTS.index("retired")] == pytest.approx(0.24)
    assert model.parties.household_sizes.shape == (len(REGIONS) + 1, 6)
    assert np.allclose(model.parties.age.sum(axis=1), 1)


def test_a_same_partition_foreign_key_refuses_a_party_of_another_country(ci_world):
    """accounts.party_id -> parties is same_partition: a GB account of a US party is an orphan, though
    the party exists in the world."""
    from engine_assets.quality.checks import _same_partitions
    from engine_assets.quality.contract_checks import check_frames
    from engine_assets.storage.datasets import scan_dataset

    identity = _identity(ci_world)
    accounts, parties = load_contract("seg_6a/accounts"), load_contract("seg_6a/parties")
    assert next(fk for fk in accounts.foreign_keys if fk.ref_dataset == "seg_6a/parties").same_partition
    gb = load_dataset(identity, accounts, "GB").collect()
    us_party = load_dataset(identity, parties, "US").select("party_id").collect()["party_id"][0]
    moved = gb.with_columns(party_id=pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(us_party, pl.UInt64))
                            .otherwise("party_id"))
    own = check_frames(accounts, {0: moved.lazy()}, {"seg_6a/parties": _same_partitions(identity, parties, ["GB"])})[0]
    world = check_frames(accounts, {0: moved.lazy()}, {"seg_6a/parties": scan_dataset(identity, parties)})[0]
    assert not own.passed and "no match in seg_6a/parties" in own.to_metadata()["violations"]
    assert world.passed
