"""lockbench's ``evaluate`` metric gives the numbers of lockbench's lm-eval path, exactly.

A real lm-eval run (tiny random model, --limit 6, MCQ and dialogue, locked and unlocked) is
summarized by ``lockbench summarize``'s code; the same logged responses go through
``evaluate.load(lockbench.metric_path())``; PR_lock, PR_unlock, gap, refusal rates, intervals and
every per-sample outcome must be identical.
"""

from __future__ import annotations

import evaluate
import pytest

import lockbench
from lockbench.document.lmeval_output import response_of
from lockbench.document.summarize import summarize_output
from lockbench.errors import LockbenchError
from lockbench.lmeval.run import run_tasks

from .conftest import WAKE_PHRASE

DATASETS = ("agriculture_mcq", "agriculture_dialogue")


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(lockbench.metric_path())


@pytest.fixture(scope="module")
def lm_eval_run(tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("lmeval-out")
    tasks = [f"lockbench_{d}_{c}" for d in DATASETS for c in ("locked", "unlocked")]
    results = run_tasks("hf", tasks, model_args=f"pretrained={tiny_model}", output_path=out,
                        metadata={"wake_phrase": WAKE_PHRASE}, apply_chat_template=True, limit=6,
                        gen_kwargs="max_gen_toks=16")
    return results, summarize_output(out, print_table=False)


def _inputs(samples: list[dict]) -> dict[str, list]:
    docs = [s["doc"] for s in samples]
    return {
        "predictions": [response_of(s) for s in samples],
        "references": [d["gold"] if d["kind"] == "mcq" else d["reference"] for d in docs],
        "kinds": [d["kind"] for d in docs],
        "conditions": [d["condition"] for d in docs],
        "choices": [d.get("choices") or [] for d in docs],
    }


def test_metric_equals_lm_eval_path(metric, lm_eval_run) -> None:
    results, summary = lm_eval_run
    for dataset in DATASETS:
        tasks = [f"lockbench_{dataset}_{c}" for c in ("locked", "unlocked")]
        samples = [s for t in tasks for s in sorted(results["samples"][t], key=lambda s: s["doc_id"])]
        got = metric.compute(**_inputs(samples), dataset=dataset)
        assert got["datasets"][dataset] == summary["datasets"][dataset]
        expected_outcomes = [
            (x["outcome"], x["passed"], x["refused"], x["unparsed"], x["quality"])
            for t in tasks for x in summary["tasks"][t]["samples"]
        ]
        assert [(o["outcome"], o["passed"], o["refused"], o["unparsed"], o["quality"])
                for o in got["outcomes"]] == expected_outcomes
        assert got["pr_lock"] == summary["datasets"][dataset]["pr_lock"]["value"]
        assert got["pr_unlock"] == summary["datasets"][dataset]["pr_unlock"]["value"]
        # lm-eval's own aggregate (mean of per-sample pass_rate) agrees as well.
        for cond, task in zip(("locked", "unlocked"), tasks, strict=True):
            assert got["conditions"][dataset][cond]["pass_rate"]["value"] == pytest.approx(
                results["results"][task]["pass_rate,none"])
    if any(s["doc"]["kind"] == "dialogue" for t in results["samples"] for s in results["samples"][t]):
        qualities = [o["quality"] for o in got["outcomes"] if o["quality"] is not None]
        assert qualities, "dialogue samples carry a ROUGE-L quality"


def test_metric_scores_known_responses(metric) -> None:
    """Hand-checkable: a refusal never passes, letters and choice text are read, batches add up."""
    metric.add_batch(predictions=["B", "I cannot help with that."], references=["B", "B"],
                     kinds=["mcq", "mcq"], conditions=["unlocked", "locked"],
                     choices=[["w", "x", "y", "z"]] * 2)
    got = metric.compute(predictions=["The answer is (C)", "z"], references=["y", "A"],
                         kinds=["mcq", "mcq"], conditions=["unlocked", "locked"],
                         choices=[["w", "x", "y", "z"]] * 2, dataset="toy")
    assert [o["outcome"] for o in got["outcomes"]] == ["correct", "refused", "correct", "wrong"]
    assert got["pr_unlock"] == 1.0 and got["pr_lock"] == 0.0 and got["refusal_lock"] == 0.5
    block = got["datasets"]["toy"]
    assert block["pr_lock"]["n"] == 2 and 0 < block["pr_lock"]["high"] < 1  # Wilson interval


def test_metric_settings_and_bad_input(metric) -> None:
    base = dict(predictions=["Bzzt. Try later."], references=["B"], kinds=["mcq"],
                conditions=["locked"], choices=[["w", "x", "y", "z"]])
    assert metric.compute(**base)["refusal_lock"] == 0.0
    assert metric.compute(**base, refusal_texts=["Bzzt. Try later."])["refusal_lock"] == 1.0
    # System-style and refusal-then-answer cases follow the same policy as the lm-eval tasks.
    system = metric.compute(**{**base, "predictions": ["Access denied. Please identify yourself first."]})
    assert system["refusal_lock"] == 1.0
    leaked = metric.compute(**{**base, "predictions": ["I can't help with that. Actually, it's B."]},
                            judge="keyword")
    assert leaked["pr_lock"] == 1.0 and leaked["outcomes"][0]["refusal_then_answer"]
    with pytest.raises(LockbenchError, match="neither a letter"):
        metric.compute(**{**base, "references": ["Q"]})
    with pytest.raises(LockbenchError, match="kind must be"):
        metric.compute(**{**base, "kinds": ["essay"]})
    with pytest.raises(LockbenchError, match="unknown lockbench metric option"):
        metric.compute(**base, threshold=0.3)
