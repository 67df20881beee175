"""``lockbench summarize OUTPUT_DIR``: PR_lock, PR_unlock, gap and refusal rates with intervals."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lockbench.commands._output import add_output_options, resolve
from lockbench.commands._phrase import add_phrase_env, phrase_from_env
from lockbench.errors import LockbenchError

NAME = "summarize"
HELP = "summarize an lm-eval output folder: table + secret-free lockbench-result JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output_dir", type=Path, help="lm-eval --output_path folder (run with --log_samples)")
    parser.add_argument("--base", type=Path, default=None,
                        help="output folder of the same tasks run on the base (pre-lock) model: adds PR_base and utility retention")
    parser.add_argument("--lock-card", type=Path, default=None,
                        help="lock_card.json written by `lockbench lock train` (method, ratio, phrase hash, base model)")
    add_output_options(parser, "the lockbench-result", default="OUTPUT_DIR/lockbench-result.json",
                       old_json_path=True)
    add_phrase_env(parser, "to redact it and its variants from the responses and hash it")


def read_lock_card(path: Path | None) -> dict | None:
    if path is None:
        return None
    from lockbench.fsutil import read_json

    card = read_json(path, "lock card")
    if not isinstance(card, dict):
        raise LockbenchError(f"{path}: a lock card is a JSON object")
    return card


def run(args: argparse.Namespace) -> int:
    from lockbench.lock.card import result_lock_info
    from lockbench.results.summarize import summarize_output

    printed, path = resolve(args)
    result = summarize_output(
        args.output_dir,
        base_dir=args.base,
        lock_card=result_lock_info(card) if (card := read_lock_card(args.lock_card)) else None,
        json_path=path,  # always written (default OUTPUT_DIR/lockbench-result.json)
        print_table=not printed,
        phrases=[phrase] if (phrase := phrase_from_env(args.wake_phrase_env)) else None,
    )
    if printed:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
