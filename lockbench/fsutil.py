"""Atomic writes: a folder or file appears whole under its final name, or not at all."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError

COMPLETE = ".complete"


def default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _make_parent(path: Path) -> None:
    """Create ``path``'s folder, or stop with one line (a file in the way, no permission)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise LockbenchError(
            f"{path}: cannot write here, a file stands where a folder of the path should be"
        ) from None
    except OSError as exc:
        raise LockbenchError(f"{path.parent}: cannot create the folder ({exc.strerror})") from None


def _cannot_write(path: Path, exc: OSError) -> LockbenchError:
    return LockbenchError(f"{path}: cannot write ({exc.strerror or exc}); choose a writable path")


def ensure_writable(path: Path) -> Path:
    """Check now that ``path`` can be written as a file (not a folder, its folder creatable and
    writable), so a command with several outputs fails before it writes the first one."""
    path = Path(path)
    if path.is_dir():
        raise LockbenchError(f"{path}: is a folder; give a file name for the output")
    _make_parent(path)
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    os.close(fd)
    os.unlink(probe)
    return path


def atomic_write_text(path: Path, text: str, mode: int | None = None) -> Path:
    """Replace ``path`` with ``text`` through a temporary file in the same folder and a rename.

    ``mode``: the new file's permissions; by default an existing file keeps its own and a new one
    gets the umask's (``mkstemp`` alone would make every file owner-only). A path that is a
    folder or cannot be written stops with one line (LockbenchError), leaving nothing behind.
    """
    path = Path(path)
    if path.is_dir():
        raise LockbenchError(f"{path}: is a folder; give a file name for the output")
    _make_parent(path)
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else default_mode()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _cannot_write(path, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_dir(target: Path, write: Callable[[Path], None]) -> Path:
    """Run ``write(tmp)`` in a sibling temporary folder, mark it complete, rename it to ``target``.

    A target that is a file, or a folder that cannot be written, stops with one line before
    ``write`` runs, so no work is done for nothing.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise LockbenchError(f"{target}: is a file; give a folder path for the output")
    _make_parent(target)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    try:
        write(tmp)
        (tmp / COMPLETE).write_text("ok\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e999 parses to Infinity
        raise ValueError(f"{text} overflows to Infinity")
    return value


# A JSON text nested deeper than Python's parser can recurse (``[[[[...]]]]`` 100,000 times) is
# bad input, not a bug: every reader of user JSON says so in this one line.
NESTED_TOO_DEEP = "JSON nested too deeply to parse (thousands of levels)"


def read_json(path: Path, what: str = "file", *, max_bytes: int | None = None, strict: bool = False) -> Any:
    """Parse a JSON file, or stop with one line saying why it cannot be read (``what`` names it).

    ``max_bytes``: refuse a larger file before reading it; ``strict``: refuse NaN and Infinity
    (Python's json accepts them, the JSON standard does not)."""
    path = Path(path)
    if max_bytes is not None:
        try:
            size = path.stat().st_size
        except OSError:
            size = 0  # reported below, with the reason
        if size > max_bytes:
            raise LockbenchError(
                f"{path}: {size:,} bytes is larger than the {max_bytes:,}-byte limit for a {what}; "
                "raise the limit only for a file you trust"
            )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LockbenchError(f"{path}: no such {what}") from None
    except IsADirectoryError:
        raise LockbenchError(f"{path}: is a folder, expected a {what}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockbenchError(f"{path}: cannot be read ({exc})") from None
    if not text.strip():
        raise LockbenchError(f"{path}: empty {what}")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float) if strict else json.loads(text)
    except RecursionError:  # Python's parser recurses once per level of nesting
        raise LockbenchError(f"{path}: {NESTED_TOO_DEEP}; the {what} is not valid") from None
    except ValueError as exc:
        if not isinstance(exc, json.JSONDecodeError):
            raise LockbenchError(f"{path}: {exc} (NaN or Infinity); the {what} is not valid JSON") from None
        raise LockbenchError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            f"the file is truncated or not a {what}"
        ) from None


# Resumable steps (demo, benchmarks, experiments, attacks): a finished step's folder holds the
# key of everything that shaped its outputs; a re-run reuses the folder only for the same key.
STEP_KEY = ".lockbench-step.json"


def done_with(folder: Path, key: dict[str, Any]) -> bool:
    """True when ``folder`` holds a finished step made from exactly ``key`` (see :func:`mark_done`)."""
    try:
        return json.loads((folder / STEP_KEY).read_text(encoding="utf-8")) == json.loads(json.dumps(key))
    except (OSError, ValueError):
        return False


def mark_done(folder: Path, key: dict[str, Any]) -> None:
    atomic_write_text(folder / STEP_KEY, json.dumps(key, sort_keys=True))


def link_tree(sources: list[Path], target: Path) -> Path:
    """``target`` holding the files of ``sources`` (hard links, copies across file systems), one
    subfolder each: a summary reads exactly these runs and nothing else in the work folder."""
    shutil.rmtree(target, ignore_errors=True)
    names = [source.name for source in sources]
    if len(set(names)) != len(names):  # two sources would share (and overwrite) one subfolder
        raise ValueError(f"link_tree: sources with the same folder name: {sorted(names)}")
    for source in sources:
        for path in sorted(source.rglob("*")):
            if not path.is_file():
                continue
            dest = target / source.name / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:
                shutil.copy2(path, dest)
    return target
