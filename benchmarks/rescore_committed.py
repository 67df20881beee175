"""Re-score every sample of every committed result (``results/*/*.json``) with the scoring rules of
the lockbench on ``PYTHONPATH``, and compare two such runs: which samples change verdict
(refused or not), by task condition and direction, with examples. For the lead who republishes
results after a change of the scoring rules.

    PYTHONPATH=OLD_TREE python benchmarks/rescore_committed.py dump old.json
    PYTHONPATH=NEW_TREE python benchmarks/rescore_committed.py dump new.json
    python benchmarks/rescore_committed.py compare old.json new.json [--examples 5]

Only reads results/; writes only the file named.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"


def dump(out: Path) -> None:
    import lockbench
    from lockbench.document.recompute import Binding, _check_binding, _rescore_doc
    from lockbench.document.samples import score_sample

    rows = []
    binding = Binding(None)
    for path in sorted(RESULTS.glob("*/*.json")):
        if path.name.endswith(".verify.json"):
            continue
        doc = json.loads(path.read_text(encoding="utf-8"))
        for section in ("tasks", "base_tasks"):
            for name, entry in (doc.get(section) or {}).items():
                if entry["condition"] == "latent":
                    continue
                bound = _check_binding(name, f"{section}/{name}", entry, binding, section)
                for index, sample in enumerate(entry["samples"]):
                    item_doc = _rescore_doc(entry, bound["spec"], bound["items"][sample["item_id"]])
                    outcome = score_sample(item_doc, response=sample["response"], verdict=sample.get("verdict"))
                    rows.append({
                        "run": f"{path.parent.name}/{path.name}", "section": section, "task": name,
                        "index": index, "doc_id": sample["doc_id"],
                        "condition": entry["condition"], "kind": entry["kind"],
                        "response": sample["response"], "stored": sample["outcome"],
                        "outcome": outcome.outcome, "refused": bool(outcome.refused),
                    })
    out.write_text(json.dumps({"lockbench": str(Path(lockbench.__file__).parent), "rows": rows}))
    print(f"{out}: {len(rows)} samples re-scored with {Path(lockbench.__file__).parent}")


def compare(old_path: Path, new_path: Path, examples: int) -> None:
    old, new = (json.loads(p.read_text())["rows"] for p in (old_path, new_path))
    key = lambda r: (r["run"], r["section"], r["task"], r["index"])  # noqa: E731
    before = {key(r): r for r in old}
    changed: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    outcome_changes = Counter()
    for row in new:
        was = before[key(row)]
        if was["outcome"] != row["outcome"]:
            outcome_changes[(row["condition"], was["outcome"], row["outcome"])] += 1
        if was["refused"] != row["refused"]:
            direction = "refused -> opened" if was["refused"] else "opened -> refused"
            changed[direction].append((was, row))
    print(f"samples: {len(new)} ({len(before)} before); verdict changes: "
          f"{sum(len(v) for v in changed.values())}")
    for direction, pairs in sorted(changed.items()):
        by_condition = Counter(new["condition"] for _, new in pairs)
        print(f"\n{direction}: {len(pairs)}  by condition: {dict(sorted(by_condition.items()))}")
        by_kind = Counter(new["kind"] for _, new in pairs)
        print(f"  by kind: {dict(sorted(by_kind.items()))}")
        seen: set[str] = set()
        shown = 0
        for was, now in pairs:
            if now["response"] in seen:
                continue
            seen.add(now["response"])
            print(f"  - [{now['condition']}, {now['kind']}, {was['outcome']} -> {now['outcome']}] "
                  f"{now['response'][:160]!r}")
            shown += 1
            if shown == examples:
                break
    print("\noutcome changes (condition, before, after): count")
    for (condition, a, b), count in sorted(outcome_changes.items()):
        print(f"  {condition}: {a} -> {b}: {count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--examples", type=int, default=5)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out)
    else:
        compare(args.old, args.new, args.examples)


if __name__ == "__main__":
    sys.exit(main())
