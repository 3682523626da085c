"""The reference inputs of segment 1A: active countries and merchant category codes.

Both are validated once at construction, so the kernels can trust every array they read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine_kernels.vocabulary import SECTORS

__all__ = ["Countries", "Mccs", "national_gdp"]


def _strings(values, field: str, nullable: bool) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        if v is None and nullable:
            arr[i] = None
        elif isinstance(v, str) and v:
            arr[i] = v
        else:
            raise ValueError(f"{field}[{i}] must be a non-empty string{' or None' if nullable else ''}, got {v!r}")
    return arr


def _floats(values, field: str, n: int, low: float, high: float = np.inf, open_low: bool = False) -> np.ndarray:
    arr = np.ascontiguousarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"{field} must have shape ({n},) like countries.iso, got {arr.shape}")
    ok = np.isfinite(arr) & (arr <= high) & ((arr > low) if open_low else (arr >= low))
    if not ok.all():
        i = int(np.argmin(ok))
        bound = f"{'>' if open_low else '>='} {low}" + ("" if high == np.inf else f" and <= {high}")
        raise ValueError(f"{field} must be finite and {bound}: {int((~ok).sum())} are not (first: {arr[i]!r} at {i})")
    return arr


def national_gdp(gdp_usd: np.ndarray, gdp_per_capita: np.ndarray, population: np.ndarray) -> np.ndarray:
    """GDP in US dollars per country; where the source has none (0), GDP per head × population."""
    return np.where(np.asarray(gdp_usd) > 0, gdp_usd, np.asarray(gdp_per_capita) * np.asarray(population))


@dataclass(frozen=True)
class Countries:
    """Active countries, one entry per country in every array.

    iso: ISO 3166-1 alpha-2 codes (unique); gdp_usd, gdp_per_capita > 0; population >= 0;
    lat ∈ [-90, 90], lon ∈ [-180, 180] a representative point in degrees; currency and region
    may be None (no same-currency / same-region bonus then).
    """

    iso: np.ndarray
    gdp_usd: np.ndarray
    gdp_per_capita: np.ndarray
    population: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    currency: np.ndarray
    region: np.ndarray

    def __post_init__(self):
        iso = _strings(self.iso, "countries.iso", nullable=False)
        n = iso.shape[0]
        if n == 0:
            raise ValueError("countries: the active country set is empty; the profile must name at least one country")
        if len(set(iso)) != n:
            raise ValueError("countries.iso must be unique")
        if len(self.currency) != n or len(self.region) != n:
            raise ValueError(f"countries.currency and countries.region must have {n} entries like countries.iso")
        # Frozen dataclass: normalised copies replace the caller's sequences once, here.
        set_ = object.__setattr__
        set_(self, "iso", iso)
        set_(self, "gdp_usd", _floats(self.gdp_usd, "countries.gdp_usd", n, 0.0, open_low=True))
        set_(self, "gdp_per_capita", _floats(self.gdp_per_capita, "countries.gdp_per_capita", n, 0.0, open_low=True))
        set_(self, "population", _floats(self.population, "countries.population", n, 0.0))
        set_(self, "lat", _floats(self.lat, "countries.lat", n, -90.0, 90.0))
        set_(self, "lon", _floats(self.lon, "countries.lon", n, -180.0, 180.0))
        set_(self, "currency", _strings(self.currency, "countries.currency", nullable=True))
        set_(self, "region", _strings(self.region, "countries.region", nullable=True))

    @property
    def size(self) -> int:
        return int(self.iso.shape[0])

    def by_iso(self) -> Countries:
        """The same countries ordered by ISO code, so results never depend on the caller's order."""
        order = np.argsort(self.iso.astype(str), kind="stable")
        return Countries(
            iso=self.iso[order], gdp_usd=self.gdp_usd[order], gdp_per_capita=self.gdp_per_capita[order],
            population=self.population[order], lat=self.lat[order], lon=self.lon[order],
            currency=self.currency[order], region=self.region[order],
        )


@dataclass(frozen=True)
class Mccs:
    """Merchant category codes (unique, 0..9999) and the demand sector of each."""

    mcc: np.ndarray
    sector: np.ndarray

    def __post_init__(self):
        mcc = np.asarray(self.mcc)
        if mcc.ndim != 1 or mcc.dtype.kind not in "iu" or mcc.shape[0] == 0:
            raise ValueError(f"mccs.mcc must be a non-empty 1-D integer array, got {mcc.dtype}{list(mcc.shape)}")
        if mcc.min() < 0 or mcc.max() > 9999:
            raise ValueError("mccs.mcc must lie in 0..9999")
        if np.unique(mcc).shape[0] != mcc.shape[0]:
            raise ValueError("mccs.mcc must be unique")
        sector = np.asarray(self.sector, dtype=object)
        if sector.shape != mcc.shape:
            raise ValueError(f"mccs.sector must have {mcc.shape[0]} entries like mccs.mcc, got {sector.shape}")
        unknown = sorted(set(sector) - set(SECTORS), key=str)
        if unknown:
            raise ValueError(f"mccs.sector has unknown sector(s) {unknown}; allowed: {', '.join(SECTORS)}")
        object.__setattr__(self, "mcc", mcc.astype(np.int16))
        object.__setattr__(self, "sector", sector)

    def sector_index(self) -> np.ndarray:
        """int64 index of each code's sector in SECTORS."""
        lookup = {s: i for i, s in enumerate(SECTORS)}
        return np.fromiter((lookup[s] for s in self.sector), dtype=np.int64, count=self.sector.shape[0])
