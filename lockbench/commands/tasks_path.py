"""``lockbench tasks-path``: the task folder, for ``lm_eval --include_path``."""

from __future__ import annotations

import argparse

NAME = "tasks-path"
HELP = "print lockbench's lm-eval task folder (for --include_path)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from lockbench import tasks_path

    print(tasks_path())
    return 0
