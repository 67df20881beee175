"""Imports point downstream only (data -> scoring -> attack families / models -> judges / lock /
API -> lm-eval glue -> the result document -> its publication -> attacks / experiments ->
commands), every module sits
in a layer, no two modules import each other (lazily or not), and reading results never loads
lm-eval: `check` and `submit` run where lm-eval's metric registry is not wanted."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lockbench"

# A module of a layer may import from its own layer and the ones before it, never from later ones.
LAYERS = (
    ("data", "scoring", "stats", "vocab", "errors", "fsutil", "digest", "secrets", "phrase", "prompts", "quiet"),
    ("probes", "models"),  # attack families and their variants; model files (no lm-eval)
    ("judges", "lock", "api"),  # judges, the lock recipe, the serving API
    ("lmeval",),  # every piece of lm-eval glue: tasks, probe docs, the gate, write-time redaction
    ("document",),  # the result document: built, validated, recomputed; never published here
    ("publish",),  # submit, leaderboard, report, verify, the regression gate
    # attacks run models and build result blocks; testing and evaluate_metric read results for users
    ("attacks", "experiments", "testing", "evaluate_metric"),
    ("commands", "cli", "__main__"),
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


def _name(path: Path) -> str:
    return "lockbench." + path.relative_to(PACKAGE).with_suffix("").as_posix().replace("/", ".")


ALL_MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)
MODULES = [p for p in ALL_MODULES if _layer(_name(p)) is not None]


def test_every_module_sits_in_a_layer() -> None:
    assert MODULES == ALL_MODULES, sorted({_name(p) for p in ALL_MODULES} - {_name(p) for p in MODULES})


def _module_of(name: str, known: set[str]) -> str | None:
    """The module an import names (``from lockbench.x import y`` may name module x.y or x)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def test_no_import_circle() -> None:
    """Lazy (in-function) imports count: they hide a circle, they do not break it."""
    known = {_name(p).removesuffix(".__init__") for p in ALL_MODULES}
    graph: dict[str, set[str]] = {}
    for path in ALL_MODULES:
        module = _name(path).removesuffix(".__init__")
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            targets |= {t for n in names if n.startswith("lockbench.") and (t := _module_of(n, known))}
        graph[module] = targets - {module, "lockbench"}
    circles = []
    for start in sorted(graph):  # a path from a module's imports back to itself
        seen, todo = set(), list(graph[start])
        while todo:
            current = todo.pop()
            if current == start:
                circles.append(start)
                break
            if current not in seen:
                seen.add(current)
                todo.extend(graph.get(current, ()))
    assert not circles, f"modules on an import circle: {circles}"


@pytest.mark.parametrize("path", MODULES, ids=[p.relative_to(PACKAGE).as_posix() for p in MODULES])
def test_imports_point_downstream(path: Path) -> None:
    module = _name(path)
    own = _layer(module)
    upstream = [name for name in _imports(path) if (_layer(name) or 0) > own]
    assert not upstream, f"{module} imports from a later layer: {upstream}"


@pytest.mark.parametrize("module", ["lockbench.publish.submit", "lockbench.publish.regression",
                                    "lockbench.publish.leaderboard", "lockbench.commands.submit",
                                    "lockbench.commands.check"])
def test_reading_results_does_not_load_lm_eval(module: str) -> None:
    code = (f"import sys, {module}; loaded = [m for m in sys.modules if m == 'lm_eval' or "
            "m.startswith(('lm_eval.', 'lockbench.lmeval'))]; assert not loaded, loaded")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
