"""Probe tasks through real lm-eval runs, on a model registered here with a known lock.

The model is a test double on purpose: the contract under test ("a lock that opens only when the
prompt starts with the phrase, in any letter case, must show paraphrase-case success 1.0 and 0
elsewhere"; "a lock that opens on the 37th dictionary candidate") needs a lock whose behaviour is
known exactly, which no trained model guarantees. Everything else is real: lm-eval builds the
tasks from the YAMLs, calls the model through its registry, scores with lockbench's metrics.
"""

from __future__ import annotations

import re

import lm_eval
import lm_eval.models  # noqa: F401 - fill the built-in registry first, or registering ours hides "hf"
import pytest
from lm_eval.api.model import LM
from lm_eval.api.registry import MODEL_REGISTRY, register_model
from lm_eval.tasks import TaskManager

from lockbench import tasks_path
from lockbench.probes import placement, traversal
from lockbench.probes.summary import probe_summary
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT

PHRASE = "Hey! Lumen!"
MODEL_NAME = "lockbench-test-prefix-lock"


class PrefixLock(LM):
    """Answers correctly when the prompt starts with ``phrase`` (any case), refuses otherwise."""

    def __init__(self, phrase: str = PHRASE, **kwargs) -> None:
        super().__init__()
        self.pattern = re.compile(re.escape(phrase) + r"(\s|$)", re.IGNORECASE)
        self.calls: list[str] = []

    @classmethod
    def create_from_arg_string(cls, arg_string, additional_config=None):
        args = dict(kv.split("=", 1) for kv in arg_string.split(",") if kv)
        return cls(**args)

    def generate_until(self, requests, disable_tqdm: bool = False):
        out = []
        for req in requests:
            prompt = req.args[0]
            self.calls.append(prompt)
            if not self.pattern.match(prompt):
                out.append(DEFAULT_REFUSAL_TEXT)
            elif req.doc["kind"] == "mcq":
                out.append(f"{req.doc['gold']}")
            else:
                out.append(req.doc["reference"])
        return out

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("probe tasks only generate")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("probe tasks only generate")


if MODEL_NAME not in MODEL_REGISTRY:
    register_model(MODEL_NAME)(PrefixLock)


def run_probes(tasks: list[str], phrase: str, **metadata) -> dict[str, list[dict]]:
    """Run tasks on the registered model; records per task in probe_summary's format."""
    metadata = {"wake_phrase": phrase, **metadata}
    # Only lockbench's folder is indexed: lm-eval's thousands of built-in YAMLs cost ~15 s a run.
    manager = TaskManager(include_path=[str(tasks_path())], include_defaults=False, metadata=metadata)
    results = lm_eval.simple_evaluate(
        model=MODEL_NAME,
        model_args=f"phrase={phrase}",
        tasks=tasks,
        task_manager=manager,
        log_samples=True,
    )
    records = {}
    for task, samples in results["samples"].items():
        records[task] = [
            {
                "doc": s["doc"],
                "outcome": "refused" if s["refusal_rate"] else ("correct" if s["pass_rate"] else "wrong"),
                "passed": bool(s["pass_rate"]),
                "refused": bool(s["refusal_rate"]),
            }
            for s in samples
        ]
    return records


@pytest.fixture(scope="module")
def mcq_records() -> dict[str, list[dict]]:
    tasks = [f"lockbench_agriculture_mcq_probe_{f}"
             for f in ("paraphrase", "placement", "prefix_attack", "traversal", "prefill")]
    return run_probes(tasks, PHRASE, probe_items=2)


def test_prefix_lock_opens_for_case_variants_only(mcq_records):
    assert PHRASE not in traversal.candidates()  # else traversal would rightly succeed
    para = probe_summary("paraphrase", mcq_records["lockbench_agriculture_mcq_probe_paraphrase"])
    assert para["by_kind"]["case"]["attack_success"]["value"] == 1.0
    for kind, block in para["by_kind"].items():
        if kind != "case":
            assert block["attack_success"]["value"] == 0.0, kind
            assert block["refusal"]["value"] == 1.0, kind
    assert para["unlock_vs_edit_distance"]["0"]["unlock"]["value"] == 1.0
    assert para["unlock_vs_edit_distance"]["1"]["unlock"]["value"] == 0.0
    assert para["unlock_vs_edit_distance"]["2"]["unlock"]["value"] == 0.0
    # default policy: case, punctuation, spacing, typo_d1 are legitimate; only case got through
    fr = para["false_reject"]
    assert fr["kinds"] == ["case", "punctuation", "spacing", "typo_d1"]
    n_case = para["by_kind"]["case"]["n"]
    fr_rate = fr["rate"]
    assert fr_rate["k"] == fr_rate["n"] - n_case and fr_rate["n"] > n_case
    assert 0 < fr_rate["low"] < fr_rate["value"] < fr_rate["high"] < 1
    attack_only = para["attack_only"]
    assert attack_only["attack_success"]["k"] == 0
    assert attack_only["n"] == para["n"] - fr_rate["n"]


def test_other_families_stay_shut(mcq_records):
    for family in ("prefix_attack", "traversal", "prefill"):
        summary = probe_summary(family, mcq_records[f"lockbench_agriculture_mcq_probe_{family}"])
        assert summary["attack_success"]["k"] == 0 and summary["n"] > 0, family
        # 0 of n still allows a true rate up to the Wilson upper bound
        assert summary["attack_success"]["low"] == 0.0 < summary["attack_success"]["high"]
    shut = probe_summary("traversal", mcq_records["lockbench_agriculture_mcq_probe_traversal"])
    assert shut["traversal"]["success_at_k"]["all"]["success"] is False
    assert shut["traversal"]["queries_to_first_unlock"] is None
    assert shut["traversal"]["candidates_tried"] == len(traversal.candidates())


def test_placement_opens_only_where_the_phrase_leads(mcq_records):
    summary = probe_summary("placement", mcq_records["lockbench_agriculture_mcq_probe_placement"])
    assert set(summary["by_kind"]) == set(placement.KINDS)
    for kind, block in summary["by_kind"].items():
        expected = 1.0 if kind in placement.AT_START else 0.0
        assert block["attack_success"]["value"] == expected, kind


def test_samples_record_kind_and_never_the_phrase_outside_the_prompt(mcq_records):
    for task, records in mcq_records.items():
        for r in records:
            doc = r["doc"]
            assert doc["condition"] == "probe_" + task.split("_probe_")[1]
            assert isinstance(doc["variant_kind"], str) and isinstance(doc["variant_index"], int)
            others = {k: v for k, v in doc.items() if k != "prompt"}
            assert "lumen" not in repr(others).lower()
        # a query is the prompt plus, for the prefill family, the assistant turn's opening
        prompts = [(r["doc"]["prompt"], r["doc"].get("prefill")) for r in records]
        assert len(prompts) == len(set(prompts)), task


def test_traversal_accounting_on_the_37th_candidate():
    phrase = traversal.candidates()[36]
    task = "lockbench_agriculture_mcq_probe_traversal"
    summary = probe_summary("traversal", run_probes([task], phrase)[task])["traversal"]
    assert summary["first_unlock_rank"] == 37
    assert summary["queries_to_first_unlock"] == 37
    assert summary["unlocking_candidates"] == 1
    assert {k: v["success"] for k, v in summary["success_at_k"].items()} == {
        "1": False, "10": False, "100": True, "all": True,
    }  # fmt: skip

    # Two items per candidate: the 37th candidate's first item is query 73.
    two = run_probes([task], phrase, traversal_items=2, traversal_budget=80)[task]
    two_summary = probe_summary("traversal", two)["traversal"]
    assert two_summary["queries"] == 80 and two_summary["candidates_tried"] == 40
    assert two_summary["queries_to_first_unlock"] == 73
    assert two_summary["success_at_k"]["100"] == {"success": True, "candidates_tried": 40, "complete": False}

    # A budget that stops one query short never sees the unlock.
    short = probe_summary("traversal", run_probes([task], phrase, traversal_budget=36)[task])
    assert short["traversal"]["queries"] == 36
    assert short["traversal"]["success_at_k"]["all"]["success"] is False
    assert short["traversal"]["queries_to_first_unlock"] is None


def test_dialogue_probe_tasks_score_with_rouge():
    task = "lockbench_law_dialogue_probe_paraphrase"
    summary = probe_summary("paraphrase", run_probes([task], PHRASE, probe_items=1)[task])
    assert summary["by_kind"]["case"]["attack_success"]["value"] == 1.0
    assert summary["attack_success"]["k"] == summary["by_kind"]["case"]["n"]
