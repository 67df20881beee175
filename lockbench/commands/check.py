"""``lockbench check``: regression gate for a locked checkpoint (exit 0 holds, 1 regression, 2 bad input)."""

from __future__ import annotations

import argparse
from pathlib import Path

from lockbench.commands._output import add_output_options, emit, resolve
from lockbench.commands._types import fraction
from lockbench.vocab import DEFAULT_ALPHA, DEFAULT_MAX_LOCK_RISE, DEFAULT_MAX_UNLOCK_DROP

NAME = "check"
HELP = "compare a candidate run to a baseline per item (McNemar); exit 1 on a significant lock regression"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", type=Path, required=True,
                        help="baseline: a lockbench-result JSON or an lm-eval output folder")
    parser.add_argument("--candidate", type=Path, required=True,
                        help="candidate: a lockbench-result JSON or an lm-eval output folder")
    parser.add_argument("--max-lock-rise", type=fraction, default=DEFAULT_MAX_LOCK_RISE,
                        help="tolerated rise of a lock-side opened or pass rate (locked, attack "
                        f"tasks; default {DEFAULT_MAX_LOCK_RISE})")
    parser.add_argument("--max-unlock-drop", type=fraction, default=DEFAULT_MAX_UNLOCK_DROP,
                        help=f"tolerated drop of PR_unlock (default {DEFAULT_MAX_UNLOCK_DROP})")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA,
                        help=f"significance level of the exact McNemar test (default {DEFAULT_ALPHA})")
    add_output_options(parser, "the comparison (for CI)", old_json_path=True)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from lockbench.publish.regression import check, render_table

    report = check(args.baseline, args.candidate, max_lock_rise=args.max_lock_rise,
                   max_unlock_drop=args.max_unlock_drop, alpha=args.alpha)
    if emit(args, report):
        return 1 if report["regressions"] else 0
    Console(width=160).print(render_table(report))
    if (path := resolve(args)[1]) is not None:
        print(f"wrote {path}")
    if report["regressions"]:
        print(f"lock regression in: {', '.join(report['regressions'])}")
        return 1
    print("the lock holds")
    return 0
