"""``lockbench leaderboard``: LEADERBOARD.md and leaderboard.html from results/ only."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "leaderboard"
HELP = "build results/LEADERBOARD.md and results/leaderboard.html from the submitted results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results-dir", type=Path, default=Path("results"),
                        help="folder of submitted results (default: results)")
    parser.add_argument("--data-dir", default=None,
                        help="public items of hub datasets (local JSONL copies), to re-check runs on them")


def run(args: argparse.Namespace) -> int:
    from lockbench.publish.leaderboard import build_leaderboard, ranked

    md_path, html_path, board = build_leaderboard(args.results_dir, args.data_dir)
    print(f"{len(board.rows)} rows ({len(ranked(board))} ranked), {len(board.rejected)} rejected file(s): "
          f"wrote {md_path} and {html_path}")
    for rejected in board.rejected:
        print(f"   rejected {rejected.run}: {rejected.reason}")
    return 0
