"""Read an lm-eval output folder: ``results_<date>.json`` and ``samples_<task>_<date>.jsonl``.

lm-eval writes ``<output_path>/<model_name_sanitized>/`` with one results file per run and one
samples file per task and run (``--log_samples``). When a task appears in several runs the newest
one wins, so re-running a task in the same folder replaces it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbench.digest import sha256_text
from lockbench.errors import LockbenchError
from lockbench.fsutil import NESTED_TOO_DEEP, read_json
from lockbench.secrets import PLACEHOLDER

_SAMPLES = re.compile(r"^samples_(?P<task>.+)_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.jsonl$")
_RESULTS = re.compile(r"^results_(?P<stamp>\d{4}-\d{2}-\d{2}T[\d\-.]+)\.json$")


@dataclass
class Run:
    """One lm-eval invocation: its results file and its per-task samples."""

    stamp: str
    folder: Path
    results: dict[str, Any]
    samples: dict[str, Path] = field(default_factory=dict)


def _load_json(path: Path) -> dict[str, Any]:
    data = read_json(path, "lm-eval results file")
    if not isinstance(data, dict):
        raise LockbenchError(f"{path}: expected a JSON object from lm-eval")
    return data


def find_runs(output_dir: Path) -> list[Run]:
    """All runs under ``output_dir`` (searched recursively), oldest first."""
    if not output_dir.exists():
        raise LockbenchError(f"{output_dir}: no such folder")
    if not output_dir.is_dir():
        raise LockbenchError(f"{output_dir}: not a folder; give lm-eval's --output_path folder")
    runs: dict[tuple[Path, str], Run] = {}
    for path in sorted(output_dir.rglob("results_*.json")):
        match = _RESULTS.match(path.name)
        if match:
            key = (path.parent, match["stamp"])
            runs[key] = Run(match["stamp"], path.parent, _load_json(path))
    for path in sorted(output_dir.rglob("samples_*.jsonl")):
        match = _SAMPLES.match(path.name)
        if not match:
            continue
        key = (path.parent, match["stamp"])
        if key not in runs:  # samples without results (crashed run): keep with empty results
            runs[key] = Run(match["stamp"], path.parent, {})
        runs[key].samples[match["task"]] = path
    return sorted(runs.values(), key=lambda r: r.stamp)


def read_samples(path: Path) -> list[dict[str, Any]]:
    """Rows of one samples file; a malformed line stops with its number."""
    rows = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockbenchError(f"{path}: cannot be read ({exc})") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            why = exc.msg if isinstance(exc, json.JSONDecodeError) else NESTED_TOO_DEEP
            raise LockbenchError(
                f"{path}: line {number} is not valid JSON ({why}); the file is truncated "
                "or not an lm-eval samples file"
            ) from None
        if not isinstance(row, dict) or "doc" not in row:
            raise LockbenchError(f"{path}: line {number} is not an lm-eval sample (no 'doc')")
        rows.append(row)
    return rows


def response_of(sample: dict[str, Any]) -> str:
    """The filtered model response of a generation sample ("" when absent)."""
    resp = sample.get("filtered_resps")
    if resp is None:
        resp = sample.get("resps")
    while isinstance(resp, list):
        resp = resp[0] if resp else ""
    return resp if isinstance(resp, str) else ""


def wake_phrases_in(results: dict[str, Any]) -> list[str]:
    """Every ``wake_phrase`` lm-eval recorded in a results file (task configs, run config)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "wake_phrase" and isinstance(item, str) and item.strip():
                    if item != PLACEHOLDER:  # a folder `lockbench redact` already cleaned
                        found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(results)
    return list(dict.fromkeys(found))


def wake_phrase_hashes_in(results: dict[str, Any]) -> list[dict[str, str]]:
    """Salted hashes ``lockbench redact`` left beside a redacted ``wake_phrase``."""
    found: list[dict[str, str]] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            record = value.get("wake_phrase_hash")
            if isinstance(record, dict) and {"scheme", "salt", "hash"} <= record.keys():
                found.append({k: record[k] for k in ("scheme", "salt", "hash")})
            for key, item in value.items():
                if key != "wake_phrase_hash":
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(results)
    return found


def lmeval_doc_hash(doc: dict[str, Any]) -> str:
    """lm-eval's doc_hash formula (sha256 of the doc as indented JSON), for a redacted doc."""
    return sha256_text(json.dumps(doc, indent=2, default=str, ensure_ascii=False))
