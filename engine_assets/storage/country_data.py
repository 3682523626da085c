"""Reading published datasets as frames: a country-partitioned one whole, or one partition."""

import polars as pl

from engine_assets.quality.contracts import load_contract
from engine_assets.run.identity import RunIdentity
from engine_assets.run.partitions import COUNTRIES
from engine_assets.storage.datasets import scan_partitions


def scan_countries(identity: RunIdentity, dataset: str) -> tuple[pl.DataFrame, list[str]]:
    """Every published country partition of a dataset with its partition's code in `partition`,
    and the country partitions of the profile that are not published."""
    frame, codes = scan_partitions(identity, load_contract(dataset))
    return frame, sorted(set(COUNTRIES.get_partition_keys()) - set(codes))


def read_frame(identity: RunIdentity, dataset: str, key=None) -> pl.DataFrame:
    """One published partition (or an unpartitioned dataset) with dictionary columns as plain strings."""
    from engine_assets.storage.datasets import load_dataset

    frame = load_dataset(identity, load_contract(dataset), key).collect()
    return frame.with_columns(pl.col(pl.Categorical).cast(pl.String))
