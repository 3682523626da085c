"""Merchant category codes (ISO 18245) from the iso18245 package, each tagged with a demand sector.

The package merges the ISO list with the Visa, Mastercard, Amex, Stripe and USDA lists; every code
it knows appears once. The demand sector (one of engine_kernels.vocabulary.SECTORS) is what later
picks a merchant's demand class.
"""

from __future__ import annotations

import csv
from importlib.resources import files
from typing import NamedTuple

import iso18245

from .packages import require

__all__ = ["MCC_SECTOR_OVERRIDES", "RANGE_GROUP_SECTOR", "MerchantCategory", "build_mcc"]

# Default sector of each range group, named as the package names them (ISO 18245 ranges, with the
# private-use block 3000-3999 split into the package's airline / car rental / lodging ranges).
# A group's default is where most of its codes spend; the overrides below move the rest.
RANGE_GROUP_SECTOR: dict[str, str] = {
    "Agricultural services": "services",
    "Contracted services": "services",
    "Airlines": "travel",
    "Car rental": "travel",
    "Lodging": "travel",
    "Transportation": "travel",
    "Utilities": "utilities",
    "Retail outlets": "retail",
    "Clothing outlets": "retail",
    "Miscellaneous outlets": "retail",
    "Service providers": "services",
    "Business services": "services",
    "Repair services": "services",
    "Amusement and entertainment": "entertainment",
    "Professional services and membership organizations": "services",
    "Government services": "government",
    "Other": "services",  # network-internal codes (9700-9702, 9950)
}


def _codes(sector: str, *codes: int) -> dict[int, str]:
    """Map each of `codes` to `sector`."""
    return dict.fromkeys(codes, sector)


# Codes whose spending behaves unlike the rest of their range group.
MCC_SECTOR_OVERRIDES: dict[int, str] = {
    # Food bought to eat at home: supermarkets, food shops, liquor stores.
    **_codes("grocery", 5411, 5422, 5441, 5451, 5462, 5499, 5921),
    **_codes("restaurants", 5811, 5812, 5813, 5814),
    # Vehicle energy: service stations, fuel dispensers, EV charging, fuel dealers, truck stops.
    **_codes("fuel", 5172, 5541, 5542, 5552, 5983, 7511),
    # Digital goods and online services (streaming, apps, games, information services).
    **_codes("digital", 4816, 5815, 5816, 5817, 5818, 7372, 7375),
    # Money movement, cash, credit and insurance.
    **_codes("financial", 4829, 5960, 6010, 6011, 6012, 6050, 6051, 6211, 6300, 6381, 6399,
             6532, 6533, 6536, 6537, 6538, 6540, 7321, 7322),
    # Medical care, pharmacies and medical supplies.
    **_codes("health", 4119, 5047, 5122, 5912, 5975, 5976, 7280, 8011, 8021, 8031, 8041, 8042,
             8043, 8044, 8049, 8050, 8062, 8071, 8099),
    # Freight and storage are business logistics, not passenger travel.
    **_codes("services", 4214, 4215, 4225),
    # Telephone hardware is a shop purchase; scenic-spot tickets and lotteries are leisure.
    **_codes("retail", 4812),
    **_codes("entertainment", 4733, 9406),
    # Travel bought outside the transport ranges: holiday lodging, vehicle rental, parking.
    **_codes("travel", 5962, 7011, 7012, 7032, 7033, 7512, 7513, 7519, 7523),
    **_codes("government", 9405),
}

# Descriptions are taken from the first list that has one, the official ISO text first; Stripe's
# list comes last because some of its text is mangled.
_DESCRIPTION_FIELDS = (
    "iso_description", "mastercard_description", "visa_description",
    "amex_description", "usda_description", "stripe_description",
)
# 7511 appears only in the Stripe list, where it reads "Truck StopIteration".
_DESCRIPTION_FIXES = {7511: "Truck Stop"}


class MerchantCategory(NamedTuple):
    mcc: int
    description: str  # from the first list that has one (see _DESCRIPTION_FIELDS)
    iso_description: str | None  # the official ISO 18245 text, None where the code is not in ISO's list
    range_group: str
    demand_sector: str  # one of engine_kernels.vocabulary.SECTORS


def _private_ranges() -> list[tuple[int, int, str]]:
    """The package's split of the private-use block 3000-3999 (airlines, car rental, lodging)."""
    with (files("iso18245") / "data" / "private_ranges.csv").open("r") as f:
        rows = list(csv.reader(f))[1:]
    return [(int(lo), int(hi), name) for lo, hi, name in rows]


def _range_group(code: int, iso_range: str, private: list[tuple[int, int, str]]) -> str:
    """The private-use split where it applies, else the ISO range name."""
    for lo, hi, name in private:
        if lo <= code <= hi:
            return name
    return iso_range


def build_mcc() -> list[MerchantCategory]:
    """Every merchant category code known to the package, sorted by code."""
    require("iso18245")
    private = _private_ranges()
    rows = []
    for entry in iso18245.get_all_mccs():
        code = int(entry.mcc)
        group = _range_group(code, entry.range.description, private)
        description = _DESCRIPTION_FIXES.get(code) or next(
            getattr(entry, f) for f in _DESCRIPTION_FIELDS if getattr(entry, f))
        rows.append(MerchantCategory(
            mcc=code,
            description=description,
            iso_description=entry.iso_description or None,
            range_group=group,
            demand_sector=MCC_SECTOR_OVERRIDES.get(code) or RANGE_GROUP_SECTOR[group],
        ))
    rows.sort(key=lambda r: r.mcc)
    return rows
