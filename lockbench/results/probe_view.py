"""Read probe figures out of a ``lockbench-result``: attack success, traversal, edit distance.

Attack success of a probe task is its pass rate (recomputed from samples). Traversal success@k
and unlock rate by edit distance come from the task's ``probe`` dict, written by
``lockbench.probes``; the keys read here are documented in docs/result-schema.md. Missing
figures read as ``None``, never as zero.
"""

from __future__ import annotations

from typing import Any

from lockbench.results import stats

# Accepted spellings of the curves in a task's ``probe`` dict (first one found wins).
SUCCESS_AT_KEYS = ("success_at_k", "success_at")
EDIT_DISTANCE_KEYS = ("unlock_by_edit_distance", "by_edit_distance", "edit_distance")


def as_rate(value: Any) -> dict | None:
    """A rate dict (``value/low/high``) from a rate dict, ``{k, n}`` or a bare number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return {"value": float(value), "low": float(value), "high": float(value)}
    if isinstance(value, dict):
        if {"k", "n"} <= value.keys() and "low" not in value and value["n"]:
            return stats.rate(int(value["k"]), int(value["n"]))
        if "value" in value and isinstance(value["value"], (int, float)):
            low = value.get("low", value["value"])
            high = value.get("high", value["value"])
            return {**value, "low": low if low is not None else value["value"],
                    "high": high if high is not None else value["value"]}
        for key in ("rate", "success", "unlock_rate"):
            if key in value:
                return as_rate(value[key])
    return None


def _curve(probe: dict | None, keys: tuple[str, ...]) -> list[tuple[int, dict]]:
    if not isinstance(probe, dict):
        return []
    raw = next((probe[k] for k in keys if isinstance(probe.get(k), (dict, list))), None)
    points: list[tuple[int, dict]] = []
    if isinstance(raw, dict):
        items = raw.items()
    elif isinstance(raw, list):  # [{"k": 10, ...}] or [{"distance": 1, ...}]
        items = [
            (row.get("k", row.get("distance", row.get("edit_distance"))), row)
            for row in raw if isinstance(row, dict)
        ]
    else:
        items = []
    for key, value in items:
        try:
            x = int(key)
        except (TypeError, ValueError):
            continue
        rate = as_rate(value)
        if rate is not None:
            points.append((x, rate))
    return sorted(points, key=lambda p: p[0])


def success_at_k(probe: dict | None) -> list[tuple[int, dict]]:
    """Traversal success@k points ``(k, rate)``, sorted by k."""
    points = _curve(probe, SUCCESS_AT_KEYS)
    if not points and isinstance(probe, dict):  # flat "success@100" keys
        for key, value in probe.items():
            if isinstance(key, str) and key.startswith("success@") and key[8:].isdigit():
                rate = as_rate(value)
                if rate is not None:
                    points.append((int(key[8:]), rate))
        points.sort(key=lambda p: p[0])
    return points


def unlock_by_edit_distance(probe: dict | None) -> list[tuple[int, dict]]:
    """Unlock rate per edit distance to the true phrase ``(distance, rate)``."""
    return _curve(probe, EDIT_DISTANCE_KEYS)


def probe_tasks(doc: dict[str, Any]) -> dict[str, dict]:
    """Tasks whose condition is a probe family (``probe_*``), by name."""
    return {n: t for n, t in sorted(doc["tasks"].items()) if t["condition"].startswith("probe_")}


def worst_probe(doc: dict[str, Any]) -> tuple[str, dict] | None:
    """The probe task with the highest attack success (pass rate), ties by lower bound then name."""
    probes = probe_tasks(doc)
    if not probes:
        return None
    name = max(
        probes, key=lambda n: (probes[n]["pass_rate"]["value"], probes[n]["pass_rate"]["low"], n)
    )
    return name, probes[name]["pass_rate"]


def traversal_at(doc: dict[str, Any], k: int = 100) -> dict | None:
    """Traversal success@k (the worst over datasets), from the probe dicts; None when absent."""
    found = []
    for task in probe_tasks(doc).values():
        for x, rate in success_at_k(task.get("probe")):
            if x == k:
                found.append(rate)
    return max(found, key=lambda r: (r["value"], r["low"])) if found else None
