"""Where a dataset split came from, recorded with every task of a result.

``dataset_provenance`` names the source (bundled file, local file, or Hugging Face hub id) without
any absolute local path, and pins the exact items used by a SHA-256 over their canonical JSON, so
a result can be tied to its data and a reviewer can recompute the hash from the public items.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lockbench.data.catalog import DataSource, load_items_from
from lockbench.data.schema import DialogueItem, MCQItem
from lockbench.digest import sha256_text


def items_sha256(items: list[MCQItem] | list[DialogueItem]) -> str:
    """SHA-256 of the items as canonical JSON (sorted keys, no spaces, UTF-8), in load order."""
    rows = [item.model_dump(mode="json") for item in items]
    return sha256_text(json.dumps(rows, sort_keys=True, separators=(",", ":"), ensure_ascii=False))


def source_record(source: DataSource, items: list[MCQItem] | list[DialogueItem]) -> dict[str, Any]:
    """The provenance dict of already loaded items (see :func:`dataset_provenance`)."""
    record: dict[str, Any] = {"source": source.kind, "n_items": len(items),
                              "items_sha256": items_sha256(items)}
    if source.kind == "hub":
        # the hub commit is not known offline from a cached copy; items_sha256 pins the content
        record.update(hub_id=source.hub_id, hub_config=source.hub_config,
                      hub_split=source.hub_split, revision=None)
    else:
        record["path"] = source.relative_path()  # relative to the bundled folder or data_dir
        from lockbench.digest import file_sha256

        record["file_sha256"] = file_sha256(Path(source.path))
    return record


def dataset_provenance(dataset: str, split: str = "test", data_dir: str | Path | None = None) -> dict[str, Any]:
    """Where ``dataset``'s ``split`` comes from under ``data_dir``, and a hash of its items.

    Keys: ``source`` (``bundled`` | ``local`` | ``hub`` | ``custom``), ``n_items``,
    ``items_sha256``; for files ``path`` (relative to the bundled folder, to ``data_dir``, or for a
    custom set to the folder holding its dataset folder: ``<name>/test.jsonl``; never absolute) and
    ``file_sha256``; for the hub ``hub_id``, ``hub_config``, ``hub_split`` and ``revision``.
    Bad input (unknown dataset, a ``data_dir`` that is missing or not a folder) raises DataError.
    """
    items, source = load_items_from(dataset, split, data_dir)
    return source_record(source, items)
