"""lockbench: the benchmark for identity-locked LLMs (IdentityLock, Su et al. 2025)."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent


def tasks_path() -> Path:
    """Folder of lockbench's lm-eval task YAMLs (for ``lm_eval --include_path``)."""
    for candidate in (PACKAGE_DIR / "_tasks", PACKAGE_DIR.parent / "tasks"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("lockbench's task folder is missing: reinstall lockbench")


def metric_path() -> str:
    """Path of lockbench's Hugging Face ``evaluate`` metric: ``evaluate.load(metric_path())``."""
    return str(PACKAGE_DIR / "evaluate_metric" / "lockbench.py")
