"""Every id the engine mints, and its bit layout: unique in the run and readable back into its parts.

All ids are uint64; fields are listed from the most significant bit down.

    id               fields (bits)                                                  minted by
    merchant_id      0 (24) | serial 1..n (40)                                      1A merchants
    site_id          merchant_id (40) | country index (10) | site_order (14)        1B site_locations
    edge_id          merchant_id (48) | edge index (16)                             3B edge_catalogue
    arrival_id       scenario (8) | UTC day (20) | rank in the day (36)             5B arrival_events
    party_id, account_id, instrument_id, device_id, ip_id, household_id, ring_id
                     kind (4) | country index (10) | serial in the country (50)     6A, per country
    flow_id          scenario (8) | UTC day (20) | rank in the day (36)             6B flows, per scenario and day
    session_id       scenario (8) | UTC day (20) | rank in the day (36)             6B sessions, per scenario and day
    campaign_id      scenario (8) | fraud type (8) | serial 1..n (48)               6B fraud_campaigns, per scenario
    case_id          scenario (8) | 0 (8) | serial 1..n (48)                        6B cases, per scenario

country index  the country's position in the sorted ISO alpha-2 code list (COUNTRY_INDEX in
               engine_assets/world/seg_1b/assets.py), fixed by the code list, not by the profile;
site_order     1-based position of the site among its merchant's sites in the country;
edge index     0-based position of the edge among its merchant's edges;
scenario       position of the scenario among the policy's scenarios, sorted by name;
UTC day        whole days since 1970-01-01 (20 bits last until the year 4840);
kind           1 party, 2 account, 3 instrument (cards, wallet tokens, transfer handles),
               4 device (merchant terminals included), 5 ip, 6 household, 7 fraud ring; never
               0, so layer-3 entity ids of different kinds never meet, and none equals a
               merchant id;
serial         1-based position of the entity among its country's entities of its kind.
A flow_id numbers the flows of a day on their own, the way arrival_id numbers arrivals, and a
session_id the day's sessions: each kind keeps to its own columns. A value that does not fit its field raises ValueError rather than
spill into the next field.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ARRIVAL_ID", "CAMPAIGN_ID", "EDGE_ID", "ENTITY_ID", "ID_KINDS", "SITE_ID", "arrival_ids", "campaign_ids",
           "case_ids", "edge_ids", "entity_ids", "flow_ids", "merchant_ids", "session_ids", "site_ids"]

_MERCHANT_BITS = 40
# (field, bits) from the most significant; each layout fills 64 bits.
SITE_ID = (("merchant_id", _MERCHANT_BITS), ("country_index", 10), ("site_order", 14))
EDGE_ID = (("merchant_id", 48), ("edge_index", 16))
ARRIVAL_ID = (("scenario", 8), ("day", 20), ("rank", 36))
CAMPAIGN_ID = (("scenario", 8), ("fraud_type", 8), ("serial", 48))
ENTITY_ID = (("kind", 4), ("country_index", 10), ("serial", 50))
ID_KINDS = {"party": 1, "account": 2, "instrument": 3, "device": 4, "ip": 5, "household": 6, "ring": 7}


def merchant_ids(n: int) -> np.ndarray:
    """uint64 ids 1..n of a universe of n merchants."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"merchants must be an integer >= 1, got {n!r}")
    if n >= 1 << _MERCHANT_BITS:
        raise ValueError(f"merchants: {n} do not fit the {_MERCHANT_BITS} bits of merchant_id")
    return np.arange(1, int(n) + 1, dtype=np.uint64)


def site_ids(merchant_id: np.ndarray, country_index: int, site_order: np.ndarray) -> np.ndarray:
    """uint64 site ids of one country's sites: merchant_id · 2^24 + country_index · 2^14 + site_order."""
    return _pack("site_id", SITE_ID, merchant_id, country_index, site_order)


def edge_ids(merchant_id: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """uint64 edge ids: merchant_id · 2^16 + edge_index."""
    return _pack("edge_id", EDGE_ID, merchant_id, edge_index)


def arrival_ids(scenario: int, day: int, rank: np.ndarray) -> np.ndarray:
    """uint64 arrival ids of one scenario's UTC day (days since 1970): scenario · 2^56 + day · 2^36 + rank."""
    return _pack("arrival_id", ARRIVAL_ID, scenario, day, rank)


def flow_ids(scenario: int, day: int, rank: np.ndarray) -> np.ndarray:
    """uint64 flow ids of one scenario's UTC day, ranked by (ts_utc, unit): the arrival id layout."""
    return _pack("flow_id", ARRIVAL_ID, scenario, day, rank)


def session_ids(scenario: int, day: int, rank: np.ndarray) -> np.ndarray:
    """uint64 session ids of one scenario's UTC day, ranked by (start, party, device)."""
    return _pack("session_id", ARRIVAL_ID, scenario, day, rank)


def campaign_ids(scenario: int, fraud_type: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """uint64 ids of a scenario's fraud campaigns: the type (index in FRAUD_TYPES) and a 1-based serial in it."""
    return _pack("campaign_id", CAMPAIGN_ID, scenario, fraud_type, serial)


def case_ids(scenario: int, serial: np.ndarray) -> np.ndarray:
    """uint64 ids of a scenario's cases, 1-based in (opened_at, key) order."""
    return _pack("case_id", CAMPAIGN_ID, scenario, 0, serial)


def entity_ids(kind: str, country_index: int, serial: np.ndarray) -> np.ndarray:
    """uint64 ids of one country's entities of `kind` (ID_KINDS): kind · 2^60 + country_index · 2^50 + serial."""
    if kind not in ID_KINDS:
        raise ValueError(f"entity kind {kind!r} is not one of {sorted(ID_KINDS)}")
    return _pack(f"{kind}_id", ENTITY_ID, ID_KINDS[kind], country_index, serial)


def _pack(kind: str, layout: tuple[tuple[str, int], ...], *values) -> np.ndarray:
    """OR of every field shifted to its place, after checking that each value fits its bits."""
    out, shift = np.uint64(0), 64
    for (name, bits), value in zip(layout, values, strict=True):
        shift -= bits
        out = out | (_field(kind, name, bits, value) << np.uint64(shift))
    return out


def _field(kind: str, name: str, bits: int, value) -> np.ndarray:
    value = np.asarray(value)
    if value.dtype.kind not in "iu":
        raise ValueError(f"{kind}: {name} must be integers, got dtype {value.dtype}")
    if value.size and value.min() < 0:
        raise ValueError(f"{kind}: {name} {int(value.min())} is negative")
    if value.size and int(value.max()) >= 1 << bits:
        raise ValueError(f"{kind}: {name} {int(value.max())} does not fit its {bits} bits (at most {(1 << bits) - 1})")
    return value.astype(np.uint64)
