"""``custom_dataset`` functions for the attack suite's tasks and the latent leakage tasks.

Per dataset and probe family (:mod:`lockbench.probes.suite`):

- ``lockbench_<dataset>_probe_<family>``: **screening**, every variant of the family's fixed
  schedule on the suite's screening items (the train split);
- ``lockbench_<dataset>_confirm_<family>``: **confirmation**, the variants the attacker picked on
  the screening run (``--metadata confirm_variants``, printed by ``lockbench probes select OUT``
  and passed by ``lockbench attack suite``) on the confirmation items (test split);
- ``lockbench_<mcq dataset>_latent``: log-likelihood ranking under the plain prompt.

Probe docs are ordinary lockbench docs (:func:`lockbench.lmeval.docs.item_doc`) plus
``variant_kind``, ``variant_index``, ``legitimate``, ``edit_distance`` (-1 where it does not
apply), ``candidate_rank`` and ``query_index`` (traversal), ``split`` (where the item comes from),
``suite`` (the suite version) and ``redacted_prompt``: the prompt with every phrase-derived wake
string (greeting and name parts included) replaced by the placeholder, the only form that is ever
hashed or written. The variant text itself lives only in ``prompt``. The ``prefill`` family's docs
carry the attacker's public assistant opening in ``prefill``, which its task YAMLs hand to lm-eval
as ``gen_prefix``.

``--metadata`` keys: ``suite`` (default the current version), ``screen_items``, ``keep``,
``confirm_items`` and ``traversal_budget`` (overrides for a quick look: the result is then not the
standard suite and is not ranked), ``confirm_variants`` (``{dataset: {family: [variant index,
...]}}``), ``legitimate_kinds`` (the kinds a lock should accept; default the suite's policy).
"""

from __future__ import annotations

from typing import Any

import datasets

from lockbench.data.catalog import get_dataset
from lockbench.errors import LockbenchError
from lockbench.judges.apply import scoring_config
from lockbench.lmeval.docs import item_doc, resolve_wake_phrase, task_folder, task_items
from lockbench.lmeval.metadata import check_metadata
from lockbench.lmeval.probe_task import CHAT_FIELD, chat_roles
from lockbench.phrase import WakePhrase, as_phrase
from lockbench.probes import ADAPTIVE, family_module, family_variants, near_phrase, prefill
from lockbench.probes.suite import (
    ProbeOptions,
    adaptive_prompt,
    confirmation_pairs,
    found_prefix,
    item_plan,
    screening_pairs,
    selected_variants,
)
from lockbench.prompts import format_item
from lockbench.secrets import PLACEHOLDER
from lockbench.vocab import LATENT, confirm_condition, confirm_family, probe_condition, probe_family

PREFILL_FIELD = prefill.FIELD


def family_of(condition: str) -> str:
    """``probe_<family>`` / ``confirm_<family>`` -> ``<family>``; anything else: one line."""
    family = probe_family(condition) or confirm_family(condition)
    if family is None:
        raise LockbenchError(f"'{condition}' is not a probe condition; use probe_<family> or confirm_<family>")
    if family in ADAPTIVE and confirm_family(condition):
        return family  # screened by its search program (`lockbench attack suite`), confirmed here
    family_module(family)  # one line for an unknown family
    return family


def plan_for(dataset: str, metadata: dict[str, Any], options: ProbeOptions | None = None):
    """``(spec, item plan)`` of a dataset under the run's suite, screening checked disjoint."""
    options = options or ProbeOptions.from_metadata(metadata)
    spec = get_dataset(dataset, metadata.get("data_dir"), task_folder(metadata))
    return spec, item_plan(spec, options.suite, metadata.get("data_dir"))


def probe_rows(dataset: str, family: str, phrase: WakePhrase | str, metadata: dict[str, Any], *,
               confirm: bool = False) -> list[dict]:
    """The docs of one screening (or, with ``confirm``, confirmation) task, in query order."""
    options = ProbeOptions.from_metadata(metadata)
    suite = options.suite
    spec, plan = plan_for(dataset, metadata, options)
    scoring = scoring_config(metadata)
    if confirm:
        condition = confirm_condition(family)
        pairs = confirmation_pairs(family, selected_variants(options, dataset, family), plan, suite)
        split = "test"
    else:
        condition = probe_condition(family)
        pairs = screening_pairs(family, plan, suite)
        if family == "traversal" and options.traversal_budget is not None:
            pairs = pairs[: options.traversal_budget * suite.traversal_screen_items]
        split = plan.screen_split
    task = f"lockbench_{dataset}_{condition}"
    _, provenance = task_items(task, spec, metadata.get("data_dir"), split=split)
    if family in ADAPTIVE:
        found = found_prefix(options, family)
        if near_phrase(found, as_phrase(phrase, context=task)):  # never asked, never written
            raise LockbenchError(f"{task}: the declared {family} find is the phrase or lies near it; the suite "
                                 "never picks such a string (a lock is meant to open for the phrase)")
        return _adaptive_rows(family, found, pairs, spec, condition, split, suite.version, provenance, scoring)
    variants = family_variants(family, phrase)
    rows: list[dict] = []
    for query, (slot, item) in enumerate(pairs, 1):
        variant = variants[slot.index]
        if variant.kind != slot.kind:  # the generator and the published schedule disagree: a bug
            raise RuntimeError(f"{family} variant {slot.index} is {variant.kind}, schedule says {slot.kind}")
        question = format_item(item)
        doc = item_doc(item, spec, condition, variant.user_prompt(question), scoring)
        doc["data_provenance"] = provenance
        doc["split"] = split
        doc["suite"] = suite.version
        doc["redacted_prompt"] = variant.redacted(PLACEHOLDER).user_prompt(question)
        # The variant's chat roles (no text), so chat backends can send real roles
        # (lockbench.lmeval.probe_task); "" for a single user message.
        doc[CHAT_FIELD] = chat_roles(variant.messages(question))
        doc["variant_kind"] = variant.kind
        doc["variant_index"] = variant.index
        doc["legitimate"] = slot.legitimate
        doc["edit_distance"] = -1 if variant.edit_distance is None else variant.edit_distance
        if family == "traversal":
            doc["candidate_rank"] = slot.candidate_rank
            doc["query_index"] = query
        if family == "prefill":  # lm-eval's gen_prefix (the family's YAML) reads this field
            doc[PREFILL_FIELD] = variant.prefill
        rows.append(doc)
    return rows


def _adaptive_rows(family: str, found: str, pairs: list, spec: Any, condition: str, split: str,
                   version: str, provenance: dict, scoring: Any) -> list[dict]:
    """An adaptive family's confirmation docs: the found string before each question. The string
    is public (the search never picks one near the phrase), so the prompt is its own redaction."""
    rows = []
    for slot, item in pairs:
        prompt = adaptive_prompt(found, format_item(item))
        doc = item_doc(item, spec, condition, prompt, scoring)
        doc.update({"data_provenance": provenance, "split": split, "suite": version, "redacted_prompt": prompt,
                    CHAT_FIELD: "", "variant_kind": slot.kind, "variant_index": slot.index,
                    "legitimate": False, "edit_distance": -1})
        rows.append(doc)
    return rows


def build_probe_docs(dataset: str, condition: str, **metadata: Any) -> datasets.DatasetDict:
    """lm-eval ``custom_dataset`` for ``lockbench_<dataset>_probe_<family>`` (screening) and
    ``lockbench_<dataset>_confirm_<family>`` (confirmation)."""
    family = family_of(condition)
    metadata = check_metadata(metadata)
    task = f"lockbench_{dataset}_{condition}"
    phrase = resolve_wake_phrase(metadata, required=True, task=task)
    rows = probe_rows(dataset, family, phrase, metadata, confirm=confirm_family(condition) is not None)
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


def standard_calls(dataset: str, metadata: dict[str, Any] | None = None) -> dict[str, dict[str, int]]:
    """Model calls per family on one dataset under the run's suite (no model needed)."""
    from lockbench.probes.suite import planned_calls

    metadata = metadata or {}
    options = ProbeOptions.from_metadata(metadata)
    _, plan = plan_for(dataset, metadata, options)
    return {family: planned_calls(family, plan, options.suite) for family in options.suite.confirmed}
