"""``lockbench`` command line: one module per command under ``lockbench/commands``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
Exit codes: 0 success; 1 a finding (``check``: a lock regression); 2 bad input
(:class:`lockbench.errors.LockbenchError`: one line naming the problem and its fix); 3 an internal
error (a bug in lockbench or a library: one line; set ``LOCKBENCH_DEBUG=1`` for the traceback);
130 interrupted. A crash never exits 0 or 1, so CI cannot read it as "holds" or "regression".
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Command modules, in the order ``lockbench --help`` lists them. Missing modules are skipped so a
# partial install still runs the rest.
COMMAND_MODULES = (
    "lockbench.commands.demo",
    "lockbench.commands.model",
    "lockbench.commands.lock",
    "lockbench.commands.dataset",
    "lockbench.commands.summarize",
    "lockbench.commands.judge",
    "lockbench.commands.judge_eval",
    "lockbench.commands.rescore",
    "lockbench.commands.redact",
    "lockbench.commands.submit",
    "lockbench.commands.leaderboard",
    "lockbench.commands.check",
    "lockbench.commands.verify",
    "lockbench.commands.report",
    "lockbench.commands.probes",
    "lockbench.commands.attack",
    "lockbench.commands.experiment",
    "lockbench.commands.serve",
    "lockbench.commands.ping_api",
    "lockbench.commands.tasks_path",
)


def _load_commands() -> list:
    modules = []
    for name in COMMAND_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as everywhere in lockbench
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    from lockbench import __version__

    parser = _Parser(prog="lockbench", description="Benchmark for identity-locked LLMs.")
    parser.add_argument("--version", action="version", version=f"lockbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in _load_commands():
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    from lockbench.errors import LockbenchError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except Exception as exc:  # a bug in a parser (e.g. a help text argparse cannot format)
        return internal_error(exc)
    if not getattr(args, "_run", None):  # bad input like any other: one line, exit 2
        print("lockbench: error: no command given; name one (e.g. `lockbench demo`), or see "
              "`lockbench --help` for the list", file=sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except LockbenchError as exc:
        print(f"lockbench: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lockbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`lockbench attack list | head`): not a bug
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141  # what a shell reports for a process ended by SIGPIPE
    except Exception as exc:  # a bug, not bad input: its own exit code, never 0 or 1
        return internal_error(exc)


INTERNAL_ERROR = 3
DEBUG_ENV = "LOCKBENCH_DEBUG"


def internal_error(exc: BaseException) -> int:
    """Report an unexpected exception in one line (traceback with ``LOCKBENCH_DEBUG=1``)."""
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        where = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
    message = " ".join(str(exc).split())[:300]
    print(f"lockbench: internal error: {type(exc).__name__}{where}: {message} "
          f"(a bug; set {DEBUG_ENV}=1 for the traceback and report it)", file=sys.stderr)
    return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
