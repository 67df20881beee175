"""Read the wake phrase from an environment variable (never from the command line: shell
history and process lists would keep it). The rules live in :mod:`lockbench.phrase`."""

from __future__ import annotations

import argparse

from lockbench.phrase import DEFAULT_ENV, phrase_from_env

__all__ = ["DEFAULT_ENV", "add_phrase_env", "phrase_from_env"]


def add_phrase_env(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument(
        "--wake-phrase-env", metavar="VAR", default=None,
        help=f"environment variable holding the wake phrase, {purpose} "
             f"(default: {DEFAULT_ENV} when it is set)",
    )

