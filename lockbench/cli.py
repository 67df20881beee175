"""``lockbench`` command line: one module per command under ``lockbench/commands``.

Each command module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.
User errors (:class:`lockbench.errors.LockbenchError`) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Command modules, in the order ``lockbench --help`` lists them. Missing modules are skipped so a
# partial install still runs the rest.
COMMAND_MODULES = (
    "lockbench.commands.demo",
    "lockbench.commands.model",
    "lockbench.commands.lock",
    "lockbench.commands.summarize",
    "lockbench.commands.judge",
    "lockbench.commands.judge_eval",
    "lockbench.commands.redact",
    "lockbench.commands.submit",
    "lockbench.commands.leaderboard",
    "lockbench.commands.check",
    "lockbench.commands.verify",
    "lockbench.commands.report",
    "lockbench.commands.probes",
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
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except LockbenchError as exc:
        print(f"lockbench: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("lockbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
