"""Segment-wide checks of 6A: a closed, capped entity world, placed and sized like the real one.

Blocking: every country partition of every table published, rows in their own partition, ids
unique in the world, foreign keys across every table (fraud roles included), the caps (devices
per party, parties per device, devices per IP), every retail party holding an account and an
instrument, every site a terminal, every home inside its country, and each country exactly as
many parties as party_counts says. Realism (corridors in config/policies/6a.yaml): cards per
retail party, parties against population and arrivals across countries, home density against
population, the shared-device share, devices per IP by type and the busiest addresses' share,
the share of every entity kind with a non-clean role, and the risky-owner odds ratios.
"""

import numpy as np
import polars as pl
from scipy.stats import spearmanr

from engine_assets.quality.gates import MISSING_PARTITIONS_REMEDY, CheckOutcome, ValidationCheck, validation_asset
from engine_assets.quality.realism import Sample, corridor, invariant
from engine_assets.storage.reader import Reader
from engine_assets.world.reference.world import WORLD_DATASETS, reference_world
from engine_assets.run.partitions import COUNTRY_CODES
from engine_assets.world.seg_1b.assets import COUNTRY_INDEX
from engine_kernels.entities.country import DEVICES_PER_PARTY_CAP
from engine_kernels.ids import ID_KINDS
from engine_kernels.sites import realism as site_realism
from engine_kernels.vocabulary import IP_TYPES, RISK_TIERS

GROUP = "seg_6a"
TABLES = ("parties", "accounts", "instruments", "devices", "device_links", "ips", "ip_links", "fraud_roles")
IDS = {"parties": "party_id", "accounts": "account_id", "instruments": "instrument_id", "devices": "device_id",
       "ips": "ip_id"}
PARTIES_PER_DEVICE_CAP = 6
KIND = {"parties": "party", "accounts": "account", "instruments": "instrument", "devices": "device", "ips": "ip"}
PLURAL = {"party": "parties", "account": "accounts", "device": "devices", "merchant": "merchants"}


def _anti(left: pl.DataFrame, column: str, right: pl.Series) -> int:
    """Rows of `left` whose non-null `column` is not in `right`."""
    values = left.select(pl.col(column).drop_nulls())
    return values.join(right.to_frame(column), on=column, how="anti").height


def odds_ratio(risky_item: np.ndarray, risky_owner: np.ndarray) -> float:
    """Odds of a risky item among risky owners' items over the odds among other owners' items."""
    a, b = risky_item[risky_owner].sum(), (~risky_item[risky_owner]).sum()
    c, d = risky_item[~risky_owner].sum(), (~risky_item[~risky_owner]).sum()
    return float(a * d / (b * c)) if b and c and d else float("nan")


def placement_faults(read: Reader, name: str, published: list[str]) -> int:
    """Rows of a table stored under another country, or whose own id names another kind or country
    (ids embed both, engine_kernels/ids.py), counted partition by partition without loading the table."""
    identity_column = IDS.get(name)
    queries = []
    for country in published:
        wrong = pl.col("country_iso") != country
        if identity_column is not None:
            id_ = pl.col(identity_column)
            kind, index = id_ // pl.lit(1 << 60, pl.UInt64), (id_ // pl.lit(1 << 50, pl.UInt64)) % 1024
            wrong = wrong | (kind != ID_KINDS[KIND[name]]) | (index != COUNTRY_INDEX[country])
        queries.append(read.scan(f"{GROUP}/{name}", country).select(wrong.sum().alias("bad")))
    return int(pl.concat(queries).collect()["bad"].sum()) if queries else 0


def structure_outcomes(read: Reader, t: dict[str, pl.DataFrame], missing: dict[str, list[str]]) -> list[CheckOutcome]:
    policy = read.identity.policies.entities.model
    parties, accounts, instruments, devices = t["parties"], t["accounts"], t["instruments"], t["devices"]
    dlinks, roles, per_device = t["device_links"], t["fraud_roles"], t["per_device"]
    absent = {name: m for name, m in missing.items() if m}
    countries = COUNTRY_CODES
    misplaced = {name: placement_faults(read, name, [c for c in countries if c not in missing[name]])
                 for name in TABLES}
    repeated = {name: t[name].height - t[name][col].n_unique() for name, col in IDS.items()}

    sites, _ = read.every_country("seg_1b/site_locations", ["site_id"], tagged=False)
    merchants = read.scan("seg_1a/merchants").select("merchant_id").collect()
    owner = accounts.select("account_id", owner_id="party_id")
    wrong_owner = instruments.select("account_id", "party_id").join(owner, on="account_id", how="left").filter(
        pl.col("owner_id").is_null() | (pl.col("owner_id") != pl.col("party_id"))).height
    targets = {"party": parties["party_id"], "account": accounts["account_id"], "device": devices["device_id"],
               "ip": t["ips"]["ip_id"], "merchant": merchants["merchant_id"]}
    # The contract checks hold every other reference (x-foreign-keys in contracts/seg_6a/*.yaml).
    foreign = {
        "instruments whose party is not their account's owner": wrong_owner,
        **{f"fraud_roles.{k} ids": _anti(roles.filter(pl.col("entity_kind") == k), "entity_id", targets[k])
           for k in targets},
        "parties' devices without a party": int((devices["site_id"].is_null()
                                                  & ~devices["device_id"].is_in(per_device["device_id"].implode())).sum()),
    }

    per_party = dlinks.group_by("party_id").len()
    per_ip = t["per_ip"].with_columns(
        cap=pl.col("ip_type").cast(pl.String).replace_strict(dict(zip(IP_TYPES, policy.ips.cap.tolist())),
                                                             return_dtype=pl.Int64))
    over = {"devices per party > 20": per_party.filter(pl.col("len") > DEVICES_PER_PARTY_CAP).height,
            "parties per device > 6": per_device.filter(pl.col("len") > PARTIES_PER_DEVICE_CAP).height,
            "devices per IP over its type's cap": per_ip.filter(pl.col("len") > pl.col("cap")).height}

    retail = parties.filter(pl.col("party_type") == "retail")["party_id"]
    bare = {"without an account": int((~retail.is_in(accounts["party_id"].unique().implode())).sum()),
            "without an instrument": int((~retail.is_in(instruments["party_id"].unique().implode())).sum())}
    no_terminal = int((~sites["site_id"].is_in(devices["site_id"].drop_nulls().implode())).sum())

    world = reference_world(read)
    outside = {}
    # A household's members share one home: each distinct home is tested once, at full detail.
    homes = parties.select("country_iso", "home_lat", "home_lon").unique()
    for (country,), part in homes.partition_by("country_iso", as_dict=True).items():
        bad = int((~world.contains(country, part["home_lat"].to_numpy(), part["home_lon"].to_numpy(),
                                   full=True)).sum())
        if bad:
            outside[country] = bad
    planned = read.table(f"{GROUP}/party_counts").select("country_iso", "parties")
    held = parties.group_by("country_iso").len()
    counted = planned.join(held, on="country_iso", how="left", maintain_order="left").fill_null(0).filter(
        pl.col("parties") != pl.col("len"))
    return [
        invariant("entity_partitions_complete", sum(len(m) for m in absent.values()), "country partitions unpublished",
                  {"missing": {k: v[:10] for k, v in absent.items()}}),
        invariant("entity_rows_in_their_partition", sum(misplaced.values()),
                  "rows stored under another country or with an id of another kind or country", {"by_table": misplaced}),
        invariant("entity_ids_unique", sum(repeated.values()), "repeated ids", {"by_table": repeated}),
        invariant("entity_foreign_keys", sum(foreign.values()), "references to nothing",
                  {"by_reference": foreign, "also": "the contract checks of every 6A table hold its x-foreign-keys"}),
        invariant("entity_caps", sum(over.values()), "owners over a cap", {
            "by_cap": over, "largest": {"devices_per_party": int(per_party["len"].max() or 0),
                                        "parties_per_device": int(per_device["len"].max() or 0)}}),
        invariant("retail_parties_hold_account_and_instrument", sum(bare.values()), "retail parties", {"by_gap": bare}),
        invariant("every_site_has_a_terminal", no_terminal, "sites without a terminal"),
        invariant("homes_inside_country_polygon", sum(outside.values()), "homes outside their country (full detail)",
                  {"by_country": outside, "homes_tested": homes.height}),
        invariant("parties_as_counted", counted.height, "countries whose parties differ from party_counts",
                  {"countries": counted.head(10).to_dicts()}),
    ]


def _rank_correlation(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.shape[0] < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(spearmanr(x, y).statistic)


def realism_outcomes(read: Reader, t: dict[str, pl.DataFrame]) -> list[CheckOutcome]:
    identity = read.identity
    policy, realism = identity.policies.entities.model, identity.policies.entities.realism
    parties, accounts, instruments, devices = t["parties"], t["accounts"], t["instruments"], t["devices"]
    sample = Sample(parties.height, realism.enforce_from_parties, "parties")

    retail = parties.filter(pl.col("party_type") == "retail")["party_id"]
    cards = instruments.filter(pl.col("instrument_type").is_in(["debit_card", "credit_card"]))
    cards_per_retail = int(cards["party_id"].is_in(retail.implode()).sum()) / max(retail.len(), 1)

    counts = read.table(f"{GROUP}/party_counts").filter(pl.col("parties") > 0)
    weekly = (counts["weekly_card_present"] + counts["weekly_online"]).to_numpy()
    by_population = _rank_correlation(counts["parties"].to_numpy(), counts["population"].to_numpy())
    by_arrivals = _rank_correlation(counts["parties"].to_numpy(), weekly)

    world = reference_world(read)
    sizes = parties.group_by(pl.col("country_iso").cast(pl.String)).len().sort("len", "country_iso",
                                                                                descending=[True, False])
    largest = [c for c, n in sizes.iter_rows() if n >= realism.density_min_parties][: realism.density_countries]
    density = {}
    for c in largest:
        homes = parties.filter(pl.col("country_iso") == c)
        cells = world.populated_cells(c)
        density[c] = round(site_realism.density_correlation(homes["home_lat"].to_numpy(), homes["home_lon"].to_numpy(),
                                                             cells.lat, cells.lon, cells.population), 4)

    people_devices = devices.filter(pl.col("usage").is_in(["personal", "shared", "business"]))
    shared = people_devices.filter(pl.col("usage") == "shared").height / max(people_devices.height, 1)

    ring_ips = t["fraud_roles"].filter(pl.col("role") == "ring_ip")["entity_id"]
    per_ip = t["per_ip"].filter(~pl.col("ip_id").is_in(ring_ips.implode()))
    # Judged on the pools of countries with >= 10 addresses of the type: a country with a handful of
    # links of a type still needs one address, which measures its size, not the sizing rule.
    pools = per_ip.with_columns(country=(pl.col("ip_id") // pl.lit(1 << 50, pl.UInt64)) % 1024).group_by(
        "ip_type", "country").agg(addresses=pl.len(), links=pl.col("len").sum()).filter(pl.col("addresses") >= 10)
    factor = {}
    for name, target in zip(IP_TYPES, policy.ips.devices_per_ip):
        pool = pools.filter(pl.col("ip_type") == name)
        if pool.height:
            factor[name] = round(float(pool["links"].sum() / pool["addresses"].sum()) / float(target), 4)
    worst = max(factor.values(), key=lambda f: abs(np.log(f))) if factor else None
    all_sizes = np.sort(t["per_ip"]["len"].to_numpy())[::-1]
    top = max(1, all_sizes.shape[0] // 100)
    top_share = float(all_sizes[:top].sum() / all_sizes.sum()) if all_sizes.size else None

    roles = t["fraud_roles"]
    populations = {"party": parties.height, "account": accounts.height, "device": people_devices.height,
                   "merchant": read.table("seg_1a/merchants").height}
    role_shares = {k: roles.filter(pl.col("entity_kind") == k)["entity_id"].n_unique() / max(n, 1)
                   for k, n in populations.items()}

    risky_owners = parties.filter(pl.col("risk_tier").is_in([RISK_TIERS[i] for i in policy.fraud.risky_tiers]))[
        "party_id"].implode()

    def flagged(role: str) -> pl.Series:
        return roles.filter(pl.col("role") == role)["entity_id"].implode()

    or_accounts = odds_ratio(accounts["account_id"].is_in(flagged("risky_account")).to_numpy(),
                             accounts["party_id"].is_in(risky_owners).to_numpy())
    d = t["per_device"].filter(pl.col("device_id").is_in(people_devices["device_id"].implode()))
    or_devices = odds_ratio(d["device_id"].is_in(flagged("risky_device")).to_numpy(),
                            d["party_id"].is_in(risky_owners).to_numpy())

    low, high = realism.role_share
    return [
        corridor("cards_per_retail_party", cards_per_retail, *realism.cards_per_retail_party, digits=4, sample=sample),
        corridor("parties_follow_population", by_population, low=realism.population_rank_correlation_min, digits=4,
                 sample=sample, unmeasured="fewer than 3 countries with parties",
                 details={"measure": "Spearman correlation of parties and population over countries with parties"}),
        corridor("parties_follow_arrivals", by_arrivals, low=realism.arrivals_rank_correlation_min, digits=4,
                 sample=sample, unmeasured="fewer than 3 countries with parties",
                 details={"measure": "Spearman correlation of parties and expected weekly payments"}),
        corridor("home_density_correlation_min_largest", min(density.values()) if density else None,
                 low=realism.density_correlation_min, digits=4, sample=sample,
                 unmeasured=f"no country has >= {realism.density_min_parties} parties",
                 details={"measure": "lowest correlation of homes and people on 1° cells over the largest countries",
                          "by_country": density}),
        corridor("shared_device_share", shared, *realism.shared_device_share, digits=4, sample=sample,
                 details={"measure": "shared household devices over the parties' devices"}),
        corridor("devices_per_ip_factor_worst", worst, *realism.devices_per_ip_factor, digits=4, sample=sample,
                 unmeasured="no country has 10 addresses of one type",
                 details={"measure": "mean devices per address over the policy's devices_per_ip, over the countries "
                                     "with >= 10 addresses of the type (ring exits left out); the type furthest from 1",
                          "by_type": factor}),
        corridor("top_ip_link_share", top_share, low=realism.top_ip_link_share_min, digits=4, sample=sample,
                 unmeasured="no addresses", details={"measure": "share of device links on the busiest 1% of addresses"}),
        *[corridor(f"role_share_{PLURAL[k]}", share, low, high, digits=6, sample=sample,
                   details={"measure": f"share of {k}s with a non-clean role", "population": populations[k]})
          for k, share in role_shares.items()],
        corridor("risky_account_odds_ratio", or_accounts, *realism.odds_ratio, digits=4, sample=sample),
        corridor("risky_device_odds_ratio", or_devices, *realism.odds_ratio, digits=4, sample=sample),
    ]


# The columns the checks read: the whole world's tables never sit in memory at once.
COLUMNS = {
    "parties": ["party_id", "country_iso", "party_type", "home_lat", "home_lon", "risk_tier"],
    "accounts": ["account_id", "party_id"],
    "instruments": ["instrument_id", "account_id", "party_id", "instrument_type"],
    "devices": ["device_id", "usage", "site_id"],
    "device_links": ["party_id", "device_id"],
    "ips": ["ip_id"],
    "ip_links": ["device_id", "ip_id", "ip_type"],
    "fraud_roles": ["entity_kind", "entity_id", "role"],
}


def evaluate(read: Reader):
    tables, missing = {}, {}
    for name in TABLES:
        # Categoricals stay categorical (comparisons with strings work on them); the placement
        # check reads each partition on its own, so no row carries its partition here.
        tables[name], missing[name] = read.every_country(f"{GROUP}/{name}", COLUMNS[name], tagged=False)
    # Aggregates both halves use: parties per device (with its first party, the owner) and links per address.
    tables["per_device"] = tables["device_links"].group_by("device_id").agg(pl.len(), pl.col("party_id").first())
    tables["per_ip"] = tables["ip_links"].group_by("ip_id").agg(pl.len(), pl.col("ip_type").first())
    return structure_outcomes(read, tables, missing) + realism_outcomes(read, tables), {}


REMEDIES = {
    "entity_partitions_complete": MISSING_PARTITIONS_REMEDY,
    "cards_per_retail_party": (
        "Cards per retail party follow the card products of config/policies/6a.yaml: `instruments.cards.*.per_account` "
        "and the eligible shares and `per_holder` of `accounts.current` and `accounts.credit_card`."),
    "parties_follow_population": (
        "Raise `parties.population_weight` in config/policies/6a.yaml so more of each country's parties follow its "
        "people rather than the merchants' payments."),
    "parties_follow_arrivals": "Lower `parties.population_weight` in config/policies/6a.yaml.",
    "home_density_correlation_min_largest": (
        "Homes are drawn by cell population; a low correlation means too few parties for the country's cells: "
        "raise `party_scale` in the profile or `density_min_parties` in config/policies/6a.yaml's realism."),
    "shared_device_share": "Set `devices.shared.household_share` or the personal device means in config/policies/6a.yaml.",
    "devices_per_ip_factor_worst": (
        "Addresses are sized ceil(links / devices_per_ip); a type far from its target has caps too tight for its "
        "sigma: raise `ips.types.<type>.cap` or lower its `sigma` in config/policies/6a.yaml."),
    "top_ip_link_share": "Raise the sigma or devices_per_ip of carrier NAT and public wifi in config/policies/6a.yaml.",
    **{f"role_share_{k}": (
        "Role shares follow `fraud` in config/policies/6a.yaml: mule_share, synthetic_share, rings_per_million, "
        "propagation.base_share and the merchant shares.") for k in PLURAL.values()},
    "risky_account_odds_ratio": "Set `fraud.propagation.odds_ratio` in config/policies/6a.yaml.",
    "risky_device_odds_ratio": "Set `fraud.propagation.odds_ratio` in config/policies/6a.yaml.",
}

CHECKS = [ValidationCheck(name, text, remedy=REMEDIES.get(name, "")) for name, text in (
    ("entity_partitions_complete", "Every country partition of every 6A table is published."),
    ("entity_rows_in_their_partition", "Each row is stored under its own country."),
    ("entity_ids_unique", "Party, account, instrument, device and IP ids are unique in the world."),
    ("entity_foreign_keys", "Every reference between 6A tables, sites, merchants and roles points at a row."),
    ("entity_caps", "Devices per party <= 20, parties per device <= 6, devices per IP <= its type's cap."),
    ("retail_parties_hold_account_and_instrument", "Every retail party holds an account and an instrument."),
    ("every_site_has_a_terminal", "Every site of 1B has at least one payment terminal."),
    ("homes_inside_country_polygon", "Every home lies inside its country's full-detail polygon."),
    ("parties_as_counted", "Each country holds the parties party_counts gives it."),
    ("cards_per_retail_party", "Realism: cards per retail party (1.5-4)."),
    ("parties_follow_population", "Realism: countries' parties rank like their populations."),
    ("parties_follow_arrivals", "Realism: countries' parties rank like their expected payments."),
    ("home_density_correlation_min_largest", "Realism: homes follow population on 1° cells in the largest countries."),
    ("shared_device_share", "Realism: share of shared household devices."),
    ("devices_per_ip_factor_worst", "Realism: devices per IP of each type near its policy value."),
    ("top_ip_link_share", "Realism: the busiest 1% of IPs carry a heavy tail of devices."),
    ("role_share_parties", "Realism: share of parties with a non-clean role."),
    ("role_share_accounts", "Realism: share of accounts with a non-clean role."),
    ("role_share_devices", "Realism: share of devices with a non-clean role."),
    ("role_share_merchants", "Realism: share of merchants with a non-clean role."),
    ("risky_account_odds_ratio", "Realism: risky owners' accounts are risky with odds ratio 1.5-2."),
    ("risky_device_odds_ratio", "Realism: risky owners' devices are risky with odds ratio 1.5-2."),
)]


validation = validation_asset(
    GROUP,
    reads=[*(f"{GROUP}/{name}" for name in TABLES), f"{GROUP}/party_counts", "seg_1b/site_locations",
           "seg_1a/merchants", *WORLD_DATASETS],
    evaluate=evaluate,
    description="A closed, capped entity world whose parties live and bank like people do, with its fraud roles.",
    checks=CHECKS,
)
