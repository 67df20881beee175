"""``lockbench judge-eval``: agreement of judges with the labelled calibration set."""

from __future__ import annotations

import argparse
import json
import math

NAME = "judge-eval"
HELP = "measure judges against the labelled calibration set (accuracy, precision, recall, kappa)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--judge",
        action="append",
        required=True,
        metavar="NAME|JSON",
        help='a judge name or a JSON config such as \'{"name": "openai", "model": "..."}\'; repeat',
    )
    parser.add_argument("--data", help="calibration JSONL (default: the bundled set)")
    parser.add_argument(
        "--split",
        choices=("all", "fit", "heldout"),
        default="all",
        help="rows to score: all, or the half thresholds were fitted on / held out",
    )
    parser.add_argument("--cache", help="judge cache file (default: the lockbench cache)")
    parser.add_argument("--no-cache", action="store_true", help="judge everything afresh")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--by-category", action="store_true", help="also print refusal accuracy per category"
    )


def parse_judge_arg(text: str) -> dict:
    """``embedding`` or a JSON object; one line on error."""
    from lockbench.errors import LockbenchError
    from lockbench.judges.base import normalise_config

    text = text.strip()
    if text.startswith("{"):
        try:
            return normalise_config(json.loads(text))
        except json.JSONDecodeError as exc:
            raise LockbenchError(f"--judge is not valid JSON: {exc}") from None
    return normalise_config(text)


def _fmt(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:.3f}"


def run(args: argparse.Namespace) -> int:
    from lockbench.judges.base import build_judge
    from lockbench.judges.cache import open_cache
    from lockbench.judges.calibration import evaluate_judge, load_calibration

    rows = load_calibration(args.data, args.split)
    configs = [parse_judge_arg(j) for j in args.judge]
    judges = [build_judge(c) for c in configs]  # all validated before any work starts
    table = []
    per_category: dict[str, dict[str, tuple[int, float]]] = {}
    for config, judge in zip(configs, judges, strict=False):
        cache = None if args.no_cache else open_cache(config, args.cache)
        categories = per_category.setdefault(judge.name, {})
        try:
            result = evaluate_judge(judge, rows, cache, progress=True, by_category=categories)
        finally:
            if cache is not None:
                cache.close()
            judge.close()
        for task, agr in result.items():
            table.append({"judge": judge.name, "task": task, **agr.__dict__})
    if args.json:
        print(
            json.dumps(
                {"agreement": table, "refusal_accuracy_by_category": per_category}
                if args.by_category
                else table,
                indent=2,
            )
        )
        return 0
    print(f"calibration rows: {len(rows)} (split {args.split})")
    print(
        f"{'judge':<10} {'task':<11} {'n':>4} {'accuracy':>9} {'precision':>9} {'recall':>7} {'kappa':>7}"
    )
    for row in table:
        print(
            f"{row['judge']:<10} {row['task']:<11} {row['n']:>4} {_fmt(row['accuracy']):>9} "
            f"{_fmt(row['precision']):>9} {_fmt(row['recall']):>7} {_fmt(row['kappa']):>7}"
        )
    if args.by_category:
        names = list(per_category)
        print()
        print(
            f"{'refusal accuracy by category':<30} {'n':>4} " + " ".join(f"{n:>9}" for n in names)
        )
        for category in next(iter(per_category.values()), {}):
            n = per_category[names[0]][category][0]
            cells = " ".join(f"{per_category[j][category][1]:>9.2f}" for j in names)
            print(f"{category:<30} {n:>4} {cells}")
    return 0
