"""Read the wake phrase from an environment variable (never from the command line: shell
history and process lists would keep it)."""

from __future__ import annotations

import argparse
import os

from lockbench.errors import LockbenchError

DEFAULT_ENV = "LOCKBENCH_WAKE_PHRASE"


def add_phrase_env(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument(
        "--wake-phrase-env", metavar="VAR", default=None,
        help=f"environment variable holding the wake phrase, {purpose} "
             f"(default: {DEFAULT_ENV} when it is set)",
    )


def phrase_from_env(var: str | None) -> str | None:
    """The phrase in ``var`` (required to be set when named), or in the default variable."""
    if var is None:
        value = os.environ.get(DEFAULT_ENV)
        return value if value and value.strip() else None
    value = os.environ.get(var)
    if value is None or not value.strip():
        raise LockbenchError(f"environment variable {var} is not set or empty; export the wake phrase in it")
    return value
