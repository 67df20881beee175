"""User-facing errors: one readable line, a non-zero exit, no traceback."""

from __future__ import annotations


class LockbenchError(SystemExit):
    """A problem with the user's input, with the fix in the message.

    It derives from ``SystemExit`` on purpose: raised inside lm-eval (while a task builds its
    dataset), it passes through lm-eval's ``except Exception`` handlers and ends the run with
    the message on stderr and exit status 2, instead of a traceback. Library callers can catch it.
    """

    exit_code = 2

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"lockbench: error: {message}")

    def __str__(self) -> str:
        return self.message


class DataError(LockbenchError):
    """A dataset file or row that does not follow the documented schema."""


class SecretError(LockbenchError):
    """A missing, empty or leaked wake phrase."""


class InternalError(LockbenchError):
    """A failure inside lockbench itself (a bug, not the user's input), raised where an ordinary
    exception would be swallowed: inside lm-eval, whose writers catch every ``Exception`` and let
    the run exit 0 having written nothing. Like every internal error it exits 3."""

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.code = f"lockbench: internal error: {message}"
