"""Alias tables published as slot rows (2B sites, 3B edges): one row per slot, grouped and in order.

A frame sorted by its group keys holds each group's rows contiguously, so the group offsets are
the cumulative run lengths; writers and validations share that layout through these helpers.
"""

import numpy as np
import polars as pl

from engine_kernels.tables.alias import reconstruct_probabilities
from engine_kernels.tables.routing import build_routing_table


def group_offsets(frame: pl.DataFrame, keys: list[str]) -> np.ndarray:
    """int64 offsets of the groups of `keys` in a frame sorted by them."""
    counts = frame.group_by(keys, maintain_order=True).len()["len"].to_numpy()
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)


def slot_rows(frame: pl.DataFrame, keys: list[str], item: str) -> pl.DataFrame:
    """The alias table of each group of a frame sorted by (keys, slot order): keys, slot, item, prob, alias."""
    offsets = group_offsets(frame, keys)
    table = build_routing_table(frame["weight"].to_numpy(), offsets, frame[item].to_numpy())
    slot = np.arange(offsets[-1]) - np.repeat(offsets[:-1], np.diff(offsets))
    return frame.select(keys).with_columns(
        slot=pl.Series(slot.astype(np.int32)), **{item: pl.Series(table.item)}, prob=pl.Series(table.prob),
        alias=pl.Series(table.alias))


def reconstruction_gap(tables: pl.DataFrame, keys: list[str], item: str, weights: pl.DataFrame) -> float:
    """Largest |probability implied by the tables − published weight| over all slots (tables sorted by keys, slot)."""
    if tables.height == 0:
        return 0.0
    implied = reconstruct_probabilities(tables["prob"].to_numpy(), tables["alias"].to_numpy(),
                                        group_offsets(tables, keys))
    expected = tables.select(item).join(weights.select(item, "weight"), on=item, how="left",
                                        maintain_order="left")["weight"]
    return float(np.nanmax(np.abs(implied - expected.fill_null(np.nan).to_numpy())))
