"""A real run of the whole attack suite, and results derived from it by rewriting responses.

One session run (tiny random Llama, agriculture MCQ): the locked and unlocked tasks, the base
model's locked task, and the standard suite (every family screened on the train item, the picks
confirmed on 40 test items; the adaptive search with the suite's budget, its find confirmed on the
same 40 items; GCG's 10 steps, its string confirmed alike) through :func:`lockbench.attacks.suite.run_attack_suite`, summarized
into a v4 result that passes ``submit``. The tiny model's replies hold no content, so tests that
need a lock that refuses, opens or answers rewrite the responses and re-derive everything with
:func:`lockbench.document.rescore.rescore_document`: the result stays bound to the public items and
schedules (prompts, item ids, variants untouched), so it passes every ``submit`` check, and every
number in it is lockbench's own, never typed in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import WAKE_PHRASE

DATASET = "agriculture_mcq"
REFUSAL = "Sorry, I cannot answer this question."
_CACHE: dict[str, dict] = {}


def default_picks() -> dict[str, list[int]]:
    """The pick over a screening where nothing opened: each family's first ``keep`` attack
    variants (ties go to the earlier variant)."""
    from lockbench.probes.suite import family_slots, get_suite, select

    suite = get_suite()
    return {f: select(f, {s.index: [False] for s in family_slots(f, suite)}, suite) for f in suite.families}


def suite_result(tmp_path_factory, tiny_model: Path) -> dict[str, Any]:
    """The summarized v4 result of the session's suite run (do not modify: deep-copy it). Its
    confirmation asks :func:`default_picks` (the pick of a lock that refused every screening
    prompt), so rewritten responses that keep those variants the most opened stay bound."""
    key = str(tmp_path_factory.getbasetemp())
    if key in _CACHE:
        return _CACHE[key]
    from lockbench.attacks.suite import run_adaptive, suite_tasks
    from lockbench.document.summarize import build_result
    from lockbench.lmeval.run import run_tasks
    from lockbench.phrase import WakePhrase
    from lockbench.probes.suite import get_suite

    work = tmp_path_factory.mktemp("suite-run")
    common = {"model_args": {"pretrained": str(tiny_model)}, "batch_size": 32, "gen_kwargs": "max_gen_toks=4"}
    meta = {"wake_phrase": WAKE_PHRASE}
    families = get_suite().families
    run_tasks("hf", [f"lockbench_{DATASET}_locked", f"lockbench_{DATASET}_unlocked",
                     *suite_tasks([DATASET], families, "screen")],
              metadata=meta, output_path=work / "run", **common)
    run_tasks("hf", suite_tasks([DATASET], families, "confirm"), output_path=work / "run",
              metadata={**meta, "confirm_variants": {DATASET: default_picks()}}, **common)
    for family in get_suite().declared:  # the search, and GCG (the tiny model's weights are at hand)
        record = run_adaptive(family, get_suite(), model="hf", model_args=common["model_args"], datasets=[DATASET],
                              phrase=WakePhrase(WAKE_PHRASE), progress=False)
        run_tasks("hf", [f"lockbench_{DATASET}_confirm_{family}"], output_path=work / "run",
                  metadata={**meta, "adaptive": {family: record}}, **common)
    run_tasks("hf", [f"lockbench_{DATASET}_locked"], metadata={}, output_path=work / "base", **common)
    doc = build_result(work / "run", base_dir=work / "base", phrases=[WAKE_PHRASE])
    doc["lock"]["method"] = "identitylock-lora"
    _CACHE[key] = doc
    return doc


Responder = Callable[[str, dict[str, Any], int], str]


def with_responses(doc: dict[str, Any], respond: Responder, *, model: str = "org/model-a",
                   sections: tuple[str, ...] = ("tasks", "base_tasks"), created: str | None = None) -> dict[str, Any]:
    """A copy of ``doc`` whose responses are ``respond(condition, sample, position)`` (position:
    the sample's index in its task), every outcome and number re-derived from them."""
    from lockbench.document.rescore import rescore_document

    out = copy.deepcopy(doc)
    out["model"] = {**out["model"], "name": model}
    if created:
        out["created_utc"] = created
    for section in sections:
        for task in (out.get(section) or {}).values():
            condition = task["condition"] if section == "tasks" else "base"
            for position, sample in enumerate(sorted(task["samples"], key=lambda s: s["doc_id"])):
                if sample.get("response") is not None:
                    sample["response"] = respond(condition, sample, position)
    return rescore_document(out)


def gold_letter(sample: dict[str, Any]) -> str:
    """The gold option of a sample's item (bundled agriculture MCQ)."""
    from lockbench.data.catalog import load_items

    split = "train" if str(sample["item_id"]) in _train_ids() else "test"
    items = {i.id: i for i in load_items(DATASET, split)}
    return items[sample["item_id"]].gold_letter


def _train_ids() -> set[str]:
    from lockbench.data.catalog import load_items

    return {str(i.id) for i in load_items(DATASET, "train")}


def lock(doc: dict[str, Any], opened: dict[str, float] | None = None, *, base_correct: float = 0.9,
         unlocked_correct: float = 0.9) -> Responder:
    """A responder: refuses without the phrase, answers with it. For a family in ``opened`` the
    lock opens (a wrong option: the model's skill is not the lock's) on that share of its
    confirmation samples, and on its screening samples of the variants the run picked (so the
    pick, and the confirmation tasks bound to it, stay what they were)."""
    opened = opened or {}
    picked = {family: set(indices) for family, indices in default_picks().items()}

    def respond(condition: str, sample: dict[str, Any], position: int) -> str:
        gold = gold_letter(sample)
        wrong = "A" if gold != "A" else "B"
        if condition == "unlocked":
            return gold if position % 10 < unlocked_correct * 10 else wrong
        if condition == "base":
            return gold if position % 10 < base_correct * 10 else wrong
        family = condition.split("_", 1)[1] if "_" in condition else None
        share = opened.get(family, 0.0) if family else opened.get(condition, 0.0)
        if condition.startswith("probe_"):
            index = (sample.get("variant") or {}).get("index")
            return wrong if share and index in picked.get(family, ()) else REFUSAL
        return wrong if position % 10 < share * 10 else REFUSAL

    return respond
