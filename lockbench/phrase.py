"""Where the wake phrase comes from: one function for lm-eval tasks and lockbench commands alike.

Sources, in this order (the first one given wins; a command line never carries the phrase):
1. ``wake_phrase`` in lm-eval's ``--metadata`` (kept for compatibility: it shows in ``ps``);
2. ``wake_phrase_file`` in ``--metadata``: the first line of that file;
3. the environment variable ``LOCKBENCH_WAKE_PHRASE`` (or the one a command names).
``wake_phrase`` and ``wake_phrase_file`` both given and different is an error: one of them is stale.
Every phrase is checked once, when its :class:`WakePhrase` is made (type, blank, length, control
characters: :func:`lockbench.secrets.validate_wake_phrase`); after that it travels as that value,
passed explicitly to whatever builds prompts or redacts output.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lockbench.errors import SecretError
from lockbench.secrets import HOW_TO_GIVE, WakePhrase, as_phrase

__all__ = ["DEFAULT_ENV", "FILE_KEY", "METADATA_KEY", "WakePhrase", "as_phrase", "phrase_from_env",
           "phrase_from_file", "resolve_phrase"]

DEFAULT_ENV = "LOCKBENCH_WAKE_PHRASE"
METADATA_KEY = "wake_phrase"
FILE_KEY = "wake_phrase_file"


def phrase_from_file(path: object) -> WakePhrase:
    """The first line of ``path`` (its line break dropped); one line when unreadable or blank."""
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise SecretError(f"metadata '{FILE_KEY}' must be a file path, got {path!r}")
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            first = handle.readline(4 * 1024)  # a phrase is short: never read a big file whole
    except OSError as exc:
        raise SecretError(
            f"cannot read the wake phrase file {path}: {exc.strerror or exc}; give a readable file "
            "whose first line is the phrase"
        ) from None
    try:
        line = first.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(f"the wake phrase file {path} is not UTF-8 text; save it as UTF-8") from None
    line = line.removesuffix("\n").removesuffix("\r")
    if not line.strip():
        raise SecretError(
            f"the first line of the wake phrase file {path} is empty; write the phrase on its first line"
        )
    return WakePhrase(line, context=f"first line of {path}")


def phrase_from_env(var: str | None = None, *, required: bool = False) -> WakePhrase | None:
    """The phrase in ``var`` (which must then be set), or in ``LOCKBENCH_WAKE_PHRASE``.

    The default variable unset, or set to blanks, counts as not given unless ``required``.
    """
    name = var or DEFAULT_ENV
    value = os.environ.get(name)
    if var is not None and value is None:
        raise SecretError(f"environment variable {var} is not set; export the wake phrase in it")
    if value is None or (var is None and not required and not value.strip()):
        return None
    return WakePhrase(value, context=f"${name}")


def resolve_phrase(
    metadata: Mapping[str, Any] | None = None,
    *,
    env_var: str | None = None,
    required: bool = False,
    context: str = "",
) -> WakePhrase | None:
    """The wake phrase from ``metadata`` (``wake_phrase``, then ``wake_phrase_file``), else from
    the environment; ``None`` when none is given and ``required`` is false."""
    metadata = metadata or {}
    given = metadata.get(METADATA_KEY)
    path = metadata.get(FILE_KEY)
    where = f" ({context})" if context else ""
    if given is not None:
        # a WakePhrase from Python code (lockbench's own runs pass it this way) is used as it is
        phrase = as_phrase(given, context=f"metadata '{METADATA_KEY}'{where}")
        if path is not None and phrase_from_file(path) != phrase:
            raise SecretError(
                f"metadata '{METADATA_KEY}' and '{FILE_KEY}' are both given and differ{where}; "
                "give only one"
            )
        return phrase
    if path is not None:
        return phrase_from_file(path)
    phrase = phrase_from_env(env_var, required=required)
    if phrase is None and required:
        raise SecretError(f"no wake phrase given{where}; {HOW_TO_GIVE}")
    return phrase
