"""The parameters of segment 6A, dense and typed (parsed from config/policies/6a.yaml by
engine_assets/run/policies.py). Vectors follow the orders of engine_kernels/vocabulary.py:
per segment over SEGMENTS, per party type over PARTY_TYPES, per network over IP_TYPES, per region
over REGIONS plus a last row for codes in no region.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class PartyPolicy:
    payments_per_active_party_week: float
    active_share: float
    population_weight: float
    type_shares: np.ndarray  # (party types,)
    segment_mix: Mapping[str, np.ndarray]  # party type -> (regions + 1, its segments)
    age: np.ndarray  # (segments, age bands)
    income: np.ndarray  # (segments, income bands)
    tenure_median_months: np.ndarray  # (segments,)
    tenure_sigma: np.ndarray  # (segments,)
    household_sizes: np.ndarray  # (regions + 1, 6): P(size = 1..6)


@dataclass(frozen=True)
class Holding:
    """One product handed out by the allocator to owners of some kind (parties or accounts)."""

    name: str
    eligible: np.ndarray  # by owner cell (segment, party type or one cell)
    per_holder: np.ndarray  # items per eligible owner, by owner cell
    floor: int
    cap: int
    sigma: float


@dataclass(frozen=True)
class AccountProduct:
    holding: Holding  # cells are SEGMENTS
    holders: tuple[int, ...]  # party types (indices into PARTY_TYPES)


@dataclass(frozen=True)
class CardProduct:
    holding: Holding  # one cell
    accounts: tuple[int, ...]  # account types (indices into ACCOUNT_TYPES)
    virtual_share: float


@dataclass(frozen=True)
class InstrumentPolicy:
    debit: CardProduct
    credit: CardProduct
    scheme_shares: np.ndarray  # (SCHEMES,): the international mix (domestic schemes 0)
    domestic: Mapping[str, tuple[int, float]]  # country -> (scheme index, share of its cards)
    expiry_months: tuple[int, int]
    wallet: Holding  # one cell: tokens per card
    handles: CardProduct  # per account on the rails; virtual_share unused
    rail_default: str
    rails: Mapping[str, str]

    def rail(self, country: str) -> str:
        return self.rails.get(country, self.rail_default)


@dataclass(frozen=True)
class DevicePolicy:
    personal: tuple[Holding, ...]  # mobile, laptop, desktop, tablet; cells are PARTY_TYPES
    shared_household_share: float
    shared_types: np.ndarray  # (4,) over the personal device types
    os_shares: np.ndarray  # (DEVICE_TYPES, OPERATING_SYSTEMS)
    terminals: Holding  # one cell: terminals per site
    first_network: Mapping[str, int]  # network key -> IP type
    also_network: Mapping[str, np.ndarray]  # network key -> P(also) per IP type
    vpn_share: float


@dataclass(frozen=True)
class IpPolicy:
    devices_per_ip: np.ndarray  # (IP_TYPES,)
    sigma: np.ndarray
    cap: np.ndarray  # int64
    hosting_countries: tuple[str, ...]
    hosting_shares: np.ndarray


@dataclass(frozen=True)
class FraudPolicy:
    segment_effect: np.ndarray  # (SEGMENTS,)
    tenure_per_log_year: float
    has_credit_card: float
    uses_vpn: float
    tier_shares: np.ndarray  # (RISK_TIERS,)
    risky_tiers: tuple[int, ...]
    odds_ratio: float
    base_share: float
    mule_share: float
    synthetic_share: float
    score_slope: float
    rings_per_million: float
    ring_associates: tuple[int, int]
    farm_devices: tuple[int, int]
    ring_ips: tuple[int, int]
    risky_mccs: frozenset[int]
    risky_mcc_share: float
    risky_other_share: float
    collusive_share: float

    @property
    def risky_share(self) -> float:
        """P(risky) of an item of a risky owner: odds_ratio times the odds of base_share."""
        odds = self.odds_ratio * self.base_share / (1 - self.base_share)
        return odds / (1 + odds)


@dataclass(frozen=True)
class EntityPolicy:
    parties: PartyPolicy
    accounts: tuple[AccountProduct, ...]  # in ACCOUNT_TYPES order
    instruments: InstrumentPolicy
    devices: DevicePolicy
    ips: IpPolicy
    fraud: FraudPolicy
