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
    # Optional only so that `summarize --json OUTPUT_DIR` (the old --json took a FILE) still means
    # "print the JSON for OUTPUT_DIR" instead of failing for a missing folder; see _output_dir.
    parser.add_argument("output_dir", type=Path, nargs="?", default=None,
                        help="lm-eval --output_path folder (run with --log_samples)")
    parser.add_argument("--base", type=Path, default=None,
                        help="output folder of the same tasks run on the base (pre-lock) model: adds PR_base and utility retention")
    parser.add_argument("--control", type=Path, default=None,
                        help="output folder of the same tasks run on the control model (the base fine-tuned "
                        "on the same items with no refusals): retention is then measured against it")
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


def _output_dir(args: argparse.Namespace) -> Path:
    """The folder to summarize. ``--json X`` with X a folder is the folder (a folder cannot be the
    file --json once wrote), so the value is never taken for a file to overwrite."""
    legacy = Path(args.json) if isinstance(args.json, str) else None
    if legacy is not None and legacy.is_dir():
        if args.output_dir is not None:
            raise LockbenchError(f"--json {legacy}: that is a folder, not a file to write; "
                                 "use --json to print or -o FILE to write")
        args.json = True
        return legacy
    if args.output_dir is None:
        raise LockbenchError("no lm-eval output folder given; use: lockbench summarize OUTPUT_DIR [--json]")
    return args.output_dir


def run(args: argparse.Namespace) -> int:
    from lockbench.document.summarize import summarize_output
    from lockbench.lock.card import result_lock_info

    output_dir = _output_dir(args)
    printed, path = resolve(args)
    result = summarize_output(
        output_dir,
        base_dir=args.base,
        control_dir=args.control,
        lock_card=result_lock_info(card) if (card := read_lock_card(args.lock_card)) else None,
        json_path=path,  # always written (default OUTPUT_DIR/lockbench-result.json)
        print_table=not printed,
        phrases=[phrase] if (phrase := phrase_from_env(args.wake_phrase_env)) else None,
    )
    if printed:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0
