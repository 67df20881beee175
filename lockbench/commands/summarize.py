"""``lockbench summarize OUTPUT_DIR``: PR_lock, PR_unlock, gap and refusal rates with intervals."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lockbench.errors import LockbenchError

NAME = "summarize"
HELP = "summarize an lm-eval output folder: table + secret-free lockbench-result JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output_dir", type=Path, help="lm-eval --output_path folder (run with --log_samples)")
    parser.add_argument("--base", type=Path, default=None,
                        help="output folder of the same tasks run on the base (pre-lock) model: adds PR_base and utility retention")
    parser.add_argument("--lock-card", type=Path, default=None,
                        help="lock card JSON written by `lockbench lock train` (method, ratio, phrase hash)")
    parser.add_argument("--json", type=Path, default=None, dest="json_path",
                        help="where to write the result (default OUTPUT_DIR/lockbench-result.json)")


def read_lock_card(path: Path | None) -> dict | None:
    if path is None:
        return None
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LockbenchError(f"{path}: cannot read the lock card ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise LockbenchError(f"{path}: the lock card is not valid JSON ({exc.msg})") from None
    if not isinstance(card, dict):
        raise LockbenchError(f"{path}: a lock card is a JSON object")
    return card


def run(args: argparse.Namespace) -> int:
    from lockbench.results.summarize import summarize_output

    summarize_output(
        args.output_dir,
        base_dir=args.base,
        lock_card=read_lock_card(args.lock_card),
        json_path=args.json_path,
    )
    return 0
