"""``lockbench leaderboard``: LEADERBOARD.md and leaderboard.html from results/ only."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "leaderboard"
HELP = "build results/LEADERBOARD.md and results/leaderboard.html from the submitted results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=Path, default=Path("results"),
                        help="folder of submitted results (default: results)")


def run(args: argparse.Namespace) -> int:
    from lockbench.results.leaderboard import build_leaderboard

    md_path, html_path, rows = build_leaderboard(args.results_dir)
    print(f"{len(rows)} rows: wrote {md_path} and {html_path}")
    return 0
