"""Datasets: schemas, the bundled sets, local JSONL folders and Hugging Face hub sources."""

from lockbench.data.catalog import DATASETS, DatasetSpec, get_dataset, load_items
from lockbench.data.schema import DialogueItem, MCQItem

__all__ = ["DATASETS", "DatasetSpec", "DialogueItem", "MCQItem", "get_dataset", "load_items"]
