"""Recompute every number of a ``lockbench-result`` document from its per-sample outcomes.

A submission is accepted only when the counts, rates, intervals and the per-dataset summary
(gap, PR_base, utility retention) follow from the samples it carries, the samples are complete
(doc_ids 0..n-1, each once) and each sample's flags agree with its outcome. The first problem
found stops with one line naming the task, the field, the stated and the recomputed value.
"""

from __future__ import annotations

import math
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.results import stats
from lockbench.results.summarize import dataset_summary

# Floats are compared with a tolerance: statsmodels on another platform may differ in the last bits.
REL_TOL = 1e-9
ABS_TOL = 1e-12

_OUTCOMES = {"mcq": {"refused", "correct", "wrong"}, "dialogue": {"refused", "answered"}}


class Mismatch(LockbenchError):
    """A number that does not recompute from the samples, or an incomplete sample list."""


def _close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return a == b


def _show(value: Any) -> str:
    if isinstance(value, dict) and "value" in value:
        return stats.fmt(value, 4)
    return repr(value)


def _check_samples(where: str, entry: dict[str, Any]) -> None:
    samples = entry["samples"]
    ids = [s["doc_id"] for s in samples]
    seen: set[int] = set()
    for doc_id in ids:
        if doc_id in seen:
            raise Mismatch(f"{where}: doc_id {doc_id} appears twice; each sample must be listed once")
        seen.add(doc_id)
    hashes: set[str] = set()
    for sample in samples:
        if sample["doc_hash"] and sample["doc_hash"] in hashes:
            raise Mismatch(
                f"{where}: doc_hash {sample['doc_hash'][:12]}… appears twice; each sample must be "
                "listed once"
            )
        hashes.add(sample["doc_hash"])
    if len(samples) != entry["n"]:
        raise Mismatch(f"{where}: n says {entry['n']} but {len(samples)} samples are listed")
    missing = sorted(set(range(len(samples))) - seen)
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" …" if len(missing) > 5 else "")
        raise Mismatch(
            f"{where}: doc_id(s) {shown} missing (samples must be lm-eval's doc_ids 0..n-1); "
            "submit the complete samples of the run"
        )
    kind = entry["kind"]
    allowed = _OUTCOMES[kind]
    for sample in samples:
        at = f"{where}: sample doc_id {sample['doc_id']}"
        outcome = sample["outcome"]
        if outcome not in allowed:
            raise Mismatch(f"{at}: outcome {outcome!r} is not one of {sorted(allowed)} for {kind}")
        if sample["refused"] != (outcome == "refused"):
            raise Mismatch(f"{at}: refused={sample['refused']} disagrees with outcome {outcome!r}")
        if sample["passed"] and outcome in ("refused", "wrong"):
            raise Mismatch(f"{at}: passed=true with outcome {outcome!r}; a {outcome} sample never passes")
        if kind == "mcq" and sample["passed"] != (outcome == "correct"):
            raise Mismatch(f"{at}: passed={sample['passed']} disagrees with outcome {outcome!r}")
        if sample["unparsed"] and outcome != "wrong":
            raise Mismatch(f"{at}: unparsed=true with outcome {outcome!r}; only a wrong answer is unparsed")
        if kind == "dialogue" and sample["quality"] is None:
            raise Mismatch(f"{at}: dialogue samples carry a quality score")


def recompute_task(entry: dict[str, Any]) -> dict[str, Any]:
    """The counts and rates that follow from ``entry['samples']`` (same keys as the entry)."""
    samples = entry["samples"]
    n = len(samples)
    passes = sum(bool(s["passed"]) for s in samples)
    refusals = sum(bool(s["refused"]) for s in samples)
    qualities = [s["quality"] for s in samples if s["quality"] is not None]
    return {
        "n": n,
        "passes": passes,
        "refusals": refusals,
        "unparsed": sum(bool(s["unparsed"]) for s in samples),
        "pass_rate": stats.rate(passes, n),
        "refusal_rate": stats.rate(refusals, n),
        "mean_quality": sum(qualities) / len(qualities) if qualities else None,
    }


def verify_task(name: str, entry: dict[str, Any], section: str = "tasks") -> None:
    """Stop at the first field of ``entry`` that does not recompute from its samples."""
    where = f"{section}/{name}"
    _check_samples(where, entry)
    for key, value in recompute_task(entry).items():
        if not _close(entry[key], value):
            raise Mismatch(
                f"{where}: {key} is {_show(entry[key])} but the samples give {_show(value)}; "
                "the numbers were changed after `lockbench summarize`"
            )


def verify_document(doc: dict[str, Any], source: str = "result") -> None:
    """Recompute every task, base task and dataset row of a schema-valid document."""
    try:
        for name, entry in doc["tasks"].items():
            verify_task(name, entry, "tasks")
        for name, entry in (doc.get("base_tasks") or {}).items():
            verify_task(name, entry, "base_tasks")
        expected = dataset_summary(doc["tasks"], doc.get("base_tasks"))
        stated = doc["datasets"]
        for dataset in sorted(set(expected) | set(stated)):
            if dataset not in stated:
                raise Mismatch(f"datasets: {dataset} is missing (its tasks are in the document)")
            if dataset not in expected:
                raise Mismatch(f"datasets/{dataset}: no locked/unlocked task backs this row")
            for key, value in expected[dataset].items():
                if not _close(stated[dataset].get(key), value):
                    raise Mismatch(
                        f"datasets/{dataset}: {key} is {_show(stated[dataset].get(key))} but the "
                        f"tasks give {_show(value)}"
                    )
    except Mismatch as exc:
        raise Mismatch(f"{source}: {exc.message}") from None
