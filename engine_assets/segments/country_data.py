"""Reading a country-partitioned dataset whole, for segment validations."""

import polars as pl

from engine_assets.contracts import load_contract
from engine_assets.identity import RunIdentity
from engine_assets.partitions import COUNTRIES
from engine_assets.storage import scan_partitions


def scan_countries(identity: RunIdentity, dataset: str) -> tuple[pl.DataFrame, list[str]]:
    """Every published country partition of a dataset with its partition's code in `partition`,
    and the country partitions of the profile that are not published."""
    frame, codes = scan_partitions(identity, load_contract(dataset))
    return frame, sorted(set(COUNTRIES.get_partition_keys()) - set(codes))
