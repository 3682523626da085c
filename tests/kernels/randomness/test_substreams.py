"""The registry of substream labels: every family of draws has its own label, defined once."""

import re
from pathlib import Path

from engine_kernels.randomness import substreams

ROOT = Path(__file__).resolve().parents[3]
LABEL = re.compile(r"[\"'](\d[a-z]\.[a-z_]+)[\"']")


def test_labels_are_unique_and_well_formed():
    assert len(substreams.LABELS) == len(set(substreams.LABELS)) > 20
    assert all(re.fullmatch(r"\d[a-z]\.[a-z_]+", label) for label in substreams.LABELS)


def test_no_label_is_written_outside_the_registry():
    registry = ROOT / "engine_kernels" / "randomness" / "substreams.py"
    strays = [(str(path.relative_to(ROOT)), label)
              for package in ("engine_assets", "engine_kernels") for path in sorted((ROOT / package).rglob("*.py"))
              if path != registry for label in LABEL.findall(path.read_text()) if not label.endswith(".yaml")]
    assert strays == []
