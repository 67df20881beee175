"""Every command and sub-command of ``lockbench`` prints its help (argparse formats help texts
with %-formatting, so a stray "%" in one crashes ``--help`` only when it is asked for)."""

from __future__ import annotations

import argparse

import pytest

from lockbench.cli import build_parser, main


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for action in parser._actions:  # argparse keeps sub-parsers here and nowhere public
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, (*prefix, name))
    return found


COMMANDS = _commands(build_parser())


def test_every_command_is_found() -> None:
    names = {c[0] for c in COMMANDS if c}
    assert {"demo", "submit", "verify", "check", "leaderboard", "probes", "attack", "lock"} <= names
    assert ("lock", "train") in COMMANDS and ("attack", "suite") in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "lockbench")
def test_help_prints_and_exits_0(command, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: lockbench") and "show this help message and exit" in out
