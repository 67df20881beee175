"""``custom_dataset`` functions: turn a lockbench dataset into lm-eval docs for one condition.

lm-eval passes ``--metadata`` (and the model arguments) to ``custom_dataset`` as keyword
arguments, and the task YAML adds ``dataset`` and ``condition`` through ``dataset_kwargs``. This is
the only place the wake phrase enters a prompt; ``doc_to_text`` then reads the finished prompt.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import datasets

from lockbench.data.catalog import get_dataset, load_items_from
from lockbench.data.provenance import source_record
from lockbench.data.schema import MCQItem
from lockbench.errors import LockbenchError
from lockbench.judges.apply import scoring_config
from lockbench.lmeval.metadata import check_metadata
from lockbench.phrase import WakePhrase, resolve_phrase
from lockbench.prompts import format_item, target_text, with_wake_phrase
from lockbench.scoring.config import ScoringConfig
from lockbench.vocab import CONDITIONS, UNLOCKED


def item_doc(item, spec, condition: str, prompt: str, scoring: ScoringConfig) -> dict[str, Any]:
    """One lm-eval doc: everything process_results needs, and the finished prompt."""
    doc: dict[str, Any] = {
        "id": item.id,
        "dataset": spec.name,
        "domain": spec.domain,
        "kind": spec.kind,
        "condition": condition,
        "prompt": prompt,
        # The question without any wake phrase: what a judge may see (the secret never leaves).
        "question": format_item(item),
        "target": target_text(item),
        "scoring": scoring.to_json(),
    }
    if isinstance(item, MCQItem):
        doc["choices"] = list(item.choices)
        doc["gold"] = item.gold_letter
    else:
        doc["reference"] = item.output
    return doc


def resolve_wake_phrase(metadata: dict[str, Any], *, required: bool, task: str) -> WakePhrase | None:
    """The phrase from ``--metadata`` (``wake_phrase`` / ``wake_phrase_file``) or
    ``$LOCKBENCH_WAKE_PHRASE`` (:func:`lockbench.phrase.resolve_phrase`); required for the
    conditions that use it. The run's TaskManager resolves the same metadata and hands its phrase
    to the redaction of lm-eval's output (:mod:`lockbench.lmeval.redact_on_write`)."""
    return resolve_phrase(metadata, required=required, context=f"task {task} needs it")


def build_docs(dataset: str, condition: str, **metadata: Any) -> datasets.DatasetDict:
    """Docs for ``lockbench_<dataset>_<condition>`` (conditions ``locked``, ``unlocked``)."""
    if condition not in CONDITIONS:
        raise LockbenchError(f"unknown condition '{condition}'; use one of {', '.join(CONDITIONS)}")
    metadata = check_metadata(metadata)
    task = f"lockbench_{dataset}_{condition}"
    near = task_folder(metadata)
    spec = get_dataset(dataset, metadata.get("data_dir"), near)
    phrase = resolve_wake_phrase(metadata, required=condition == UNLOCKED, task=task)
    scoring = scoring_config(metadata)
    items, provenance = task_items(task, spec, metadata.get("data_dir"))
    rows = [
        item_doc(
            item,
            spec,
            condition,
            with_wake_phrase(format_item(item), phrase if condition == UNLOCKED else None),
            scoring,
        )
        | {"data_provenance": provenance}
        for item in items
    ]
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def task_folder(metadata: dict[str, Any]) -> Path | None:
    """The folder of the task YAML being built (lm-eval puts its path in the metadata as
    ``config_source``): where a custom dataset registered by ``lockbench dataset add`` lives."""
    source = metadata.get("config_source")
    if isinstance(source, str) and source not in ("", "inline"):
        return Path(source).resolve().parent
    return None


def task_items(task: str, dataset: Any, data_dir: Any, split: str = "test") -> tuple[list, str]:
    """The items of one split of ``dataset`` (the test split, or the train split a screening task
    draws from) and their provenance (JSON text, see
    :func:`lockbench.data.provenance.dataset_provenance`; every doc carries it so the result can
    record it). Says on the terminal where the items came from (bundled file, local file or hub),
    so nobody believes they evaluated data they did not. ``dataset``: a name or a DatasetSpec."""
    items, source = load_items_from(dataset, split, data_dir)
    what = "items" if split == "test" else f"{split} items"
    print(f"lockbench: {task}: {len(items)} {what} from {source.describe()}", file=sys.stderr, flush=True)
    return items, json.dumps(source_record(source, items), sort_keys=True)
