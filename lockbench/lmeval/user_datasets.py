"""Register a user's own dataset: validate its files, then write data, manifest and task configs.

``add_dataset`` checks everything first (name, kind, files against the bundled row schema, the
target folder), then writes ``<into>/<name>/`` in a temporary sibling folder renamed into place
(lockbench.fsutil.atomic_dir): a failure leaves nothing behind, and a folder that exists is only
replaced with ``force``. The layout is described in lockbench.data.custom.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from lockbench.data.catalog import DATASETS, DatasetSpec, read_custom_items
from lockbench.data.custom import (
    MANIFEST,
    CustomManifest,
    SplitFile,
    check_domain,
    check_name,
)
from lockbench.data.provenance import items_sha256
from lockbench.data.schema import Kind
from lockbench.digest import file_sha256
from lockbench.errors import DataError
from lockbench.fsutil import atomic_dir, default_mode
from lockbench.lmeval.task_configs import custom_task_files, task_names, template_texts
from lockbench.vocab import KINDS

DEFAULT_DOMAIN = "custom"


@dataclass(frozen=True)
class Registered:
    """What ``add_dataset`` wrote."""

    folder: Path
    manifest: CustomManifest
    tasks: list[str]


def _check_file(path: Path | str, option: str) -> Path:
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"{option} {path}: no such file; give the path of your JSONL file")
    if not path.is_file():
        raise DataError(f"{option} {path}: not a file; give the path of your JSONL file")
    return path


def add_dataset(
    name: str,
    kind: Kind,
    test: Path | str,
    into: Path | str,
    *,
    train: Path | str | None = None,
    domain: str | None = None,
    force: bool = False,
) -> Registered:
    """Validate and register ``name``; see the module docstring. Bad input raises DataError."""
    check_name(name)
    if name in DATASETS:
        raise DataError(
            f"dataset name '{name}' is a bundled lockbench dataset; pick another name for your data"
        )
    if kind not in KINDS:
        raise DataError(f"--kind {kind!r}: use mcq or dialogue")
    spec = DatasetSpec(name, kind, "custom", "custom")
    taken = set().union(*(task_names(s) for s in DATASETS.values())) & task_names(spec)
    if taken:  # the name rules exclude this; checked anyway, since a clash would shadow a task
        raise DataError(f"dataset name '{name}' would redefine lockbench task {sorted(taken)[0]}; pick another name")
    domain = check_domain(domain or DEFAULT_DOMAIN)
    files = {"test": _check_file(test, "--test")}
    if train is not None:
        files["train"] = _check_file(train, "--train")
    into = Path(into).expanduser()
    if into.exists() and not into.is_dir():
        raise DataError(f"--into {into}: is a file; give a folder")
    target = into / name
    if target.exists() and not force:
        raise DataError(f"{target} already exists; add --force to replace it")
    # Every file validated (errors name the user's file and line) before anything is written.
    items = {split: read_custom_items(path, kind, name, line_numbers=True) for split, path in files.items()}
    from lockbench import tasks_path

    templates = template_texts(tasks_path() / "lockbench")
    spec = DatasetSpec(name, kind, domain, "custom", folder=target)
    task_files = custom_task_files(spec)
    manifest = CustomManifest(
        name=name, kind=kind, domain=domain,
        splits={
            split: SplitFile(file=f"{split}.jsonl", n_items=len(items[split]),
                             items_sha256=items_sha256(items[split]), file_sha256=file_sha256(path))
            for split, path in files.items()
        },
    )

    def write(tmp: Path) -> None:
        for split, path in files.items():
            shutil.copyfile(path, tmp / f"{split}.jsonl")
            if file_sha256(tmp / f"{split}.jsonl") != manifest.splits[split].file_sha256:
                raise DataError(f"{path} changed while it was being registered; run the command again")
        for file_name, text in {**templates, **task_files}.items():
            (tmp / file_name).write_text(text, encoding="utf-8")
        (tmp / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
        # mkdtemp makes the folder private (0700); give it the mode a plain mkdir would
        mode = default_mode()
        tmp.chmod(mode | (mode & 0o444) >> 2)  # readable -> searchable: 0644 gives 0755

    atomic_dir(target, write)
    return Registered(target, manifest, sorted(f.removesuffix(".yaml") for f in task_files))
