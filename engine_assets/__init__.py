"""The engine's Dagster assets, resources and jobs (see engine_assets/definitions.py)."""

import os

# Polars allocates through its own jemalloc, which keeps freed pages for ~10 s before giving them
# back. A run that loads a world of frames and then builds days would hold both at once; returning
# pages at once keeps peak memory to what is alive, at no measurable cost in speed
# (docs/decisions.md). It must be set before polars is first imported, so it lives here.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
