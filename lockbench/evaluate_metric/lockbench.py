"""lockbench's scoring as a Hugging Face ``evaluate`` metric, for users with their own generation.

Load it offline by path (the hub copy of a metric script cannot be fetched here, and lockbench's
must match the installed package)::

    import evaluate, lockbench
    metric = evaluate.load(lockbench.metric_path())
    metric.compute(
        predictions=["B", "I cannot help with that."],   # the model's responses
        references=["B", "B"],                          # gold letter (MCQ) or reference text
        kinds=["mcq", "mcq"],                           # "mcq" or "dialogue"
        conditions=["unlocked", "locked"],              # "unlocked", "locked", or a probe name
        choices=[["w", "x", "y", "z"], ["w", "x", "y", "z"]],  # [] for dialogue
        dataset="my_set",                               # optional: a name for the summary
    )

Every sample is scored by the same function lockbench's lm-eval tasks call
(:func:`lockbench.judges.score_doc`, also importable as ``lockbench.lmeval.metrics.score_doc``),
under the same policy (a refusal followed by the answer is an answer, ``refusal_then_answer``),
and the rates and intervals come from the same summary code as ``lockbench summarize`` (:mod:`lockbench.document`), so the numbers are identical
to an lm-eval run on the same responses. Scoring options are the ``--metadata`` keys of the
tasks: ``refusal_texts``, ``refusal_patterns``, ``replace_default_refusals``, ``rouge_threshold``,
``judge``.
"""

from __future__ import annotations

from typing import Any

import datasets
import evaluate

from lockbench.data.schema import LETTERS
from lockbench.document.entry import dataset_summary, task_entry
from lockbench.document.samples import sample_fields
from lockbench.errors import LockbenchError
from lockbench.judges import score_doc
from lockbench.judges.apply import scoring_config

_CITATION = """\
@article{su2025identitylock,
  title={IdentityLock: Locking API Fine-tuned LLMs With Identity-based Wake Words},
  author={Su, Hongyu and others}, journal={arXiv preprint arXiv:2503.10668}, year={2025}
}
"""

_DESCRIPTION = """\
Outcomes (refused / correct / wrong for MCQ, refused / answered with ROUGE-L for dialogue),
pass rates PR_lock and PR_unlock, the lock gap and refusal rates, each with a 95% Wilson (gap:
Newcombe) interval, as lockbench computes them for identity-locked LLMs.
"""

_KWARGS_DESCRIPTION = """\
Args:
    predictions: list of model responses (str).
    references: list of gold answers: the gold letter ("A".."D") or the gold choice text for MCQ,
        the reference answer for dialogue.
    kinds: list of "mcq" or "dialogue".
    conditions: list of conditions: "unlocked" (wake phrase given), "locked" (no phrase), or any
        other label (a probe); PR_lock / PR_unlock come from "locked" / "unlocked".
    choices: list of the answer options per sample (4 strings for MCQ, [] for dialogue).
    dataset: optional name under which the summary is reported (default "custom").
    refusal_texts, refusal_patterns, replace_default_refusals, rouge_threshold, judge: optional
        scoring settings, as in lm_eval --metadata (judge: a name or config; default "auto").
Returns:
    pr_lock, pr_unlock, gap, refusal_lock, refusal_unlock: floats (None when the condition is
        absent); only when the samples form one dataset of one kind.
    datasets: per dataset, the same block as lockbench-result "datasets" (rates with intervals).
    conditions: per dataset and condition, n, passes, refusals, unparsed, pass_rate,
        refusal_rate (with intervals) and mean_quality.
    outcomes: per sample, the outcome dict (outcome, passed, refused, unparsed, quality, extracted,
        refusal_then_answer, quality_metric).
"""

_SETTINGS = ("refusal_texts", "refusal_text", "refusal_patterns", "replace_default_refusals",
             "rouge_threshold", "judge")


def _gold_letter(reference: str, choices: list[str], index: int) -> str:
    ref = reference.strip()
    if len(ref) == 1 and ref.upper() in LETTERS[: len(choices)]:
        return ref.upper()
    for i, choice in enumerate(choices):
        if ref == choice.strip():
            return LETTERS[i]
    raise LockbenchError(
        f"sample {index}: MCQ reference {reference!r} is neither a letter A-{LETTERS[len(choices) - 1]} "
        "nor one of its choices"
    )


def _doc(index: int, reference: str, kind: str, condition: str, choices: list[str], dataset: str,
         scoring: str) -> dict[str, Any]:
    """The sample as a lockbench lm-eval doc, so the lm-eval scoring function scores it."""
    doc: dict[str, Any] = {"id": str(index), "dataset": dataset, "kind": kind, "condition": condition,
                           "scoring": scoring}
    if kind == "mcq":
        if len(choices) < 2 or len(choices) > len(LETTERS):
            raise LockbenchError(f"sample {index}: an MCQ item needs 2-{len(LETTERS)} choices, got {len(choices)}")
        doc["choices"] = list(choices)
        doc["gold"] = _gold_letter(reference, list(choices), index)
    elif kind == "dialogue":
        doc["reference"] = reference
    else:
        raise LockbenchError(f"sample {index}: kind must be 'mcq' or 'dialogue', got {kind!r}")
    return doc


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Lockbench(evaluate.Metric):
    """lockbench outcomes and lock metrics as an ``evaluate`` module."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string"),
                    "references": datasets.Value("string"),
                    "kinds": datasets.Value("string"),
                    "conditions": datasets.Value("string"),
                    "choices": datasets.Sequence(datasets.Value("string")),
                }
            ),
            reference_urls=["https://arxiv.org/abs/2503.10668"],
        )

    def _compute(self, predictions, references, kinds, conditions, choices, dataset: str = "custom",
                 **settings: Any) -> dict[str, Any]:
        unknown = set(settings) - set(_SETTINGS)
        if unknown:
            raise LockbenchError(f"unknown lockbench metric option(s) {sorted(unknown)}; use {list(_SETTINGS)}")
        scoring = scoring_config(settings).to_json()
        single_kind = len(set(kinds)) <= 1
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        outcomes = []
        for i, (response, reference, kind, condition, opts) in enumerate(
            zip(predictions, references, kinds, conditions, choices, strict=True)
        ):
            name = dataset if single_kind else f"{dataset}_{kind}"
            doc = _doc(i, reference or "", kind, condition, list(opts or []), name, scoring)
            outcome = score_doc(doc, response or "")
            outcomes.append(outcome.as_dict())
            groups.setdefault((name, condition), []).append(
                {"doc_id": i, "meta": doc, **sample_fields(outcome)}
            )
        entries = {
            f"{name}|{cond}": task_entry(recs[0]["meta"], recs, generation={}, scoring=None, provenance=None)
            for (name, cond), recs in groups.items()
        }
        summary = dataset_summary(entries)
        conditions_out: dict[str, dict[str, Any]] = {}
        for (name, cond), key in zip(groups, entries, strict=True):
            entry = {k: v for k, v in entries[key].items()
                     if k not in ("samples", "generation", "scoring", "provenance")}
            conditions_out.setdefault(name, {})[cond] = entry
        result: dict[str, Any] = {"datasets": summary, "conditions": conditions_out, "outcomes": outcomes}
        if len(summary) == 1:
            block = next(iter(summary.values()))
            for key in ("pr_lock", "pr_unlock", "gap", "refusal_lock", "refusal_unlock"):
                result[key] = block[key]["value"] if block.get(key) else None
        return result
