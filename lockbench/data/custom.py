"""A user's own datasets ("custom"), registered with ``lockbench dataset add`` into a folder.

Layout of one registered dataset, ``<DIR>/<NAME>/``::

    lockbench-dataset.json   the manifest (:class:`CustomManifest`): kind, domain, files, hashes
    test.jsonl [train.jsonl] byte copies of the user's files, in the bundled schema
    lockbench_<NAME>_*.yaml  lm-eval task configs (written by lockbench.lmeval.task_configs)

A custom dataset is found by name in, in order: the folder of the task YAML being built (lm-eval
tells ``custom_dataset`` its ``config_source``), a ``data_dir`` given on the command line (the
dataset folder or the folder holding it), then every folder on ``$LOCKBENCH_TASKS_PATH``. Names
never shadow the catalog: a name the catalog knows is refused when the dataset is added.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lockbench.errors import DataError

MANIFEST = "lockbench-dataset.json"
# Folders (os.pathsep-separated) holding registered datasets: read by lockbench's catalog and by
# the lm-eval start-up hook (_lockbench_hook.py), which adds them to lm-eval's task paths.
TASKS_PATH_ENV = "LOCKBENCH_TASKS_PATH"
FORMAT = "lockbench-custom-dataset"

# Lower-case identifier; task names are lockbench_<NAME>_<condition>, so a NAME that itself ends
# like a condition or holds "_probe_" would make task names ambiguous.
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
NAME_MAX = 48
_RESERVED_SUFFIXES = ("_locked", "_unlocked", "_latent", "_base")


def check_name(name: str, what: str = "dataset name") -> str:
    """A safe identifier: lower-case letters, digits and single underscores, not a condition."""
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > NAME_MAX:
        raise DataError(
            f"{what} {name!r} is not a safe identifier; use lower-case letters, digits and single "
            f"underscores, starting with a letter, at most {NAME_MAX} characters (e.g. my_clinic_mcq)"
        )
    if name.endswith(_RESERVED_SUFFIXES) or "_probe_" in f"_{name}_" or name in ("probe", "latent"):
        raise DataError(
            f"{what} {name!r} ends like a lockbench condition (locked, unlocked, latent, base, "
            "probe); pick a name that does not, e.g. add _set"
        )
    return name


def check_domain(domain: str) -> str:
    """A domain label: the same character rules as a name (it is a structural field in results)."""
    if not isinstance(domain, str) or not _NAME.match(domain) or len(domain) > NAME_MAX:
        raise DataError(
            f"domain {domain!r} is not a safe identifier; use lower-case letters, digits and single "
            "underscores, e.g. --domain finance"
        )
    return domain


class SplitFile(BaseModel):
    """One split's file inside the dataset folder and what it held when registered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str = Field(pattern=r"^(test|train)\.jsonl$")
    n_items: int = Field(ge=1)
    items_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    file_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class CustomManifest(BaseModel):
    """``lockbench-dataset.json``: what ``lockbench dataset add`` registered."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["lockbench-custom-dataset"] = FORMAT
    version: Literal[1] = 1
    name: str
    kind: Literal["mcq", "dialogue"]
    domain: str
    splits: dict[Literal["test", "train"], SplitFile]


def read_manifest(folder: Path) -> CustomManifest:
    """The manifest of a dataset folder; a broken one stops with one line."""
    path = folder / MANIFEST
    try:
        return CustomManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else type(exc).__name__
        raise DataError(
            f"{path}: not a lockbench dataset manifest ({detail}); register the data again with "
            "`lockbench dataset add ... --force`"
        ) from None


def tasks_path_dirs() -> list[Path]:
    """The folders on ``$LOCKBENCH_TASKS_PATH`` (empty entries skipped)."""
    raw = os.environ.get(TASKS_PATH_ENV, "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def _candidates(name: str, folder: Path) -> list[Path]:
    # A folder is either the dataset folder itself or a registry holding <NAME>/.
    return [folder, folder / name]


def find_custom(name: str, data_dir: object = None, near: Path | None = None) -> tuple[Path, CustomManifest] | None:
    """``(dataset folder, manifest)`` of the custom dataset ``name``, or None when not registered
    in any searched folder (see the module docstring for the order)."""
    search: list[Path] = []
    if near is not None:
        search.append(Path(near))
    if isinstance(data_dir, (str, Path)) and str(data_dir).strip():
        search += _candidates(name, Path(data_dir).expanduser())
    for root in tasks_path_dirs():
        search += _candidates(name, root)
    for folder in search:
        if (folder / MANIFEST).is_file():
            manifest = read_manifest(folder)
            if manifest.name == name:
                return folder.resolve(), manifest
    return None


def is_registry(folder: Path) -> bool:
    """True when ``folder`` is a dataset folder or holds at least one."""
    return (folder / MANIFEST).is_file() or any(folder.glob(f"*/{MANIFEST}"))
