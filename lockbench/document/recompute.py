"""Re-score and recompute a ``lockbench-result`` document from the responses it carries.

A document is accepted only when:
- every task is what its name says (``lockbench_<dataset>_<condition>``, dataset and condition
  fields agreeing) and is bound to the public dataset: its items' sha256 matches the items this
  lockbench loads, each sample's item exists in the test split, a plain or unlocked prompt hashes
  to the prompt lockbench builds from that item, and the locked/unlocked/latent tasks cover the
  whole split (no ``--limit``, no missing or extra items);
- every sample re-scores from its stored response (or log-likelihoods, or a recorded judge
  verdict) to the outcome, flags and quality it states;
- every count, rate, interval, probe statistic and per-dataset row follows from the samples.
The first problem found stops with one line naming the task, the field, the stated and the
recomputed value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lockbench.document.attacks import (
    check_finetune_grid,
    durability_check,
    finetune_block,
    finetune_run,
    pooled_figures,
)
from lockbench.document.entry import dataset_summary, probe_block, task_counts
from lockbench.document.mismatch import Mismatch, close, show, stated_vs
from lockbench.document.samples import (
    judge_name,
    prompt_sha256,
    rerunnable,
    sample_fields,
    score_sample,
)
from lockbench.errors import LockbenchError
from lockbench.scoring.config import ScoringConfig
from lockbench.secrets import PLACEHOLDER
from lockbench.vocab import (
    ANSWERED,
    CORRECT,
    DIALOGUE,
    LATENT,
    LOCKED,
    OUTCOMES,
    REFUSED,
    UNLOCKED,
    WHOLE_SPLIT,
    WRONG,
    attack_family,
    probe_family,
)

# Sections of plain-prompt tasks run on a reference model: the base model (PR_base) and the
# control model (the base fine-tuned on the same items with no refusals).
REFERENCE_SECTIONS = ("base_tasks", "control_tasks")


def _check_structure(where: str, entry: dict[str, Any]) -> None:
    samples = entry["samples"]
    seen: set[int] = set()
    for sample in samples:
        if sample["doc_id"] in seen:
            raise Mismatch(f"{where}: doc_id {sample['doc_id']} appears twice; each sample must be listed once")
        seen.add(sample["doc_id"])
    if len(samples) != entry["n"]:
        raise Mismatch(f"{where}: n says {entry['n']} but {len(samples)} samples are listed")
    missing = sorted(set(range(len(samples))) - seen)
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" …" if len(missing) > 5 else "")
        raise Mismatch(
            f"{where}: doc_id(s) {shown} missing (samples must be lm-eval's doc_ids 0..n-1); "
            "submit the complete samples of the run"
        )
    kind = entry["kind"]
    latent = entry["condition"] == LATENT
    for sample in samples:
        at = f"{where}: sample doc_id {sample['doc_id']}"
        if sample["outcome"] not in OUTCOMES[kind]:
            raise Mismatch(f"{at}: outcome {sample['outcome']!r} is not one of {sorted(OUTCOMES[kind])} for {kind}")
        if latent and sample["loglikelihoods"] is None:
            raise Mismatch(f"{at}: a latent sample carries its per-option log-likelihoods")
        if not latent and sample["response"] is None:
            raise Mismatch(f"{at}: the response is missing; results carry every (redacted) response")
        outcome = sample["outcome"]
        if sample["refused"] != (outcome == REFUSED):
            raise Mismatch(f"{at}: refused={sample['refused']} disagrees with outcome {outcome!r}")
        if sample["no_content"] is not None and sample["refused"]:
            raise Mismatch(f"{at}: no_content={sample['no_content']!r} on a refusal; a refusal is not 'no content'")
        if sample["opened"] != (not sample["refused"] and sample["no_content"] is None):
            raise Mismatch(f"{at}: opened={sample['opened']} disagrees with refused={sample['refused']} "
                           f"and no_content={sample['no_content']!r}")
        if sample["passed"] != (outcome == CORRECT or (outcome == ANSWERED and sample["passed"])):
            raise Mismatch(f"{at}: passed={sample['passed']} disagrees with outcome {outcome!r}")
        if sample["unparsed"] and outcome != WRONG:
            raise Mismatch(f"{at}: unparsed=true with outcome {outcome!r}; only a wrong answer is unparsed")
        if kind == DIALOGUE and sample["quality"] is None:
            raise Mismatch(f"{at}: dialogue samples carry a quality score")
        if kind == DIALOGUE and outcome == ANSWERED:
            threshold = (entry.get("scoring") or {}).get("rouge_threshold", _default_threshold())
            if sample["passed"] != (sample["quality"] >= threshold):
                raise Mismatch(
                    f"{at}: passed={sample['passed']} disagrees with quality {sample['quality']} "
                    f"and the pass threshold {threshold}"
                )


def _default_threshold() -> float:
    from lockbench.scoring.config import DEFAULT_ROUGE_THRESHOLD

    return DEFAULT_ROUGE_THRESHOLD


class Binding:
    """The public items a document's tasks are checked against (loaded once per dataset)."""

    def __init__(self, data_dir: str | Path | None = None) -> None:
        self.data_dir = data_dir
        self._items: dict[str, tuple[Any, dict[str, Any], str]] = {}

    def items(self, dataset: str, where: str, split: str = "test") -> tuple[Any, dict[str, Any], str]:
        """``(spec, {item id: item}, items sha256)`` of one split of the dataset."""
        key = f"{dataset}\0{split}"
        if key not in self._items:
            from lockbench.data.catalog import get_dataset, load_items
            from lockbench.data.provenance import items_sha256

            try:
                spec = get_dataset(dataset, self.data_dir)  # a custom set: found in data_dir too
                items = load_items(spec, split, self.data_dir)
            except LockbenchError as exc:
                raise Mismatch(
                    f"{where}: cannot check against the {split} split of dataset '{dataset}' "
                    f"({exc.message}); give its public items with --data-dir"
                ) from None
            self._items[key] = (spec, {item.id: item for item in items}, items_sha256(items))
        return self._items[key]

    def spec(self, dataset: str, where: str) -> Any:
        return self.items(dataset, where)[0]


def _expected_prompt(item: Any, condition: str) -> str | None:
    from lockbench.prompts import format_item, with_wake_phrase

    if condition in (LOCKED, LATENT):
        return format_item(item)
    if condition == UNLOCKED:
        return with_wake_phrase(format_item(item), PLACEHOLDER)
    return None  # probe prompts carry phrase-derived variants: bound by item only


def _check_binding(name: str, where: str, entry: dict[str, Any], binding: Binding, section: str) -> dict[str, Any]:
    dataset, condition = entry["dataset"], entry["condition"]
    if name != f"lockbench_{dataset}_{condition}":
        raise Mismatch(
            f"{where}: the task name does not match its dataset '{dataset}' and condition "
            f"'{condition}' (expected lockbench_{dataset}_{condition})"
        )
    if section in REFERENCE_SECTIONS and condition != LOCKED:
        raise Mismatch(f"{where}: {section} are the plain-prompt (locked) tasks run on the reference model")
    split = entry.get("split", "test")
    if split != "test" and probe_family(condition) is None:
        raise Mismatch(f"{where}: only screening tasks read another split than test (this one says {split!r})")
    spec, items, digest = binding.items(dataset, where, split)
    if entry["kind"] != spec.kind or entry.get("domain") != spec.domain:
        raise Mismatch(f"{where}: kind/domain {entry['kind']}/{entry.get('domain')} do not match dataset '{dataset}' ({spec.kind}/{spec.domain})")
    provenance = entry.get("provenance")
    if provenance is None:
        raise Mismatch(f"{where}: no data provenance; re-run `lockbench summarize` where the data is reachable")
    # A user's own data is labelled custom wherever results are shown; the label must be true.
    if (provenance["source"] == "custom") != (spec.source == "custom"):
        raise Mismatch(
            f"{where}: provenance source '{provenance['source']}' but dataset '{dataset}' is "
            f"{'a custom (user-registered)' if spec.source == 'custom' else 'a public lockbench'} dataset"
        )
    if provenance["items_sha256"] != digest or provenance["n_items"] != len(items):
        raise Mismatch(
            f"{where}: the run's items (sha256 {provenance['items_sha256'][:12]}…, {provenance['n_items']} items) "
            f"are not the {'registered' if spec.source == 'custom' else 'public'} {split} split of "
            f"'{dataset}' (sha256 {digest[:12]}…, {len(items)} items)"
        )
    limit = (entry.get("generation") or {}).get("limit")
    if limit is not None:
        raise Mismatch(f"{where}: run with --limit {limit:g}; a submitted run covers the whole test split")
    used = [s["item_id"] for s in entry["samples"]]
    unknown = [i for i in used if i not in items]
    if unknown:
        raise Mismatch(f"{where}: item {unknown[0]!r} is not in the {split} split of '{dataset}'")
    if condition in WHOLE_SPLIT:
        if len(set(used)) != len(used):
            raise Mismatch(f"{where}: an item appears twice; each test item is evaluated once")
        if set(used) != set(items):
            missing = sorted(set(items) - set(used))
            raise Mismatch(f"{where}: {len(missing)} test item(s) missing (e.g. {missing[0]!r}); submit the whole split")
    return {"spec": spec, "items": items}


def _rescore_doc(entry: dict[str, Any], spec: Any, item: Any, slot: Any = None) -> dict[str, Any]:
    """The doc lockbench's task builder makes for ``item`` (with the recorded scoring); a
    prefill slot adds its public prefill (a reply that only repeats it holds no content)."""
    import json

    from lockbench.lmeval.docs import item_doc
    from lockbench.scoring.config import ScoringConfig

    scoring = entry.get("scoring")
    config = ScoringConfig.from_json(json.dumps(scoring)) if scoring else ScoringConfig()
    doc = item_doc(item, spec, entry["condition"], "", config)
    if entry["condition"] == "latent":
        doc["gold_index"] = item.answer
    if slot is not None and slot.prefill:
        doc["prefill"] = slot.prefill
    return doc


def _legacy_prefill(entry: dict[str, Any], sample: dict[str, Any]) -> Any:
    """A pre-suite prefill sample's public prefill, from its variant index (same list)."""
    from lockbench.probes.prefill import PREFILLS
    from lockbench.probes.suite import Slot

    index = (sample.get("variant") or {}).get("index")
    if attack_family(entry["condition"]) != "prefill" or not isinstance(index, int) or not 0 <= index < len(PREFILLS):
        return None
    kind, text = PREFILLS[index]
    return Slot(index, kind, False, prefill=text)


def _rescore_samples(where: str, entry: dict[str, Any], bound: dict[str, Any],
                     schedule: list | None = None) -> None:
    """Each sample's prompt is the public item's (an attack task's: its slot's, in the suite's
    schedule), and its response re-scores to its outcome."""
    for position, sample in enumerate(sorted(entry["samples"], key=lambda s: int(s["doc_id"]))):
        at = f"{where}: sample doc_id {sample['doc_id']}"
        item = bound["items"][sample["item_id"]]
        slot = None
        if schedule is not None:
            slot, _ = schedule[position]
        else:
            expected = _expected_prompt(item, entry["condition"])
            if expected is not None and sample["prompt_sha256"] != prompt_sha256(expected):
                raise Mismatch(f"{at}: its prompt is not the one lockbench builds from item {sample['item_id']!r}")
            slot = _legacy_prefill(entry, sample)
        doc = _rescore_doc(entry, bound["spec"], item, slot)
        if entry["condition"] != "latent":
            config = ScoringConfig.from_json(doc.get("scoring"))
            if sample.get("verdict") is not None and rerunnable(config):
                raise Mismatch(
                    f"{at}: carries a judge verdict, but its judge ({judge_name(config) or 'keyword'}) "
                    "is re-run on submit; verdicts are recorded only for judges that cannot be re-run"
                )
            if sample.get("verdict") is None and not rerunnable(config):
                raise Mismatch(f"{at}: the {judge_name(config)} judge's verdict is not recorded")
        outcome = score_sample(
            doc,
            response=sample["response"],
            loglikelihoods=sample["loglikelihoods"],
            verdict=sample.get("verdict"),
        )
        for key, value in sample_fields(outcome).items():
            if not close(sample[key], value):
                raise Mismatch(
                    f"{at}: {key} is {show(sample[key])} but its response re-scores to {show(value)}"
                )


def _check_schedule(where: str, entry: dict[str, Any], schedule: list) -> None:
    """An attack task's samples are exactly its suite schedule, in order: the same (item,
    variant) pairs, none missing, extra, repeated or reordered, each with the slot's public kind,
    legitimate flag and candidate rank, and the prompt the slot sends (hashed redacted)."""
    from lockbench.document.suite_view import declared
    from lockbench.probes.suite import public_prompts
    from lockbench.prompts import format_item

    family = attack_family(entry["condition"])
    found = (declared(entry, family) or {}).get("prefix")
    samples = sorted(entry["samples"], key=lambda s: int(s["doc_id"]))
    if len(samples) != len(schedule):
        raise Mismatch(
            f"{where}: {len(samples)} samples, but the {entry['suite']} suite schedules "
            f"{len(schedule)} (item, variant) pairs for this task; submit the whole run"
        )
    for position, (sample, (slot, item)) in enumerate(zip(samples, schedule, strict=True)):
        at = f"{where}: sample doc_id {sample['doc_id']}"
        variant = sample.get("variant") or {}
        stated = (sample["item_id"], variant.get("index"), sample.get("variant_kind"),
                  bool(variant.get("legitimate")))
        expected = (item.id, slot.index, slot.kind, slot.legitimate)
        if stated != expected:
            raise Mismatch(
                f"{at}: (item, variant, kind, legitimate) is {stated} but the suite's schedule has "
                f"{expected} at query {position + 1}; the samples were relabelled, dropped, "
                "repeated or reordered"
            )
        if family == "traversal" and (variant.get("candidate_rank"), variant.get("query_index")) != (
                slot.candidate_rank, position + 1):
            raise Mismatch(f"{at}: candidate rank or query index differs from the dictionary's order")
        prompts = public_prompts(family, slot, format_item(item), PLACEHOLDER, found)
        if sample["prompt_sha256"] not in {prompt_sha256(p) for p in prompts}:
            raise Mismatch(f"{at}: its prompt is not the one variant {slot.index} ({slot.kind}) sends for "
                           f"item {item.id!r}")


def attack_schedules(doc: dict[str, Any], binding: Binding) -> dict[str, list]:
    """``task name -> [(slot, item), ...]``: what every suite task of ``doc`` must hold, rebuilt
    from the suite version, the recorded size options, the public items and (confirmation) the
    attacker's pick recomputed from the document's own screening samples."""
    from lockbench.document.entry import probe_records
    from lockbench.probes.suite import (
        ProbeOptions,
        confirmation_pairs,
        item_plan,
        screening_pairs,
        select,
    )
    from lockbench.probes.summary import opened_by_variant, screening_summary

    out: dict[str, list] = {}
    for name, entry in sorted(doc["tasks"].items()):
        family = attack_family(entry["condition"])
        if family is None or entry.get("suite") is None:
            continue  # not an attack task, or a pre-suite one (never ranked; bound by item only)
        where = f"tasks/{name}"
        options_given = dict((entry.get("generation") or {}).get("options") or {})
        try:
            options = ProbeOptions.from_metadata({**options_given, "suite": entry["suite"]})
            screened = probe_family(entry["condition"]) is not None
            if family not in (options.suite.families if screened else options.suite.confirmed):
                raise LockbenchError(f"the {entry['suite']} suite has no {'screening' if screened else 'family'} "
                                     f"'{family}'")
            spec = binding.spec(entry["dataset"], where)
            plan = item_plan(spec, options.suite, binding.data_dir)
        except Mismatch:
            raise
        except LockbenchError as exc:
            raise Mismatch(f"{where}: {exc.message}") from None
        if probe_family(entry["condition"]) is not None:
            pairs = screening_pairs(family, plan, options.suite)
            if family == "traversal" and options.traversal_budget is not None:
                pairs = pairs[: options.traversal_budget * options.suite.traversal_screen_items]
        elif family in options.suite.declared:  # its pick is declared: the one found string
            pairs = confirmation_pairs(family, [0], plan, options.suite)
        else:
            from lockbench.document.suite_view import screening_for

            screening = screening_for(doc, entry["dataset"], family)
            if screening is None or screening.get("suite") != entry["suite"]:
                raise Mismatch(f"{where}: a confirmation task needs its screening task in the same result")
            picked = select(family, opened_by_variant(screening_summary(
                family, probe_records(screening["samples"]))), options.suite)
            pairs = confirmation_pairs(family, picked, plan, options.suite)
        out[name] = pairs
    return out


def verify_task(name: str, entry: dict[str, Any], section: str = "tasks", binding: Binding | None = None,
                schedule: list | None = None) -> None:
    """Stop at the first field of ``entry`` that does not follow from its samples (and, with a
    ``binding``, from the public dataset; with a ``schedule``, from the attack suite's)."""
    where = f"{section}/{name}"
    _check_structure(where, entry)
    if binding is not None:  # without the public items there is nothing to re-score against
        bound = _check_binding(name, where, entry, binding, section)
        if schedule is not None:
            _check_schedule(where, entry, schedule)
        _rescore_samples(where, entry, bound, schedule)
    for key, value in task_counts(entry["samples"]).items():
        if not close(entry[key], value):
            raise Mismatch(
                f"{where}: {key} is {show(entry[key])} but the samples give {show(value)}; "
                "the numbers were changed after `lockbench summarize`"
            )
    expected_probe = probe_block(entry["condition"], entry["samples"])
    if not close(entry.get("probe"), expected_probe):
        raise Mismatch(f"{where}: the probe statistics do not follow from the samples")
    if expected_probe is not None and entry.get("suite") is None:  # a pre-suite probe task
        from lockbench.probes.paraphrase import DEFAULT_LEGITIMATE

        options = (entry.get("generation") or {}).get("options") or {}
        legit = options.get("legitimate_kinds", list(DEFAULT_LEGITIMATE))
        for sample in entry["samples"]:
            flagged = bool((sample.get("variant") or {}).get("legitimate"))
            if flagged != (sample["variant_kind"] in legit):
                raise Mismatch(
                    f"{where}: sample doc_id {sample['doc_id']}: legitimate={flagged} disagrees with "
                    f"the recorded legitimate_kinds for kind {sample['variant_kind']!r}"
                )


def verify_document(
    doc: dict[str, Any], source: str = "result", *, bind: bool = False, data_dir: str | Path | None = None
) -> None:
    """Re-score and recompute every task, base task and dataset row of a schema-valid document;
    with ``bind`` also check every task against the public dataset."""
    binding = Binding(data_dir) if bind else None
    try:
        schedules = attack_schedules(doc, binding) if binding is not None else {}
        for name, entry in doc["tasks"].items():
            verify_task(name, entry, "tasks", binding, schedules.get(name))
        for section in REFERENCE_SECTIONS:
            for name, entry in (doc.get(section) or {}).items():
                verify_task(name, entry, section, binding)
        expected = dataset_summary(doc["tasks"], doc.get("base_tasks"), doc.get("control_tasks"))
        stated = doc["datasets"]
        for dataset in sorted(set(expected) | set(stated)):
            if dataset not in stated:
                raise Mismatch(f"datasets: {dataset} is missing (its tasks are in the document)")
            if dataset not in expected:
                raise Mismatch(f"datasets/{dataset}: no locked/unlocked task backs this row")
            for key, value in expected[dataset].items():
                if not close(stated[dataset].get(key), value):
                    raise Mismatch(
                        f"datasets/{dataset}: {key} is {show(stated[dataset].get(key))} but the "
                        f"tasks give {show(value)}"
                    )
        from lockbench.document.suite_view import suite_block

        suite = suite_block(doc)
        stated_def = (doc.get("suite") or {}).get("definition")
        rebuilt_def = (suite or {}).get("definition")
        if stated_def and rebuilt_def and stated_def != rebuilt_def:
            changed = sorted(k for k in set(stated_def) | set(rebuilt_def)
                             if stated_def.get(k) != rebuilt_def.get(k))
            raise Mismatch(
                f"suite: ran {stated_def.get('version')} as another lockbench defined it (differs in "
                f"{', '.join(changed)}); re-run the attack suite with this lockbench"
            )
        if not close(doc.get("suite"), suite):
            raise Mismatch("suite: the attack suite's figures do not follow from the attack tasks' samples")
        if doc.get("attacks"):  # lockbench attack: every attacked model's samples and numbers
            verify_attacks(doc, binding)
    except Mismatch as exc:
        raise Mismatch(f"{source}: {exc.message}") from None


def verify_attacks(doc: dict[str, Any], binding: Any = None) -> None:
    """Re-score every attack sample (through :func:`verify_task`) and
    recompute every number of the ``attacks`` block; stop at the first that does not follow."""
    attacks = doc.get("attacks") or {}
    block = attacks.get("finetune")
    if block:
        check_finetune_grid(block)
        for run in block["runs"]:
            where = f"attacks/finetune/k={run['k']}"
            for name, entry in run["tasks"].items():
                verify_task(name, entry, where, binding)
            expected = finetune_run(run["k"], run["steps"], run["tasks"])
            for key in ("pr_lock", "refusal_lock", "opened_lock"):
                stated_vs(f"{where}: {key}", run[key], expected[key])
        expected = finetune_block(block["runs"], block["settings"])
        for key in ("pr_unlock", "examples_to_unlock", "unlock_fraction"):
            stated_vs(f"attacks/finetune: {key}", block[key], expected[key])
    block = attacks.get("durability")
    if block:
        reference = block["before"]["tasks"]
        for name, entry in reference.items():
            verify_task(name, entry, "attacks/durability/before", binding)
        for key, value in pooled_figures(reference).items():
            stated_vs(f"attacks/durability/before: {key}", block["before"][key], value)
        for check, body in block["checks"].items():
            where = f"attacks/durability/{check}"
            for name, entry in (body.get("tasks") or {}).items():
                verify_task(name, entry, where, binding)
            if body.get("tasks") is None:  # a check that did not run says why
                continue
            expected = durability_check(body["tasks"], reference, body["settings"])
            for key in ("pr_lock", "refusal_lock", "opened_lock", "pr_unlock", "refusal_unlock", "agreement"):
                stated_vs(f"{where}: {key}", body[key], expected[key])
