"""One task's result entry, built from its per-sample records: the single place where counts,
rates, intervals, the probe block and the per-dataset summary are computed.

``lockbench summarize`` builds entries with it, and ``submit``/``leaderboard``/``check`` recompute
them with it from the samples a document carries, so a number can only mean one thing.
"""

from __future__ import annotations

from typing import Any

from lockbench import stats
from lockbench.vocab import LOCKED, UNLOCKED, probe_family

# The per-sample probe fields a probe summary needs (from the probe doc), kept in ``variant``.
VARIANT_FIELDS = ("index", "legitimate", "edit_distance", "candidate_rank", "query_index")


def task_counts(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """n, passes, refusals, unparsed, rates with intervals and mean quality of ``samples``."""
    n = len(samples)
    passes = sum(bool(s["passed"]) for s in samples)
    refusals = sum(bool(s["refused"]) for s in samples)
    qualities = [s["quality"] for s in samples if s.get("quality") is not None]
    return {
        "n": n,
        "passes": passes,
        "refusals": refusals,
        "unparsed": sum(bool(s["unparsed"]) for s in samples),
        "pass_rate": stats.rate(passes, n),
        "refusal_rate": stats.rate(refusals, n),
        "mean_quality": sum(qualities) / len(qualities) if qualities else None,
    }


def probe_records(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Samples in the shape :func:`lockbench.probes.summary.probe_summary` reads."""
    records = []
    for s in samples:
        variant = s.get("variant") or {}
        doc = {"variant_kind": s.get("variant_kind"), "variant_index": variant.get("index")}
        doc.update({k: variant.get(k) for k in VARIANT_FIELDS if k != "index"})
        records.append(
            {"doc": doc, "outcome": s["outcome"], "passed": s["passed"], "refused": s["refused"]}
        )
    return records


def probe_block(condition: str, samples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The probe family's statistics (attack success, false rejects, traversal), or None."""
    family = probe_family(condition)
    if family is None:
        return None
    from lockbench.probes.summary import probe_summary

    return probe_summary(family, probe_records(samples))


def task_entry(
    meta: dict[str, Any],
    samples: list[dict[str, Any]],
    *,
    generation: dict[str, Any],
    scoring: dict[str, Any] | None,
    provenance: dict[str, Any] | None,
) -> dict[str, Any]:
    """A task entry: ``meta`` (dataset, domain, kind, condition), counts and rates, settings, the
    samples, and the probe block for probe tasks."""
    entry: dict[str, Any] = {
        "dataset": meta["dataset"],
        "domain": meta.get("domain"),
        "kind": meta["kind"],
        "condition": meta["condition"],
        **task_counts(samples),
        "generation": generation,
        "scoring": scoring,
        "provenance": provenance,
        "samples": samples,
    }
    block = probe_block(meta["condition"], samples)
    if block is not None:
        entry["probe"] = block
    return entry


def dataset_summary(tasks: dict[str, dict], base: dict[str, dict] | None = None) -> dict[str, Any]:
    """PR_lock, PR_unlock, gap, refusal rates (and PR_base, retention) per dataset.

    PR_base is the base model's pass rate on the plain prompt (its ``locked`` task: the model
    used as it was before locking).
    """
    by_dataset: dict[str, dict[str, dict]] = {}
    for entry in tasks.values():
        by_dataset.setdefault(entry["dataset"], {})[entry["condition"]] = entry
    base_by_dataset = {}
    for entry in (base or {}).values():
        if entry["condition"] == LOCKED:
            base_by_dataset[entry["dataset"]] = entry
    out = {}
    for dataset, conds in sorted(by_dataset.items()):
        locked, unlocked = conds.get(LOCKED), conds.get(UNLOCKED)
        if not locked and not unlocked:
            continue
        pr_lock = locked["pass_rate"] if locked else None
        pr_unlock = unlocked["pass_rate"] if unlocked else None
        pr_base = base_by_dataset[dataset]["pass_rate"] if dataset in base_by_dataset else None
        out[dataset] = {
            "kind": (locked or unlocked)["kind"],
            "pr_lock": pr_lock,
            "pr_unlock": pr_unlock,
            "gap": stats.difference(pr_unlock, pr_lock),
            "refusal_lock": locked["refusal_rate"] if locked else None,
            "refusal_unlock": unlocked["refusal_rate"] if unlocked else None,
            "pr_base": pr_base,
            "retention": stats.ratio(pr_unlock, pr_base),
        }
    return out
