"""Datasets: schemas, the bundled sets, local JSONL folders and Hugging Face hub sources."""

from lockbench.data.catalog import (
    DATASETS,
    DatasetSpec,
    DataSource,
    get_dataset,
    load_items,
    load_items_from,
    resolve_source,
)
from lockbench.data.provenance import dataset_provenance, items_sha256
from lockbench.data.schema import DialogueItem, MCQItem

__all__ = ["DATASETS", "DataSource", "DatasetSpec", "DialogueItem", "MCQItem", "dataset_provenance",
           "get_dataset", "items_sha256", "load_items", "load_items_from", "resolve_source"]
