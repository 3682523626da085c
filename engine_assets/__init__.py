"""The engine's Dagster assets, resources and jobs (see engine_assets/definitions.py)."""

import ctypes
import ctypes.util
import os

# Polars allocates through its own jemalloc, which keeps freed pages ~10 s before giving them back.
# A run that loads a world of frames and then builds days would hold both at once; a 1 s decay keeps
# peak memory near what is alive while a page freed and reused within the same step stays mapped:
# handing pages back at once made every reuse a fresh page fault, which costs a sandboxed kernel
# dearly (docs/decisions.md). It must be set before polars is first imported, so it lives here.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")


def _map_large_arrays(threshold: int = 4 << 20) -> None:
    """numpy allocates through glibc malloc, whose mmap threshold climbs to 32 MB after the first
    large free: day-sized arrays then land in the heap, which fragments and is not handed back.
    A fixed threshold gives every array of 4 MB or more its own mapping, returned when it is freed
    (a reference payday peaks ~0.5 GB lower; docs/decisions.md)."""
    if os.environ.get("MALLOC_MMAP_THRESHOLD_") or not ctypes.util.find_library("c"):
        return  # set by the user, or not glibc
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is not None:
        m_trim_threshold, m_mmap_threshold = -1, -3
        mallopt(m_mmap_threshold, threshold)
        mallopt(m_trim_threshold, threshold)


_map_large_arrays()
