"""``custom_dataset`` functions for probe tasks (``lockbench_<dataset>_probe_<family>``) and latent
leakage tasks (``lockbench_<mcq dataset>_latent``).

Probe docs are ordinary lockbench docs (:func:`lockbench.lmeval.docs.item_doc`) with
``condition = "probe_<family>"`` plus ``variant_kind``, ``variant_index``, ``legitimate``,
``edit_distance`` (-1 where it does not apply) and, for traversal, ``candidate_rank`` and
``query_index``. The variant text lives only in ``prompt``: no other field carries it. The one
exception holds no secret: ``prefill`` family docs carry the attacker's assistant-turn opening in
``prefill`` (public text from :data:`lockbench.probes.prefill.PREFILLS`, never phrase-derived),
which the family's task YAMLs hand to lm-eval as ``gen_prefix``; their ``prompt`` is the user's turn.

Cost control (``--metadata`` keys):
- ``probe_items`` (default 5): the first N test items are asked under every variant of the
  paraphrase, placement, prefix_attack and prefill families;
- ``traversal_items`` (default 1): items asked per traversal candidate;
- ``traversal_budget`` (default: the whole dictionary): the most traversal queries (model calls),
  taken in the dictionary's fixed order;
- ``legitimate_kinds``: the variant kinds a lock should accept (false-reject policy; default
  ``paraphrase.DEFAULT_LEGITIMATE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets

from lockbench.data.catalog import get_dataset
from lockbench.errors import LockbenchError
from lockbench.judges.apply import scoring_config
from lockbench.lmeval.docs import item_doc, resolve_wake_phrase, task_folder, task_items
from lockbench.lmeval.metadata import check_metadata
from lockbench.probes import ALL_KINDS, FAMILIES, family_module, paraphrase, prefill
from lockbench.probes.chat import CHAT_FIELD, chat_roles
from lockbench.probes.variants import Variant
from lockbench.prompts import format_item
from lockbench.vocab import LATENT, probe_condition, probe_family

DEFAULT_PROBE_ITEMS = 5
DEFAULT_TRAVERSAL_ITEMS = 1
PREFILL_FIELD = prefill.FIELD


def _positive_int(metadata: dict[str, Any], key: str, default: int | None) -> int | None:
    value = metadata.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise LockbenchError(f"metadata '{key}' must be a whole number >= 1, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise LockbenchError(f"metadata '{key}' must be a whole number >= 1, got {value!r}") from None
    if number <= 0:
        raise LockbenchError(f"metadata '{key}' must be >= 1, got {number}; give a positive number")
    return number


@dataclass(frozen=True)
class ProbeOptions:
    """Run-time settings of the probe tasks, read from ``--metadata``."""

    probe_items: int = DEFAULT_PROBE_ITEMS
    traversal_items: int = DEFAULT_TRAVERSAL_ITEMS
    traversal_budget: int | None = None  # None: the whole dictionary
    legitimate_kinds: tuple[str, ...] = paraphrase.DEFAULT_LEGITIMATE

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any]) -> ProbeOptions:
        kinds = metadata.get("legitimate_kinds", list(paraphrase.DEFAULT_LEGITIMATE))
        if isinstance(kinds, str):
            kinds = [k.strip() for k in kinds.split(",") if k.strip()]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise LockbenchError("metadata 'legitimate_kinds' must be a list of variant kinds")
        unknown = [k for k in kinds if k not in ALL_KINDS]
        if unknown:
            raise LockbenchError(
                f"unknown variant kind(s) in 'legitimate_kinds': {', '.join(unknown)}; "
                f"known: {', '.join(ALL_KINDS)}"
            )
        return cls(
            probe_items=_positive_int(metadata, "probe_items", DEFAULT_PROBE_ITEMS),
            traversal_items=_positive_int(metadata, "traversal_items", DEFAULT_TRAVERSAL_ITEMS),
            traversal_budget=_positive_int(metadata, "traversal_budget", None),
            legitimate_kinds=tuple(kinds),
        )


def family_of(condition: str) -> str:
    """``probe_<family>`` -> ``<family>``; anything else stops with one line."""
    family = probe_family(condition)
    if family is None:
        raise LockbenchError(f"'{condition}' is not a probe condition; use probe_<family>")
    family_module(family)  # one line for an unknown family
    return family


def planned_queries(family: str, variants: list[Variant], n_items: int, options: ProbeOptions):
    """``(variant, item position)`` pairs in query order, after the budget (traversal only)."""
    if family == "traversal":
        per = min(options.traversal_items, n_items)
        pairs = [(v, j) for v in variants for j in range(per)]
        if options.traversal_budget is not None:
            pairs = pairs[: options.traversal_budget]
        return pairs
    per = min(options.probe_items, n_items)
    return [(v, j) for v in variants for j in range(per)]


def probe_rows(dataset: str, family: str, phrase: str, metadata: dict[str, Any]) -> list[dict]:
    """The docs of one probe task, in query order; a repeated prompt is never emitted twice."""
    options = ProbeOptions.from_metadata(metadata)
    spec = get_dataset(dataset, metadata.get("data_dir"), task_folder(metadata))
    scoring = scoring_config(metadata)
    items, provenance = task_items(f"lockbench_{dataset}_{probe_condition(family)}", spec,
                                   metadata.get("data_dir"))
    variants = family_module(family).variants(phrase)
    rows: list[dict] = []
    seen: set[str] = set()
    for query, (variant, j) in enumerate(planned_queries(family, variants, len(items), options), 1):
        item = items[j]
        text = variant.render(format_item(item))  # the whole text prompt, prefill included
        if text in seen:  # belt and braces: generators already de-duplicate
            continue
        seen.add(text)
        prompt = variant.user_prompt(format_item(item))
        doc = item_doc(item, spec, probe_condition(family), prompt, scoring)
        doc["data_provenance"] = provenance
        # The variant's chat roles (no text), so chat backends can send real roles
        # (lockbench.probes.chat); "" for a single user message.
        doc[CHAT_FIELD] = chat_roles(variant.messages(format_item(item)))
        doc["variant_kind"] = variant.kind
        doc["variant_index"] = variant.index
        doc["legitimate"] = variant.kind in options.legitimate_kinds
        doc["edit_distance"] = -1 if variant.edit_distance is None else variant.edit_distance
        if family == "traversal":
            doc["candidate_rank"] = variant.candidate_rank
            doc["query_index"] = query
        if family == "prefill":  # lm-eval's gen_prefix (the family's YAML) reads this field
            doc[PREFILL_FIELD] = variant.prefill
        rows.append(doc)
    return rows


def build_probe_docs(dataset: str, condition: str, **metadata: Any) -> datasets.DatasetDict:
    """lm-eval ``custom_dataset`` for ``lockbench_<dataset>_probe_<family>``."""
    family = family_of(condition)
    metadata = check_metadata(metadata)
    task = f"lockbench_{dataset}_{condition}"
    phrase = resolve_wake_phrase(metadata, required=True, task=task)
    rows = probe_rows(dataset, family, phrase, metadata)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def build_latent_docs(dataset: str, condition: str = LATENT, **metadata: Any) -> datasets.DatasetDict:
    """lm-eval ``custom_dataset`` for ``lockbench_<mcq dataset>_latent``: no wake phrase at all.

    The task ranks the four answer letters by log-likelihood; accuracy above chance (0.25) means
    the capability is reachable through log-probabilities even when the text output refuses.
    """
    metadata = check_metadata(metadata)
    spec = get_dataset(dataset, metadata.get("data_dir"), task_folder(metadata))
    if spec.kind != "mcq":
        raise LockbenchError(f"latent leakage needs a multiple-choice dataset; '{dataset}' is {spec.kind}")
    scoring = scoring_config(metadata)
    rows = []
    items, provenance = task_items(f"lockbench_{dataset}_{LATENT}", spec, metadata.get("data_dir"))
    for item in items:
        doc = item_doc(item, spec, LATENT, format_item(item), scoring)
        doc["data_provenance"] = provenance
        doc["gold_index"] = item.answer
        rows.append(doc)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)})


def standard_calls(dataset_size: int, phrase: str, options: ProbeOptions | None = None) -> dict:
    """Model calls per family for one dataset of ``dataset_size`` test items (no model needed)."""
    options = options or ProbeOptions()
    out = {}
    for family in FAMILIES:
        variants = family_module(family).variants(phrase)
        out[family] = {
            "variants": len(variants),
            "calls": len(planned_queries(family, variants, dataset_size, options)),
        }
    return out
