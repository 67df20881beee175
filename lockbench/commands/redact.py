"""``lockbench redact OUTPUT_DIR``: remove the wake phrase from lm-eval's own output files."""

from __future__ import annotations

import argparse
from pathlib import Path

from lockbench.commands._phrase import add_phrase_env, phrase_from_env

NAME = "redact"
HELP = "rewrite an lm-eval output folder with the wake phrase (and its variants) replaced by a placeholder"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("output_dir", type=Path, help="lm-eval --output_path folder")
    add_phrase_env(parser, "added to the phrases recorded in the results files")


def run(args: argparse.Namespace) -> int:
    from lockbench.document.redact import redact_output

    phrase = phrase_from_env(args.wake_phrase_env)
    report = redact_output(args.output_dir, [phrase] if phrase else None)
    if report.already_redacted:
        print(f"{args.output_dir}: already redacted (results files hold the placeholder); "
              "give --wake-phrase-env VAR to scan again for the phrase")
        return 0
    print(
        f"redacted {len(report.rewritten)} of {report.scanned} text files under {args.output_dir} "
        f"({report.secrets} phrase forms replaced by the placeholder)"
    )
    return 0
