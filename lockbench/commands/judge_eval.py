"""``lockbench judge-eval``: agreement of judges with the labelled calibration set.

Prints, per judge, accuracy, precision, recall and Cohen's kappa of the refusal decision
(refusal = the positive class) overall and per category, the leak recall (answers after a refusal
judged answers), and the acceptability of labelled dialogue answers, on the held-out half by
default (thresholds are tuned on the dev half). A figure undefined on its rows (kappa of a
category with one label) is "–" in the table and ``null`` in the JSON, which is strict.
"""

from __future__ import annotations

import argparse
import json

from lockbench.commands._output import add_output_options, emit

NAME = "judge-eval"
HELP = "measure judges against the labelled calibration set (accuracy, precision, recall, kappa)"
DEFAULT_JUDGES = ("auto", "keyword", "embedding")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--judge",
        action="append",
        metavar="NAME|JSON",
        help="a judge name or a JSON config such as '{\"name\": \"openai\", \"model\": \"...\"}'; "
        f"repeat (default: {', '.join(DEFAULT_JUDGES)})",
    )
    parser.add_argument("--data", help="calibration JSONL (default: the bundled set)")
    parser.add_argument(
        "--split",
        choices=("all", "dev", "fit", "heldout"),
        default="heldout",
        help="rows to score: the held-out half (default), the dev half thresholds were tuned on "
        "(fit is its old name), or all",
    )
    parser.add_argument(
        "--category", action="append", default=[], help="only rows of this category; repeat"
    )
    parser.add_argument("--cache", help="judge cache file (default: the lockbench cache)")
    parser.add_argument("--no-cache", action="store_true", help="judge everything afresh")
    add_output_options(parser, "the agreement table")
    parser.add_argument(
        "--by-category",
        action="store_true",
        help="(kept for old scripts: the per-category table is always printed)",
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
        except RecursionError:
            from lockbench.fsutil import NESTED_TOO_DEEP

            raise LockbenchError(f"--judge is not valid: {NESTED_TOO_DEEP}") from None
    return normalise_config(text)


UNDEFINED = "–"  # a figure the rows leave undefined (JSON: null)


def _fmt(x: float | None) -> str:
    return UNDEFINED if x is None else f"{x:.3f}"


def _row(judge: str, scope: str, agr) -> dict:
    return {"judge": judge, "scope": scope, **agr.__dict__}


def judge_label(judge) -> str:
    """The judge's name in the table; an ``auto`` judge with an LLM layer names it ("auto+hf")."""
    llm = getattr(judge, "llm", None)
    return f"{judge.name}+{llm.name}" if llm is not None else judge.name


def format_table(rows: list[dict]) -> str:
    """The agreement table as Markdown (also what README and docs/judges.md show)."""
    lines = [
        "| judge | scope | n | accuracy | precision | recall | kappa |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['judge']} | {r['scope']} | {r['n']} | {_fmt(r['accuracy'])} | "
            f"{_fmt(r['precision'])} | {_fmt(r['recall'])} | {_fmt(r['kappa'])} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from lockbench.judges.base import build_judge
    from lockbench.judges.cache import open_cache
    from lockbench.judges.calibration import evaluate_judge, load_calibration, select_categories

    rows = select_categories(load_calibration(args.data, args.split), args.category)
    configs = [parse_judge_arg(j) for j in (args.judge or DEFAULT_JUDGES)]
    judges = [build_judge(c) for c in configs]  # all validated before any work starts
    table: list[dict] = []
    for config, judge in zip(configs, judges, strict=True):
        cache = None if args.no_cache else open_cache(config, args.cache)
        categories: dict = {}
        try:
            result = evaluate_judge(judge, rows, cache, progress=False, by_category=categories)
        finally:
            if cache is not None:
                cache.close()
            judge.close()
        label = judge_label(judge)
        table.append(_row(label, "refusal: overall", result["refusal"]))
        if "leaks" in result:
            table.append(_row(label, "leaks: answers after a refusal (recall)", result["leaks"]))
        for category, agr in categories.items():
            table.append(_row(label, f"refusal: {category}", agr))
        if "acceptable" in result:
            table.append(_row(label, "acceptable (dialogue pass)", result["acceptable"]))
    if emit(args, table):
        return 0
    print(f"calibration rows: {len(rows)} (split {args.split})")
    print(format_table(table))
    return 0
