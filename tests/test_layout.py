"""The layout's rules hold in the code: kernels stand alone, and segments share through helpers, not assets."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_kernels_import_neither_dagster_nor_the_assets():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if m.split(".")[0] in ("dagster", "engine_assets"))
                 for p in sorted((ROOT / "engine_kernels").rglob("*.py"))}
    assert {p: m for p, m in offenders.items() if m} == {}


def test_no_segment_imports_another_segments_assets_module():
    offenders = []
    for layer in ("world", "clock"):
        for path in sorted((ROOT / "engine_assets" / layer).rglob("*.py")):
            segment = path.relative_to(ROOT / "engine_assets" / layer).parts[0]
            for module in _imports(path):
                parts = module.split(".")
                if (len(parts) >= 4 and parts[:1] == ["engine_assets"] and parts[1] in ("world", "clock")
                        and parts[3] == "assets" and parts[2] != segment):
                    offenders.append((str(path.relative_to(ROOT)), module))
    assert offenders == []
