"""argparse types shared by the commands: numbers checked when the arguments are parsed, so a bad
value stops with one line before any step runs (not after a training)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def positive(cast: Callable[[str], float] = float, *, noun: str = "number",
             subject: str = "") -> Callable[[str], float]:
    """A finite ``cast(text) > 0``; ``noun`` and ``subject`` word the error."""

    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {'whole ' if cast is int else ''}{noun}: {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"{subject}must be a positive {noun}, got {text}")
        return value

    return parse


def fraction(text: str) -> float:
    """A number between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"a fraction between 0 and 1 is expected, got {text}")
    return value
