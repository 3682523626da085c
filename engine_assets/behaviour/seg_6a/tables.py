"""One country's entity world as the Arrow tables of its contracts (contracts/seg_6a/*.yaml).

Codes become dictionary columns over the vocabularies they index, built straight from the numpy
arrays; every table is sorted by its contract's sort keys.
"""

import datetime as dt

import numpy as np
import pyarrow as pa

from engine_kernels.entities.country import CountryWorld
from engine_kernels.vocabulary import (
    ACCOUNT_TYPES,
    AGE_BANDS,
    ASN_CLASSES,
    DEVICE_TYPES,
    DEVICE_USAGES,
    ENTITY_KINDS,
    FRAUD_ROLES,
    INCOME_BANDS,
    INSTRUMENT_FORMS,
    INSTRUMENT_TYPES,
    IP_TYPES,
    LINK_ROLES,
    OPERATING_SYSTEMS,
    PARTY_TYPES,
    RISK_TIERS,
    SCHEMES,
    SEGMENTS,
)

TABLES = ("parties", "accounts", "instruments", "devices", "device_links", "ips", "ip_links", "fraud_roles")
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)


def _codes(codes: np.ndarray, names, mask: np.ndarray | None = None) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, np.int32), mask=mask),
                                          pa.array(list(names), pa.string()))


def _strings(values: np.ndarray) -> pa.DictionaryArray:
    """Dictionary of the distinct strings of an object array (zones, countries, rails)."""
    names, codes = np.unique(values.astype(str), return_inverse=True)
    return _codes(codes, names.tolist())


def _country(n: int, country: str) -> pa.Array:
    return pa.repeat(pa.scalar(country, pa.string()), n)


def tokens(hashes: np.ndarray) -> pa.StringArray:
    """`tok_` and 16 hex digits of each opaque 64-bit value, built as one buffer."""
    n = hashes.shape[0]
    raw = hashes.astype(">u8").view(np.uint8).reshape(n, 8)
    text = np.empty((n, 20), np.uint8)
    text[:, :4] = np.frombuffer(b"tok_", np.uint8)
    text[:, 4::2], text[:, 5::2] = _HEX[raw >> 4], _HEX[raw & 15]
    offsets = np.arange(0, 20 * (n + 1), 20, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.tobytes()), pa.py_buffer(text.tobytes()))


def _months_after(start: dt.date, months: np.ndarray) -> pa.Array:
    first = np.datetime64(f"{start.year:04d}-{start.month:02d}", "M")
    days = (first + np.maximum(months, 0).astype("timedelta64[M]")).astype("datetime64[D]")
    return pa.array(days, pa.date32(), mask=months < 0)


def country_tables(w: CountryWorld, country: str, rail: str, horizon_start: dt.date, site_ids: np.ndarray,
                   site_merchant: np.ndarray) -> dict[str, pa.Table]:
    """The eight per-country tables of 6A; `rail` is the country's account-to-account rail."""
    p, a, i, d = w.parties, w.accounts, w.instruments, w.devices
    household = p.household
    parties = pa.table({
        "party_id": pa.array(p.party_id, pa.uint64()), "country_iso": _country(p.size, country),
        "party_type": _codes(p.party_type, PARTY_TYPES), "segment": _codes(p.segment, SEGMENTS),
        "age_band": _codes(p.age_band, AGE_BANDS), "income_band": _codes(p.income_band, INCOME_BANDS),
        "tenure_months": pa.array(p.tenure_months, pa.int32()),
        "household_id": pa.array(p.household_id[np.maximum(household, 0)] if p.household_id.size
                                 else np.zeros(p.size, np.uint64), pa.uint64(), mask=household < 0),
        "home_lat": pa.array(w.homes.lat, pa.float64()), "home_lon": pa.array(w.homes.lon, pa.float64()),
        "home_cell_id": pa.array(w.homes.cell, pa.int32()), "home_tzid": _strings(w.homes.tzid),
        "risk_score": pa.array(w.score.astype(np.float32)), "risk_tier": _codes(w.tier, RISK_TIERS),
    })
    accounts = pa.table({
        "account_id": pa.array(a.account_id, pa.uint64()), "party_id": pa.array(p.party_id[a.party], pa.uint64()),
        "country_iso": _country(a.account_id.shape[0], country), "account_type": _codes(a.account_type, ACCOUNT_TYPES),
        "opened_months_ago": pa.array(a.opened_months_ago, pa.int32()),
    })
    handle = i.scheme < 0
    instruments = pa.table({
        "instrument_id": pa.array(i.instrument_id, pa.uint64()),
        "account_id": pa.array(a.account_id[i.account], pa.uint64()),
        "party_id": pa.array(p.party_id[a.party[i.account]], pa.uint64()),
        "country_iso": _country(i.instrument_id.shape[0], country),
        "instrument_type": _codes(i.instrument_type, INSTRUMENT_TYPES), "form": _codes(i.form, INSTRUMENT_FORMS),
        "scheme": _codes(np.maximum(i.scheme, 0), SCHEMES, mask=handle),
        "card_id": pa.array(i.instrument_id[np.maximum(i.card, 0)], pa.uint64(), mask=i.card < 0),
        "rail": _codes(np.zeros(i.instrument_id.shape[0]), [rail], mask=~handle),
        "expiry_month": _months_after(horizon_start, i.expiry_month),
        "token": tokens(i.token),
    })
    terminal = d.site >= 0
    devices = pa.table({
        "device_id": pa.array(d.device_id, pa.uint64()), "country_iso": _country(d.device_id.shape[0], country),
        "device_type": _codes(d.device_type, DEVICE_TYPES), "os": _codes(d.os, OPERATING_SYSTEMS),
        "usage": _codes(d.usage, DEVICE_USAGES),
        "site_id": pa.array(site_ids[np.maximum(d.site, 0)] if site_ids.size else np.zeros(d.site.shape[0], np.uint64),
                            pa.uint64(), mask=~terminal),
        "merchant_id": pa.array(site_merchant[np.maximum(d.site, 0)] if site_ids.size
                                else np.zeros(d.site.shape[0], np.uint64), pa.uint64(), mask=~terminal),
    })
    order = np.lexsort((p.party_id[d.link_party], d.device_id[d.link_device]))
    device_links = pa.table({
        "party_id": pa.array(p.party_id[d.link_party][order], pa.uint64()),
        "device_id": pa.array(d.device_id[d.link_device][order], pa.uint64()),
        "country_iso": _country(order.shape[0], country), "role": _codes(d.link_role[order], LINK_ROLES),
    })
    ips = pa.table({
        "ip_id": pa.array(w.ip_id, pa.uint64()), "country_iso": _country(w.ip_id.shape[0], country),
        "ip_type": _codes(w.ip_type, IP_TYPES), "geo_country_iso": pa.array(w.ip_country.astype(str).tolist(), pa.string()),
        "asn_class": _codes(w.ip_type, ASN_CLASSES),
    })
    order = np.lexsort((w.ip_id[w.link_ip], d.device_id[w.link_device]))
    ip_links = pa.table({
        "device_id": pa.array(d.device_id[w.link_device][order], pa.uint64()),
        "ip_id": pa.array(w.ip_id[w.link_ip][order], pa.uint64()), "country_iso": _country(order.shape[0], country),
        "ip_type": _codes(w.link_type[order], IP_TYPES), "is_first": pa.array(w.link_first[order]),
    })
    r = w.roles
    order = np.lexsort((r.role, r.entity_id, r.kind))
    fraud_roles = pa.table({
        "entity_kind": _codes(r.kind[order], ENTITY_KINDS), "entity_id": pa.array(r.entity_id[order], pa.uint64()),
        "country_iso": _country(order.shape[0], country), "role": _codes(r.role[order], FRAUD_ROLES),
        "ring_id": pa.array(r.ring_id[order], pa.uint64(), mask=r.ring_id[order] == 0),
    })
    return dict(zip(TABLES, (parties, accounts, instruments, devices, device_links, ips, ip_links, fraud_roles)))
