"""Probe figures of a ``lockbench-result``: attack success, traversal success@k, edit distance.

Attack success (ASR) of a probe task is recomputed from its samples: the pass rate over the
samples whose ``variant_kind`` is not a legitimate one (the kinds a real user might send by
mistake, e.g. a typo of the true phrase, listed by the probe summary in
``probe.false_reject.kinds``; those measure false rejects, not attacks). Traversal success@k
and unlock rate by edit distance are read from the task's ``probe`` dict written by
:mod:`lockbench.probes.summary`. Missing figures read as ``None``, never as zero.
"""

from __future__ import annotations

from typing import Any

from lockbench.results import stats


def as_rate(value: Any) -> dict | None:
    """A rate dict (``value/low/high/k/n``) from a rate dict, a probes ``{k, n, rate, ...}`` record
    (interval recomputed from k and n) or ``None``."""
    if not isinstance(value, dict):
        return None
    if "k" in value and "n" in value and isinstance(value["n"], int) and value["n"] > 0:
        return stats.rate(int(value["k"]), int(value["n"]))
    if isinstance(value.get("value"), (int, float)) and "low" in value:
        return value
    return None


def probe_tasks(doc: dict[str, Any]) -> dict[str, dict]:
    """Tasks whose condition is a probe family (``probe_*``), by name."""
    return {n: t for n, t in sorted(doc["tasks"].items()) if t["condition"].startswith("probe_")}


def legitimate_kinds(task: dict[str, Any]) -> set[str]:
    probe = task.get("probe")
    if isinstance(probe, dict) and isinstance(probe.get("false_reject"), dict):
        return set(probe["false_reject"].get("kinds") or [])
    return set()


def attack_success(task: dict[str, Any]) -> dict | None:
    """Pass rate over the attack (non-legitimate) samples of a probe task, with its interval."""
    legit = legitimate_kinds(task)
    attacks = [s for s in task["samples"] if s.get("variant_kind") not in legit]
    return stats.rate(sum(bool(s["passed"]) for s in attacks), len(attacks))


def worst_probe(doc: dict[str, Any]) -> tuple[str, dict] | None:
    """The probe task with the highest attack success, ties by lower bound then name."""
    rates = {n: attack_success(t) for n, t in probe_tasks(doc).items()}
    rates = {n: r for n, r in rates.items() if r}
    if not rates:
        return None
    name = max(rates, key=lambda n: (rates[n]["value"], rates[n]["low"], n))
    return name, rates[name]


def traversal_of(task: dict[str, Any]) -> dict | None:
    probe = task.get("probe")
    if isinstance(probe, dict) and isinstance(probe.get("traversal"), dict):
        return probe["traversal"]
    return None


def success_at(traversal: dict[str, Any], k: int, key: str = "success_at_k") -> dict | None:
    """``{"success", "candidates_tried", "complete"}`` at budget k, or None when not recorded."""
    table = traversal.get(key)
    if isinstance(table, dict) and isinstance(table.get(str(k)), dict):
        return table[str(k)]
    return None


def traversal_at(doc: dict[str, Any], k: int = 100) -> dict | None:
    """Traversal success@k over the run's traversal tasks: success if any task's dictionary
    unlocked within k candidates; ``complete`` only if every task tried k candidates."""
    found = [
        entry for task in probe_tasks(doc).values()
        if (trav := traversal_of(task)) and (entry := success_at(trav, k))
    ]
    if not found:
        return None
    return {
        "success": any(bool(e.get("success")) for e in found),
        "complete": all(bool(e.get("complete", True)) for e in found),
        "candidates_tried": min(int(e.get("candidates_tried") or 0) for e in found),
        "tasks": len(found),
    }


def fmt_traversal(entry: dict | None, k: int = 100) -> str:
    """``yes`` / ``no`` / ``no (37 of 100 tried)`` / ``–``."""
    if entry is None:
        return "–"
    if entry["success"]:
        return "yes"
    if not entry["complete"]:
        return f"no ({entry['candidates_tried']} of {k} tried)"
    return "no"


def first_unlock_curve(traversal: dict[str, Any], field: str = "first_unlock_rank") -> list[tuple[int, int]]:
    """Step curve ``(k, 0/1)`` of success@k over k = 1..candidates tried."""
    tried = int(traversal.get("candidates_tried") or 0)
    first = traversal.get(field)
    return [(k, int(first is not None and first <= k)) for k in range(1, tried + 1)]


def unlock_by_edit_distance(task: dict[str, Any], metric: str = "unlock") -> list[tuple[int, dict]]:
    """``(distance, rate)`` points from ``probe.unlock_vs_edit_distance``, sorted by distance."""
    probe = task.get("probe")
    table = probe.get("unlock_vs_edit_distance") if isinstance(probe, dict) else None
    points = []
    for key, value in (table or {}).items():
        rate = as_rate(value.get(metric)) if isinstance(value, dict) else None
        if rate is not None and str(key).lstrip("-").isdigit():
            points.append((int(key), rate))
    return sorted(points, key=lambda p: p[0])
