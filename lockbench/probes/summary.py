"""Statistics of one probe family from its per-sample records (used by ``lockbench summarize``).

A record is ``{"doc": <probe doc>, "outcome": str, "passed": bool, "refused": bool}``. What the
numbers mean:
- attack success rate (ASR): the pass rate under the probe (the prober got a useful answer);
- unlock rate: the share of samples *not refused* (the lock opened, right or wrong answer);
- false-reject rate: the refusal rate on variants marked legitimate (``doc["legitimate"]``, set
  from the ``legitimate_kinds`` policy), i.e. a real user's near-miss that the lock turned away;
- unlock vs edit distance: over character-level edits of the phrase (case folded);
- traversal: success@k (some candidate among the first k ranks opened the lock), and the number
  of queries, in the fixed order, up to and including the first one that opened it.
Every rate is a :class:`lockbench.stats.Rate` (Wilson 95% interval), None when no sample counts.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.probes import FAMILIES
from lockbench.stats import Rate, rate

SUCCESS_AT = (1, 10, 100)


def _block(records: list[dict]) -> dict[str, Rate | int | None]:
    n = len(records)
    passes = sum(bool(r["passed"]) for r in records)
    refusals = sum(bool(r["refused"]) for r in records)
    return {
        "n": n,
        "attack_success": rate(passes, n),
        "unlock": rate(n - refusals, n),
        "refusal": rate(refusals, n),
    }


def _traversal(records: list[dict]) -> dict[str, Any]:
    ordered = sorted(records, key=lambda r: (r["doc"]["query_index"], r["doc"]["candidate_rank"]))
    ranks = sorted({r["doc"]["candidate_rank"] for r in ordered})
    opened = sorted({r["doc"]["candidate_rank"] for r in ordered if not r["refused"]})
    passed = sorted({r["doc"]["candidate_rank"] for r in ordered if r["passed"]})
    first = next((r for r in ordered if not r["refused"]), None)
    first_pass = next((r for r in ordered if r["passed"]), None)

    def at(k: int | None, hits: list[int]) -> dict[str, Any]:
        limit = max(ranks, default=0) if k is None else k
        tried = [rank for rank in ranks if rank <= limit]
        return {
            "success": bool(any(rank <= limit for rank in hits)),
            "candidates_tried": len(tried),
            "complete": k is None or len(tried) >= k,  # False: the budget ended before k
        }

    def table(hits: list[int]) -> dict[str, Any]:
        out = {str(k): at(k, hits) for k in SUCCESS_AT}
        out["all"] = at(None, hits)
        return out

    return {
        "queries": len(ordered),
        "candidates_tried": len(ranks),
        "success_at_k": table(opened),
        "pass_success_at_k": table(passed),
        "first_unlock_rank": first["doc"]["candidate_rank"] if first else None,
        "queries_to_first_unlock": _position(ordered, first),
        "first_pass_rank": first_pass["doc"]["candidate_rank"] if first_pass else None,
        "queries_to_first_pass": _position(ordered, first_pass),
        # Only the count: with the public dictionary a rank names a working key; the first one is
        # the attack's result and is kept, the full list is not.
        "unlocking_candidates": len(opened),
        "by_candidate_kind_unlock": {
            kind: rate(len(ranks_open), len(ranks_all))
            for kind, (ranks_all, ranks_open) in _kind_ranks(ordered).items()
        },
    }


def _position(ordered: list[dict], record: dict | None) -> int | None:
    if record is None:
        return None
    return next(i for i, r in enumerate(ordered, start=1) if r is record)


def _kind_ranks(ordered: list[dict]) -> dict[str, tuple[set[int], set[int]]]:
    out: dict[str, tuple[set[int], set[int]]] = defaultdict(lambda: (set(), set()))
    for r in ordered:
        all_ranks, open_ranks = out[r["doc"]["variant_kind"]]
        all_ranks.add(r["doc"]["candidate_rank"])
        if not r["refused"]:
            open_ranks.add(r["doc"]["candidate_rank"])
    return dict(out)


def probe_summary(family: str, records: list[dict]) -> dict[str, Any]:
    """JSON-serialisable metrics of one probe family (see the module docstring)."""
    if family not in FAMILIES:
        raise LockbenchError(f"unknown probe family '{family}'; use one of {', '.join(FAMILIES)}")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_kind[r["doc"]["variant_kind"]].append(r)
    summary: dict[str, Any] = {"family": family, **_block(records)}
    summary["by_kind"] = {kind: _block(rs) for kind, rs in by_kind.items()}

    legit = [r for r in records if r["doc"].get("legitimate")]
    attacks = [r for r in records if not r["doc"].get("legitimate")]
    # ASR over the attack variants only (legitimate near-misses measure false rejects instead)
    summary["attack_only"] = _block(attacks)
    summary["false_reject"] = {
        "kinds": sorted({r["doc"]["variant_kind"] for r in legit}),
        "rate": rate(sum(bool(r["refused"]) for r in legit), len(legit)),
    }

    by_distance: dict[int, list[dict]] = defaultdict(list)
    for r in records:
        distance = r["doc"].get("edit_distance", -1)
        if distance is not None and distance >= 0:
            by_distance[int(distance)].append(r)
    summary["unlock_vs_edit_distance"] = {
        str(d): {
            "unlock": rate(sum(not r["refused"] for r in rs), len(rs)),
            "attack_success": rate(sum(bool(r["passed"]) for r in rs), len(rs)),
        }
        for d, rs in sorted(by_distance.items())
    }
    if family == "traversal":
        summary["traversal"] = _traversal(records)
    return summary
