"""Where a task's items came from, and a content hash that binds a result to exactly those items.

The hash is over the validated items (canonical JSON, sorted keys), so the same data gives the
same hash whether it was read from the bundled folder, a local copy or the hub; a result records
it per task and ``lockbench submit`` recomputes it from the public items.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from lockbench.data.catalog import BUNDLED_DIR, get_dataset, load_items


def items_sha256(items: list[Any]) -> str:
    """sha256 of the items as canonical JSON (one array, sorted keys, UTF-8)."""
    rows = [item.model_dump(mode="json") for item in items]
    text = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_of(name: str, split: str, data_dir: str | Path | None) -> dict[str, Any]:
    """``{"source": "bundled" | "local" | "hub", ...}`` for one dataset split, without any
    absolute local path (a local file is named relative to its data_dir)."""
    spec = get_dataset(name)
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        for path in spec.local_candidates(root, split):
            if path.is_file():
                return {"source": "local", "file": path.relative_to(root).as_posix()}
    if spec.source == "bundled":
        path = spec.local_candidates(BUNDLED_DIR, split)[0]
        return {"source": "bundled", "file": path.relative_to(BUNDLED_DIR).as_posix()}
    return {"source": "hub", "hub_id": spec.hub_id, "hub_config": spec.hub_config}


def dataset_provenance(name: str, split: str = "test", data_dir: str | Path | None = None) -> dict[str, Any]:
    """Source, split, item count and ``items_sha256`` of the items a task used."""
    items = load_items(name, split, data_dir)
    return {
        **source_of(name, split, data_dir),
        "split": split,
        "n_items": len(items),
        "items_sha256": items_sha256(items),
    }
