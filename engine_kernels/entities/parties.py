"""Who a country's parties are: type, segment, age, income, tenure and household.

Types come in exact shares (largest remainder of the country's count): retail parties first, then
business, then other, so party serials are grouped by type. Retail parties live in households:
sizes 1-6 are drawn from the region's distribution, household by household, until every retail
party has one (the last household is cut to fit). Segments follow the real region's mix for the
party's type; age and income bands and tenure follow the segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from engine_kernels.entities.draws import Draws, pick
from engine_kernels.entities.policy import PartyPolicy
from engine_kernels.ids import entity_ids
from engine_kernels.randomness import substreams
from engine_kernels.tables.integerise import largest_remainder
from engine_kernels.vocabulary import PARTY_TYPES, SEGMENTS, SEGMENTS_BY_TYPE

__all__ = ["Parties", "draw_parties"]


@dataclass(frozen=True)
class Parties:
    party_id: np.ndarray  # uint64, serial order
    party_type: np.ndarray  # int8 into PARTY_TYPES
    segment: np.ndarray  # int8 into SEGMENTS
    age_band: np.ndarray  # int8
    income_band: np.ndarray  # int8
    tenure_months: np.ndarray  # int32
    household: np.ndarray  # int64 household position per party, -1 for non-retail
    household_id: np.ndarray  # uint64 per household

    @property
    def size(self) -> int:
        return self.party_id.shape[0]

    def home_unit(self) -> np.ndarray:
        """Position of each party's home among the homes: households first, then the other parties'."""
        n_households = self.household_id.shape[0]
        own = np.cumsum(self.household < 0) - 1 + n_households
        return np.where(self.household >= 0, self.household, own)


def household_sizes(n_retail: int, shares: np.ndarray, ids: np.ndarray, draws: Draws) -> np.ndarray:
    """Sizes of the households holding n_retail parties; household k draws with id ids[k]."""
    if n_retail == 0:
        return np.zeros(0, np.int64)
    u = draws.uniform(substreams.HOUSEHOLD, ids[:n_retail])
    sizes = pick(u, np.cumsum(shares)) + 1
    total = np.cumsum(sizes)
    m = int(np.searchsorted(total, n_retail, side="left")) + 1
    sizes = sizes[:m].copy()
    sizes[-1] -= int(total[m - 1]) - n_retail
    return sizes


def draw_parties(n: int, country_index: int, region: int, policy: PartyPolicy, draws: Draws) -> Parties:
    """The n parties of one country; `region` indexes REGIONS (len(REGIONS) for codes in none)."""
    per_type = largest_remainder(policy.type_shares, n) if n else np.zeros(len(PARTY_TYPES), np.int64)
    party_type = np.repeat(np.arange(len(PARTY_TYPES), dtype=np.int8), per_type)
    party_id = entity_ids("party", country_index, np.arange(1, n + 1, dtype=np.uint64))
    u = draws.uniforms(substreams.PARTY, party_id, 4)
    segment = np.empty(n, np.int8)
    first = 0
    for t, name in enumerate(PARTY_TYPES):
        rows = slice(first, first + int(per_type[t]))
        offset = SEGMENTS.index(SEGMENTS_BY_TYPE[name][0])
        segment[rows] = offset + pick(u[rows, 0], np.cumsum(policy.segment_mix[name][region]))
        first += int(per_type[t])
    age = pick(u[:, 1], np.cumsum(policy.age, axis=1)[segment]).astype(np.int8)
    income = pick(u[:, 2], np.cumsum(policy.income, axis=1)[segment]).astype(np.int8)
    tenure = policy.tenure_median_months[segment] * np.exp(policy.tenure_sigma[segment] * ndtri(u[:, 3]))
    n_retail = int(per_type[0])
    household_ids = entity_ids("household", country_index, np.arange(1, n_retail + 1, dtype=np.uint64))
    sizes = household_sizes(n_retail, policy.household_sizes[region], household_ids, draws)
    household = np.full(n, -1, np.int64)
    household[:n_retail] = np.repeat(np.arange(sizes.shape[0]), sizes)
    return Parties(party_id, party_type, segment, age, income, np.minimum(tenure, 1200).astype(np.int32), household,
                   household_ids[: sizes.shape[0]])
