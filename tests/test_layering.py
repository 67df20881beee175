"""Imports point downstream only (data -> scoring -> lm-eval glue / judges / lock / probes ->
results -> experiments -> commands), and reading results never loads lm-eval: `check` and `submit` run where
lm-eval's metric registry is not wanted."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lockbench"

# A module of a layer may import from its own layer and the ones before it, never from later ones.
LAYERS = (
    ("data", "scoring", "stats", "vocab", "errors", "fsutil", "secrets", "phrase", "prompts", "quiet"),
    ("lmeval", "judges", "lock", "probes", "models", "api"),
    ("results",),
    ("experiments",),
    ("commands", "cli"),
)


def _layer(name: str) -> int | None:
    top = name.split(".")[1] if name.startswith("lockbench.") and name.count(".") >= 1 else None
    return next((i for i, layer in enumerate(LAYERS) if top in layer), None)


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return [n for n in names if n.startswith("lockbench.")]


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if _layer("lockbench." + p.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")) is not None)


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(PACKAGE).as_posix() for p in MODULES])
def test_imports_point_downstream(path: Path) -> None:
    module = "lockbench." + path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")
    own = _layer(module)
    upstream = [name for name in _imports(path) if (_layer(name) or 0) > own]
    assert not upstream, f"{module} imports from a later layer: {upstream}"


@pytest.mark.parametrize("module", ["lockbench.results.submit", "lockbench.results.check",
                                    "lockbench.results.leaderboard", "lockbench.commands.submit",
                                    "lockbench.commands.check"])
def test_reading_results_does_not_load_lm_eval(module: str) -> None:
    code = (f"import sys, {module}; loaded = [m for m in sys.modules if m == 'lm_eval' or "
            "m.startswith(('lm_eval.', 'lockbench.lmeval'))]; assert not loaded, loaded")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
