"""Attack figures of a ``lockbench-result``, recomputed from each attack task's samples.

Everything the leaderboard, report, demo and experiments show about attacks comes from here or
from :func:`lockbench.document.suite_view.suite_block`, never from a task's stored ``probe``
block (a forger could edit that block without touching a sample): each block is recomputed from
the per-sample fields that ``submit`` checks against the responses.

Lock figures count *opened* events (not refused, content handed over); passes under attack are
shown beside them as leaked capability. Missing figures read as ``None``, never as zero.
"""

from __future__ import annotations

from typing import Any

from lockbench import stats
from lockbench.document.entry import probe_block
from lockbench.probes import FAMILIES
from lockbench.vocab import attack_family, confirm_family, probe_family


def screening_tasks(doc: dict[str, Any]) -> dict[str, dict]:
    """Screening (``probe_<family>``) tasks, by name."""
    return {n: t for n, t in sorted(doc["tasks"].items()) if probe_family(t["condition"]) in FAMILIES}


def confirmation_tasks(doc: dict[str, Any]) -> dict[str, dict]:
    """Confirmation (``confirm_<family>``) tasks, by name."""
    return {n: t for n, t in sorted(doc["tasks"].items()) if confirm_family(t["condition"]) in FAMILIES}


def recomputed(task: dict[str, Any]) -> dict[str, Any] | None:
    """The task's probe block from its samples (None for a task that is not an attack). A task
    run before the attack suite is read with the current suite's legitimate policy, so its
    figures compare with a suite run's (its own flags followed the paraphrase policy only)."""
    family = attack_family(task["condition"])
    if family not in FAMILIES or not task["samples"]:
        return None
    samples = task["samples"]
    if task.get("suite") is None:
        from lockbench.probes.suite import get_suite

        suite = get_suite()
        samples = [{**s, "variant": {**(s.get("variant") or {}),
                                     "legitimate": suite.is_legitimate(family, s.get("variant_kind") or "")}}
                   for s in samples]
    return probe_block(task["condition"], samples)


def _add(total: tuple[int, int] | None, r: stats.Rate | None) -> tuple[int, int]:
    k, n = total or (0, 0)
    rk, rn = stats.counts(r)
    return k + rk, n + rn


def family_rates(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per family, the screening figures pooled over the run's datasets (k and n summed):
    ``{"exposure", "attack_passed", "false_reject": rate | None, "tasks": int,
    "by_kind": {kind: {"opened", "passed"}}}``."""
    pooled: dict[str, dict[str, Any]] = {}
    for task in screening_tasks(doc).values():
        block = recomputed(task)
        if block is None:
            continue
        family = pooled.setdefault(block["family"], {"tasks": 0, "counts": {}, "kinds": {}})
        family["tasks"] += 1
        for key, record in (("exposure", block["exposure"]), ("attack_passed", block["attack_passed"]),
                            ("false_reject", block["false_reject"]["rate"])):
            family["counts"][key] = _add(family["counts"].get(key), record)
        for kind, rates in block["by_kind"].items():
            kinds = family["kinds"].setdefault(kind, {})
            for key in ("opened", "passed"):
                kinds[key] = _add(kinds.get(key), rates[key])
    return {
        name: {
            "tasks": family["tasks"],
            **{key: stats.rate(k, n) for key, (k, n) in family["counts"].items()},
            "by_kind": {kind: {key: stats.rate(k, n) for key, (k, n) in counts.items()}
                        for kind, counts in sorted(family["kinds"].items())},
        }
        for name, family in sorted(pooled.items())
    }


def traversal_of(task: dict[str, Any]) -> dict | None:
    """The traversal figures of a traversal screening task, recomputed from its samples."""
    block = recomputed(task)
    return block.get("traversal") if block else None


def traversal_at(doc: dict[str, Any], k: int = 100) -> dict | None:
    """Traversal success@k over the run's traversal tasks: success if any task's dictionary
    opened the lock within k candidates; ``complete`` only if every task tried k candidates;
    ``first``: the fewest queries to a first opening over the tasks (None: none opened)."""
    found = []
    for task in screening_tasks(doc).values():
        trav = traversal_of(task)
        table = (trav or {}).get("success_at_k") or {}
        if isinstance(table.get(str(k)), dict):
            found.append((trav, table[str(k)]))
    if not found:
        return None
    firsts = [t["queries_to_first_open"] for t, _ in found if t["queries_to_first_open"] is not None]
    return {
        "success": any(bool(e.get("success")) for _, e in found),
        "complete": all(bool(e.get("complete", True)) for _, e in found),
        "candidates_tried": min(int(e.get("candidates_tried") or 0) for _, e in found),
        "tasks": len(found),
        "first": min(firsts) if firsts else None,
    }


def fmt_traversal(entry: dict | None, k: int = 100) -> str:
    """``yes (query 2)`` / ``no`` / ``no (37 of 100 tried)`` / ``–``."""
    if entry is None:
        return "–"
    if entry["success"]:
        return f"yes (query {entry['first']})" if entry.get("first") else "yes"
    if not entry["complete"]:
        return f"no ({entry['candidates_tried']} of {k} tried)"
    return "no"


def first_open_curve(traversal: dict[str, Any]) -> list[tuple[int, int]]:
    """Step curve ``(k, 0/1)`` of success@k over k = 1..candidates tried."""
    tried = int(traversal.get("candidates_tried") or 0)
    first = traversal.get("first_open_rank")
    return [(k, int(first is not None and first <= k)) for k in range(1, tried + 1)]


def opened_by_edit_distance(task: dict[str, Any]) -> list[tuple[int, dict, dict]]:
    """``(distance, opened, passed)`` points of a screening task, sorted by distance."""
    block = recomputed(task) or {}
    points = []
    for key, value in (block.get("by_edit_distance") or {}).items():
        if value.get("opened") is not None and str(key).isdigit():
            points.append((int(key), value["opened"], value["passed"]))
    return sorted(points, key=lambda p: p[0])
