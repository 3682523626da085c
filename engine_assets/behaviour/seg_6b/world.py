"""The world a scenario's payments are drawn over, loaded once per run as index arrays.

Parties, instruments, devices and addresses (6A), their favourite sites (seg_6b/patronage), sites,
merchants, edges and the countries' money and rails, each sorted by id so a row's position is
its index, and the lists kernels pick from (a party's cards, a site's regulars, a country's
card-active parties...) as CSR offsets over those indices.
"""

from dataclasses import dataclass

import babel.numbers
import numpy as np
import polars as pl

from engine_assets.storage.reader import Reader
from engine_assets.world.seg_2a.clock import read_transitions
from engine_kernels.civil_time.transitions import Transitions
from engine_kernels.entities.draws import Draws
from engine_kernels.flows.transfers import party_streams
from engine_kernels.randomness import substreams
from engine_kernels.vocabulary import (
    INCOME_BANDS,
    INSTRUMENT_TYPES,
    IP_TYPES,
    PARTY_TYPES,
    SECTORS,
    SEGMENTS,
)

# What the run reads of the world besides arrivals (engine_assets/behaviour/seg_6b/assets.py declares them).
WORLD_READS = ("seg_6a/parties", "seg_6a/accounts", "seg_6a/instruments", "seg_6a/devices", "seg_6a/device_links",
               "seg_6a/ips", "seg_6a/ip_links", "seg_1b/site_locations", "seg_1a/merchants", "seg_3b/edge_catalogue",
               "reference/countries", "seg_2a/tz_transitions", "seg_2b/site_weights")
CASH_MCCS = (6010, 6011)
OTHER_IP_TYPES = ("public_wifi", "mobile_cgnat")


def by_id(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """`frame` sorted by its id column. Country partitions are read in code order and ids carry the
    country's index above their serial, so 6A's tables usually arrive sorted: no copy then."""
    return frame if frame[column].is_sorted() else frame.sort(column)


def _small(index: np.ndarray) -> np.ndarray:
    """Row indices of a kept list as int32: the lists of the reference world hold ~100M of them."""
    return index.astype(np.int32)


def csr(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Offsets of the rows of each group 0..n-1 in rows sorted by group (int32 while they fit: the
    reference world's offsets over 15M instruments and 8M devices are ~200 MB as int64)."""
    offsets = np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n_groups))))
    return offsets.astype(np.int32 if offsets[-1] < 2**31 else np.int64)


def index_of(sorted_ids: np.ndarray, ids: np.ndarray, what: str) -> np.ndarray:
    """Positions of `ids` in `sorted_ids`; every id must be there. Both must be uint64: float ids
    (a nullable column through numpy) lose their low digits past 2^53."""
    if ids.dtype != np.uint64 or sorted_ids.dtype != np.uint64:
        raise TypeError(f"seg_6b: {what}: ids must be uint64, got {ids.dtype} and {sorted_ids.dtype}")
    at = np.searchsorted(sorted_ids, ids)
    at = np.minimum(at, max(sorted_ids.size - 1, 0))
    if ids.size and (sorted_ids.size == 0 or (sorted_ids[at] != ids).any()):
        raise ValueError(f"seg_6b: {what} refers to ids that are not published; rebuild seg_6a and check its validation")
    return at.astype(np.int64)


def codes_of(values: pl.Series, names, missing: int | None = None) -> np.ndarray:
    """Position of each value in `names` (vectorised); a value not there maps to `missing`, or
    raises when `missing` is None; a null maps to `missing`, or -1. A categorical column is looked up by its few distinct values
    and then gathered by physical code: a day's arrivals carry ~2M zone and country names."""
    lookup = {n: i for i, n in enumerate(names)}

    def by_name(strings: pl.Series) -> np.ndarray:
        strings = strings.cast(pl.String)
        if missing is None:  # a null stays -1
            return strings.replace_strict(lookup, return_dtype=pl.Int64).fill_null(-1).to_numpy()
        return strings.replace_strict(lookup, default=missing, return_dtype=pl.Int64).fill_null(missing).to_numpy()

    if not isinstance(values.dtype, pl.Categorical) or values.len() < 4096:
        return by_name(values)
    distinct = values.unique()
    table = np.zeros(int(distinct.to_physical().max() or 0) + 2, np.int64)
    table[distinct.to_physical().fill_null(table.size - 1).to_numpy()] = by_name(distinct)
    return table[values.to_physical().fill_null(table.size - 1).to_numpy()]


@dataclass
class Money:
    """Per country of the run: currency, minor unit, units per dollar at local prices, FX, rail, 3DS."""

    currency: list[str]
    minor_unit: np.ndarray
    price_fx: np.ndarray  # local units per US dollar at US prices: price level x FX
    fx: np.ndarray  # units per US dollar
    rail: list[str]
    three_ds: np.ndarray


def country_money(read: Reader, codes: list[str]) -> Money:
    identity = read.identity
    amounts = identity.policies.flows.model.amounts
    auth = identity.policies.flows.model.authorisation
    rails = identity.policies.entities.model.instruments
    countries = read.scan("reference/countries").select("country_iso", "currency", "gdp_per_capita").collect()
    # A code without legal tender of its own (Antarctica) counts in US dollars.
    currency = {c: m or "USD" for c, m in zip(countries["country_iso"], countries["currency"])}
    gdp = dict(zip(countries["country_iso"], countries["gdp_per_capita"]))
    us = gdp.get("US") or max((g for g in gdp.values() if g), default=1.0)
    missing = sorted({currency.get(c, "USD") for c in codes} - set(amounts.fx_per_usd))
    if missing:
        raise ValueError(f"seg_6b: no rate for currencies {', '.join(missing)} in amounts.fx_per_usd of "
                         "config/policies/6b.yaml; add one per currency (units per US dollar)")
    cur = [currency.get(c, "USD") for c in codes]
    level = np.array([min(max((gdp.get(c) or us) / us, 1e-9) ** amounts.price_elasticity, amounts.price_cap)
                      for c in codes])
    level = np.maximum(level, amounts.price_floor)
    fx = np.array([amounts.fx_per_usd[c] for c in cur])
    minor = np.array([10.0 ** -babel.numbers.get_currency_precision(c) for c in cur])
    return Money(cur, minor, level * fx, fx, [rails.rail(c) for c in codes],
                 np.array([c in auth.three_ds_mandated for c in codes]))


class World:
    """Everything a day's flows are drawn over (see the module docstring).

    Each table is read, turned into arrays and dropped by a loader of its own, so only one of
    6A's frames is alive at a time: the reference world's instruments alone are 15M rows."""

    def __init__(self, read: Reader, countries: list[str]):
        identity = read.identity
        self.identity = identity
        self.countries = countries
        self.money = country_money(read, countries)
        self.draws = Draws(identity.substream_key)
        self._parties(read)
        self._instruments(read)
        self._accounts(read)
        terminals = self._devices(read)
        self._ips(read)
        self._sites(read, terminals)
        self._merchants(read)
        edges = read.table("seg_3b/edge_catalogue").select("edge_id", "merchant_id", "country_iso").sort("edge_id")
        self.edge_id = edges["edge_id"].to_numpy()
        self.edge_country = codes_of(edges["country_iso"], countries, -1)
        self.edge_merchant = index_of(self.merchant_id, edges["merchant_id"].to_numpy(), "seg_3b/edge_catalogue")
        self.edge_zone = codes_of(read.table("seg_3b/edge_catalogue").sort("edge_id")["tzid"], self.transitions.tzids,
                                  -1).astype(np.int16)
        zones = read.every_country("seg_2b/site_weights", ["site_id", "tzid"], tagged=False)[0]
        self.site_zone = np.full(self.site_id.size, -1, np.int16)
        self.site_zone[index_of(self.site_id, zones["site_id"].to_numpy(), "seg_2b/site_weights.site_id")] = \
            codes_of(zones["tzid"], self.transitions.tzids, -1)
        self._by_country()

    def _parties(self, read: Reader) -> None:
        parties, _ = read.every_country("seg_6a/parties", ["party_id", "country_iso", "party_type", "segment",
                                                           "income_band", "household_id", "home_lat", "home_lon",
                                                           "home_cell_id", "home_tzid"], tagged=False)
        parties = by_id(parties, "party_id")
        self.party_id = parties["party_id"].to_numpy()
        self.party_country = codes_of(parties["country_iso"], self.countries)
        self.party_type = codes_of(parties["party_type"], PARTY_TYPES)
        self.segment = codes_of(parties["segment"], SEGMENTS)
        self.income = codes_of(parties["income_band"], INCOME_BANDS)
        # Nullable uint64 columns are filled before leaving polars: as numpy they would become float64
        # and ids past 2^53 would lose their last digits.
        household = parties["household_id"].fill_null(0).to_numpy()
        self.household = np.where(parties["household_id"].is_null().to_numpy(), -1,
                                  np.unique(household, return_inverse=True)[1]).astype(np.int64)
        self.home_lat, self.home_lon = parties["home_lat"].to_numpy(), parties["home_lon"].to_numpy()
        self.home_cell = parties["home_cell_id"].to_numpy()
        self.transitions: Transitions = read_transitions(read.table("seg_2a/tz_transitions"))
        zones = {z: i for i, z in enumerate(self.transitions.tzids)}
        homes = parties["home_tzid"].cast(pl.String)
        unknown = sorted(set(homes.unique().to_list()) - set(zones))
        if unknown:
            raise ValueError(f"seg_6b: home zones {unknown[:5]} have no clock in seg_2a/tz_transitions; rebuild seg_2a")
        self.home_zone = codes_of(parties["home_tzid"], self.transitions.tzids)

    def _instruments(self, read: Reader) -> None:
        n = self.party_id.size
        inst = read.every_country("seg_6a/instruments", ["instrument_id", "account_id", "party_id", "instrument_type",
                                                         "card_id"], tagged=False)[0]
        inst = by_id(inst, "instrument_id")
        self.instrument_id = inst["instrument_id"].to_numpy()
        self.instrument_account = inst["account_id"].to_numpy()
        kind = codes_of(inst["instrument_type"], INSTRUMENT_TYPES)
        owner = index_of(self.party_id, inst["party_id"].to_numpy(), "seg_6a/instruments.party_id")
        card = np.flatnonzero(kind <= 1)
        order = np.lexsort((self.draws.hashes(substreams.CARD_ORDER, self.instrument_id[card]), owner[card]))
        self.card_offsets, self.card_list = csr(owner[card], n), _small(card[order])
        self.card_is_debit = kind == 0
        tokens = np.flatnonzero(kind == 2)
        token_card = index_of(self.instrument_id, inst["card_id"].fill_null(0).to_numpy()[tokens],
                              "seg_6a/instruments.card_id")
        order = np.lexsort((tokens, token_card))
        self.token_offsets, self.token_list = csr(token_card, self.instrument_id.size), _small(tokens[order])
        handles = np.flatnonzero(kind == 3)
        self.handle = np.full(n, -1, np.int64)
        self.handle[owner[handles][::-1]] = handles[::-1]  # the party's first handle by id
        active_share = self.identity.policies.entities.model.parties.active_share
        active = self.draws.uniform(substreams.CARD_ACTIVE, self.party_id) < active_share
        self.card_active = (np.diff(self.card_offsets) > 0) & active

    def _accounts(self, read: Reader) -> None:
        accounts = read.every_country("seg_6a/accounts", ["account_id", "party_id", "account_type"], tagged=False)[0]
        current = accounts.filter(pl.col("account_type").cast(pl.String).is_in(["current", "business_current"]))
        current = current.group_by("party_id").agg(pl.col("account_id").min())
        self.current_account = np.zeros(self.party_id.size, np.uint64)
        self.current_account[index_of(self.party_id, current["party_id"].to_numpy(), "seg_6a/accounts")] = \
            current["account_id"].to_numpy()

    def _devices(self, read: Reader) -> tuple[np.ndarray, np.ndarray]:
        """Devices and their holders; returns the terminals and their site ids."""
        devices = by_id(read.every_country("seg_6a/devices", ["device_id", "usage", "site_id"], tagged=False)[0],
                        "device_id")
        self.device_id = devices["device_id"].to_numpy()
        farm = codes_of(devices["usage"], ["farm"], -1) == 0  # a ring's farm devices buy nothing legitimate
        self.farm_devices = np.flatnonzero(farm)
        terminal = np.flatnonzero(~devices["site_id"].is_null().to_numpy())
        at_site = devices["site_id"].fill_null(0).to_numpy()[terminal]
        del devices
        links = read.every_country("seg_6a/device_links", ["device_id", "party_id"], tagged=False)[0]
        device = index_of(self.device_id, links["device_id"].to_numpy(), "seg_6a/device_links.device_id")
        keep = ~farm[device]
        holder = index_of(self.party_id, links["party_id"].to_numpy()[keep], "seg_6a/device_links.party_id")
        order = np.lexsort((device[keep], holder))
        self.device_offsets, self.device_list = csr(holder, self.party_id.size), _small(device[keep][order])
        return terminal, at_site

    def _ips(self, read: Reader) -> None:
        ips = by_id(read.every_country("seg_6a/ips", ["ip_id", "country_iso", "ip_type"], tagged=False)[0], "ip_id")
        self.ip_id = ips["ip_id"].to_numpy()
        ip_links = read.every_country("seg_6a/ip_links", ["device_id", "ip_id", "is_first"], tagged=False)[0]
        on = index_of(self.device_id, ip_links["device_id"].to_numpy(), "seg_6a/ip_links.device_id")
        ip = index_of(self.ip_id, ip_links["ip_id"].to_numpy(), "seg_6a/ip_links.ip_id")
        order = np.lexsort((ip, ~ip_links["is_first"].to_numpy(), on))
        self.ip_offsets, self.ip_list = csr(on, self.device_id.size), _small(ip[order])
        ip_type = codes_of(ips["ip_type"], IP_TYPES)
        self.ip_type = ip_type.astype(np.int8)
        self.ip_country = codes_of(ips["country_iso"], self.countries, -1).astype(np.int16)
        other = np.flatnonzero(np.isin(ip_type, [IP_TYPES.index(t) for t in OTHER_IP_TYPES]))
        other_country = codes_of(ips["country_iso"], self.countries, -1)[other]
        other = other[other_country >= 0]
        other_country = other_country[other_country >= 0]
        order = np.lexsort((other, other_country))
        self.other_ip_offsets, self.other_ip_list = csr(other_country, len(self.countries)), _small(other[order])

    def _sites(self, read: Reader, terminals: tuple[np.ndarray, np.ndarray]) -> None:
        sites = read.every_country("seg_1b/site_locations", ["site_id", "merchant_id", "legal_country_iso", "lat_deg",
                                                              "lon_deg"], tagged=False)[0]
        sites = by_id(sites, "site_id")
        self.site_id = sites["site_id"].to_numpy()
        self.site_merchant_id = sites["merchant_id"].to_numpy()
        self.site_country = codes_of(sites["legal_country_iso"], self.countries)
        self.site_lat, self.site_lon = sites["lat_deg"].to_numpy(), sites["lon_deg"].to_numpy()
        terminal, site_id = terminals
        at_site = index_of(self.site_id, site_id, "seg_6a/devices.site_id")
        order = np.lexsort((terminal, at_site))
        self.terminal_offsets, self.terminal_list = csr(at_site, self.site_id.size), _small(terminal[order])

    def _merchants(self, read: Reader) -> None:
        merchants = read.table("seg_1a/merchants").select("merchant_id", "home_country_iso", "mcc", "sector").sort(
            "merchant_id")
        self.merchant_id = merchants["merchant_id"].to_numpy()
        self.merchant_sector = codes_of(merchants["sector"], SECTORS)
        self.merchant_is_cash = np.isin(merchants["mcc"].to_numpy(), CASH_MCCS)
        self.site_merchant = index_of(self.merchant_id, self.site_merchant_id, "seg_1b/site_locations")
        del self.site_merchant_id
        policy = self.identity.policies.flows.model
        billers = np.flatnonzero(policy.transfers.biller_sectors[self.merchant_sector])
        home = codes_of(merchants["home_country_iso"], self.countries, -1)
        self.merchant_country = home
        billers = billers[home[billers] >= 0]
        order = np.lexsort((billers, home[billers]))
        self.biller_offsets, self.billers = csr(home[billers], len(self.countries)), _small(billers[order])

    def _by_country(self) -> None:
        """Card-active parties by country, and every party by country in home-cell order (P2P payees)."""
        countries, n = len(self.countries), self.party_id.size
        active_idx = np.flatnonzero(self.card_active)
        self.country_offsets = csr(self.party_country[active_idx], countries)
        self.country_party = _small(active_idx[np.argsort(self.party_country[active_idx], kind="stable")])
        self.spatial = _small(np.lexsort((self.party_id, self.home_cell, self.party_country)))
        self.position = np.empty(n, np.int32)
        self.position[self.spatial] = np.arange(n)
        self.all_country_offsets = csr(self.party_country, countries)
        business = np.flatnonzero(self.party_type == PARTY_TYPES.index("business"))
        self.employer_offsets, self.employers = csr(self.party_country[business], countries), business
        public = np.flatnonzero(self.segment == SEGMENTS.index("public_body"))
        self.payer_offsets, self.payers = csr(self.party_country[public], countries), public
        transfers = self.identity.policies.flows.model.transfers
        self.salaried = transfers.salary_segments[self.segment]
        self.transfer_streams = party_streams(self.identity.substream_key(substreams.TRANSFER), self.party_id,
                                              self.party_type, transfers.paydays, transfers.payday_weights)

    def attach_patronage(self, patronage: pl.LazyFrame | pl.DataFrame) -> None:
        """Regulars and neighbours of each site as CSRs over site indices. One relation's two id
        columns are read at a time; the table is published sorted by site, relation and party, so
        the lists come out in order without a sort."""
        for relation in ("regular", "neighbour"):
            rows = patronage.lazy().filter(pl.col("relation").cast(pl.String) == relation).select(
                "site_id", "party_id").collect()
            site = index_of(self.site_id, rows["site_id"].to_numpy(), "seg_6b/patronage.site_id")
            party = index_of(self.party_id, rows["party_id"].to_numpy(), "seg_6b/patronage.party_id")
            del rows
            ordered = (site[1:] > site[:-1]) | ((site[1:] == site[:-1]) & (party[1:] >= party[:-1]))
            if not ordered.all():
                order = np.lexsort((party, site))
                site, party = site[order], party[order]
            del ordered
            setattr(self, f"{relation}_offsets", csr(site, self.site_id.size))
            setattr(self, f"{relation}_party", _small(party))


def zone_offsets(table: Transitions, at_us: int) -> np.ndarray:
    """UTC offset in seconds of every zone of `table` at one instant."""
    out = np.empty(len(table.tzids), np.int64)
    for z in range(len(table.tzids)):
        lo, hi = table.offsets[z], table.offsets[z + 1]
        out[z] = table.offset_seconds[lo + max(int(np.searchsorted(table.utc_start[lo:hi], at_us // 1_000_000,
                                                                         side="right")) - 1, 0)]
    return out


def weekly_volumes(read: Reader) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Expected weekly arrivals (5A) by card-present site, and by card-not-present (merchant, market):
    a row's online part over its merchant's edge countries by weight, its site part in its country."""
    profile = read.table("seg_5a/merchant_zone_profile").select("merchant_id", "legal_country_iso", "tzid",
                                                                "channel_group", "weekly_volume")
    classes = read.table("seg_3b/virtual_classification").select("merchant_id", "virtual_share")
    # The volumes weigh draws, so every sum adds its terms in one fixed order: the joins keep the rows'
    # order and each group is summed as a list, in that order (polars' grouped float `sum` splits a
    # group across threads, and its last bits then follow the thread count).
    rows = profile.join(classes, on="merchant_id", how="left", maintain_order="left").with_columns(
        pl.col("virtual_share").fill_null(0.0))
    weights, _ = read.every_country("seg_2b/site_weights", ["site_id", "merchant_id", "legal_country_iso", "tzid",
                                                            "weight"], tagged=False)
    weights = weights.with_columns(pl.col("legal_country_iso", "tzid").cast(pl.String))
    at_sites = rows.join(weights, on=["merchant_id", "legal_country_iso", "tzid"], maintain_order="left_right") \
        .with_columns(volume=pl.col("weekly_volume") * (1 - pl.col("virtual_share")) * pl.col("weight"))
    sites = at_sites.filter(pl.col("channel_group") == "card_present").group_by("site_id").agg(
        pl.col("volume").implode().list.sum())
    mail = at_sites.filter(pl.col("channel_group") != "card_present").group_by(
        "merchant_id", market="legal_country_iso").agg(pl.col("volume").implode().list.sum())
    online = rows.group_by("merchant_id").agg(
        online=(pl.col("weekly_volume") * pl.col("virtual_share")).implode().list.sum())
    edges = read.table("seg_3b/edge_catalogue").select("merchant_id", "country_iso", "weight")
    served = edges.join(online, on="merchant_id", maintain_order="left").group_by(
        "merchant_id", market="country_iso").agg(volume=(pl.col("online") * pl.col("weight")).implode().list.sum())
    # A (merchant, market) has at most one part of each kind: a sum of two terms has one order.
    markets = pl.concat([mail, served]).group_by("merchant_id", "market").agg(pl.col("volume").sum())
    return sites.sort("site_id"), markets.sort("merchant_id", "market")


def market_pools(world: World, markets: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(sorted keys merchant index x countries + market, regular pool size) of every (merchant, market)."""
    policy = world.identity.policies.flows.model.attachment
    market = codes_of(markets["market"], world.countries, -1)
    keep = market >= 0
    merchant = index_of(world.merchant_id, markets["merchant_id"].to_numpy()[keep], "seg_6b: online markets")
    keys = merchant * len(world.countries) + market[keep]
    lo, hi = policy.online_regulars
    size = np.clip(np.ceil(markets["volume"].to_numpy()[keep] * policy.online_regular_share
                           / policy.online_visits_per_week), lo, hi).astype(np.int64)
    order = np.argsort(keys)
    return keys[order], size[order]
