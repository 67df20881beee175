"""Read the wake phrase from an environment variable (never from the command line: shell
history and process lists would keep it). The rules live in :mod:`lockbench.phrase`."""

from __future__ import annotations

import argparse

from lockbench.errors import SecretError
from lockbench.phrase import DEFAULT_ENV, WakePhrase, phrase_from_env

__all__ = ["DEFAULT_ENV", "add_phrase_env", "phrase_from_env", "required_phrase"]


def add_phrase_env(parser: argparse.ArgumentParser, purpose: str) -> None:
    parser.add_argument(
        "--wake-phrase-env", metavar="VAR", default=None,
        help=f"environment variable holding the wake phrase, {purpose} "
             f"(default: {DEFAULT_ENV} when it is set)",
    )



def required_phrase(args: argparse.Namespace, what: str) -> WakePhrase:
    """The phrase of ``--wake-phrase-env`` (default ``$LOCKBENCH_WAKE_PHRASE``); when none is
    given, one line saying ``what`` needs it."""
    phrase = phrase_from_env(args.wake_phrase_env)
    if phrase is None:
        raise SecretError(
            f"no wake phrase given for {what}; export it in ${DEFAULT_ENV} (or name another "
            "variable with --wake-phrase-env), never on the command line"
        )
    return phrase
