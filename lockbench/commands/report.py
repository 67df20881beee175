"""``lockbench report OUTPUT_OR_RESULT``: one self-contained HTML report with plots."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "write a self-contained HTML report (plots inline) of an lm-eval output folder or a lockbench-result"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", type=Path, help="lm-eval output folder or lockbench-result JSON")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="HTML file to write (default: OUTPUT_DIR/lockbench-report.html or RESULT.html)")


def run(args: argparse.Namespace) -> int:
    from lockbench.publish.report import write_report

    path = write_report(args.source, args.output)
    print(f"wrote {path}")
    return 0
