"""The package's layers point down (docs/ARCHITECTURE.md): ndgrad/ops never imports nn, nor anything above it."""
from __future__ import annotations

import ast
from pathlib import Path

import ndgrad

OPS = Path(ndgrad.__file__).parent / "ops"
ABOVE_OPS = ("nn", "optim", "utils", "func", "distributed", "vision", "demo", "_run")


def _imported_modules(path: Path) -> list[str]:
    """Every `ndgrad.<name>` a file imports (relative imports resolved from ndgrad/ops/)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0:
                mod = node.module or ""
            elif node.level == 1:
                mod = "ndgrad.ops" + (f".{node.module}" if node.module else "")
            else:
                mod = "ndgrad" + (f".{node.module}" if node.module else "")
            names = [mod] if node.module else [f"{mod}.{a.name}" for a in node.names]
            out.extend(names)
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return out


def test_ops_import_nothing_above_them() -> None:
    bad = []
    for path in sorted(OPS.glob("*.py")):
        for mod in _imported_modules(path):
            parts = mod.split(".")
            if parts[0] == "ndgrad" and len(parts) > 1 and parts[1] in ABOVE_OPS:
                bad.append(f"{path.name}: {mod}")
    assert not bad, bad


def test_the_check_sees_relative_imports(tmp_path: Path) -> None:
    f = tmp_path / "x.py"
    f.write_text("from ..nn import functional\nfrom ..nn.modules.transformer import f\nfrom .. import optim\n")
    assert _imported_modules(f) == ["ndgrad.nn", "ndgrad.nn.modules.transformer", "ndgrad.optim"]
