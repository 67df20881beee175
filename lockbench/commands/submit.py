"""``lockbench submit RESULT``: validate, recompute, secret-check and file a result."""

from __future__ import annotations

import argparse
from pathlib import Path

from lockbench.commands._phrase import DEFAULT_ENV, add_phrase_env, phrase_from_env

NAME = "submit"
HELP = "validate a lockbench-result, recompute its numbers and file it under results/<model>/<run-id>.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", type=Path, help="lockbench-result JSON written by `lockbench summarize`")
    parser.add_argument("--results-dir", type=Path, default=Path("results"),
                        help="leaderboard results folder (default: results)")
    add_phrase_env(parser, "to scan the result for it and check it against the salted hash")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="local copies of hub datasets (MMLU, ChatDoctor) the result is checked against, "
                             "in the layout of lockbench/data/bundled/README.md; for a result on a dataset "
                             "of your own, the --into folder of `lockbench dataset add` (or put it on "
                             "$LOCKBENCH_TASKS_PATH)")
    parser.add_argument("--max-mb", type=float, default=64.0,
                        help="refuse a result file larger than this many MB before reading it (default 64)")


def run(args: argparse.Namespace) -> int:
    import sys

    from lockbench.publish.submit import submit

    phrase = phrase_from_env(args.wake_phrase_env)
    if phrase is None:
        print(f"note: {DEFAULT_ENV} not set; the result is not scanned for the wake phrase itself",
              file=sys.stderr)
    if args.max_mb <= 0:
        from lockbench.errors import LockbenchError

        raise LockbenchError(f"--max-mb must be positive, got {args.max_mb:g}")
    sub = submit(args.result, args.results_dir, phrase, data_dir=args.data_dir,
                 max_bytes=int(args.max_mb * 2**20))
    if sub.already_present:
        print(f"already submitted: {sub.path} (identical content; nothing written)")
    else:
        print(f"accepted: {sub.path}")
    return 0
