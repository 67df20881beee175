"""``--json`` and ``--output`` mean the same on every command that has a JSON form: ``--json``
prints that JSON on stdout instead of the table, ``--output FILE`` writes it to FILE
(atomically). ``summarize`` and ``check`` once took ``--json FILE``; that spelling still writes
FILE, as ``--output FILE`` does."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_output_options(parser: argparse.ArgumentParser, what: str, *, default: str | None = None,
                       old_json_path: bool = False, aliases: tuple[str, ...] = ()) -> None:
    """``--json`` and ``-o/--output FILE`` for a command whose result is ``what``."""
    where = f" (default: {default})" if default else ""
    parser.add_argument("-o", "--output", *aliases, type=Path, default=None, metavar="FILE",
                        help=f"write {what} as JSON to FILE{where}")
    if old_json_path:  # `--json FILE` was --output; a bare `--json` prints
        parser.add_argument("--json", nargs="?", const=True, default=False, metavar="FILE",
                            help=f"print {what} as JSON instead of the table (--json FILE: as --output FILE)")
    else:
        parser.add_argument("--json", action="store_true", help=f"print {what} as JSON instead of the table")


def resolve(args: argparse.Namespace) -> tuple[bool, Path | None]:
    """``(print JSON?, file to write or None)`` from the parsed options."""
    if isinstance(args.json, str):
        return False, args.output or Path(args.json)
    return bool(args.json), args.output


def emit(args: argparse.Namespace, data: Any) -> bool:
    """Write ``data`` to ``--output`` and print it for ``--json``; True when it was printed (the
    caller then prints no table)."""
    printed, path = resolve(args)
    if path is not None:
        from lockbench.fsutil import atomic_write_text

        atomic_write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
    if printed:
        print(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))  # strict JSON
    return printed
