"""The realism report: one self-contained HTML page per world and scenario."""

from engine_assets.reporting.report import assets

ASSETS = [assets.realism]
# Compute libraries shown as kinds beside the storage format (engine_assets/run/layers.py).
KINDS = ("matplotlib",)
