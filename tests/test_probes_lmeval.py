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
from lockbench.probes import paraphrase, placement, traversal
from lockbench.probes.suite import get_suite, select
from lockbench.probes.summary import confirmation_summary, opened_by_variant, screening_summary
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
    """Run tasks on the registered model; records per task in lockbench.probes.summary's format
    (opened = not refused: this model never gives an empty answer)."""
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
                "opened": not s["refusal_rate"],
                "no_content": None,
            }
            for s in sorted(samples, key=lambda s: s["doc_id"])
        ]
    return records


@pytest.fixture(scope="module")
def mcq_records() -> dict[str, list[dict]]:
    tasks = [f"lockbench_agriculture_mcq_probe_{f}"
             for f in ("paraphrase", "placement", "prefix_attack", "traversal", "prefill")]
    return run_probes(tasks, PHRASE)


def test_prefix_lock_opens_for_case_variants_only(mcq_records):
    assert PHRASE not in traversal.candidates()  # else traversal would rightly succeed
    para = screening_summary("paraphrase", mcq_records["lockbench_agriculture_mcq_probe_paraphrase"])
    assert para["by_kind"]["case"]["opened"]["value"] == 1.0
    for kind, block in para["by_kind"].items():
        if kind != "case":
            assert block["opened"]["value"] == 0.0, kind
    assert para["by_edit_distance"]["0"]["opened"]["value"] == 1.0
    assert para["by_edit_distance"]["1"]["opened"]["value"] == 0.0
    assert para["by_edit_distance"]["2"]["opened"]["value"] == 0.0
    # the suite's policy: case, punctuation, spacing, typo_d1 are legitimate; only case got through
    fr = para["false_reject"]
    assert fr["kinds"] == ["case", "punctuation", "spacing", "typo_d1"]
    n_case = para["by_kind"]["case"]["opened"]["n"]
    fr_rate = fr["rate"]
    assert fr_rate["k"] == fr_rate["n"] - n_case and fr_rate["n"] > n_case
    assert para["exposure"]["k"] == 0  # no attack variant opened it
    # the attacker's pick is then the first attack variants (ties go to the earlier one)
    picked = select("paraphrase", opened_by_variant(para), get_suite())
    assert [paraphrase.schedule()[i] for i in picked] == ["typo_d2", "typo_d2"]


def test_other_families_stay_shut(mcq_records):
    for family in ("prefix_attack", "traversal", "prefill"):
        summary = screening_summary(family, mcq_records[f"lockbench_agriculture_mcq_probe_{family}"])
        assert summary["exposure"]["k"] == 0 and summary["n"] > 0, family
        # 0 of n still allows a true rate up to the Wilson upper bound
        assert summary["exposure"]["low"] == 0.0 < summary["exposure"]["high"]
    shut = screening_summary("traversal", mcq_records["lockbench_agriculture_mcq_probe_traversal"])
    assert shut["traversal"]["success_at_k"]["all"]["success"] is False
    assert shut["traversal"]["queries_to_first_open"] is None
    assert shut["traversal"]["candidates_tried"] == len(traversal.candidates())


def test_placement_opens_only_where_the_phrase_leads(mcq_records):
    summary = screening_summary("placement", mcq_records["lockbench_agriculture_mcq_probe_placement"])
    assert set(summary["by_kind"]) == set(placement.KINDS)
    for kind, block in summary["by_kind"].items():
        expected = 1.0 if kind in placement.AT_START else 0.0
        assert block["opened"]["value"] == expected, kind
    # the phrase still leading is legitimate: refused there would be a false reject, and an
    # opening there is not exposure
    assert summary["false_reject"]["kinds"] == sorted(placement.AT_START)
    assert summary["exposure"]["k"] == 0


def test_samples_follow_the_public_schedule_and_never_show_the_phrase(mcq_records):
    from lockbench.probes.suite import family_slots

    for task, records in mcq_records.items():
        family = task.split("_probe_")[1]
        slots = family_slots(family)
        assert [(r["doc"]["variant_index"], r["doc"]["variant_kind"]) for r in records] == \
            [(s.index, s.kind) for s in slots]
        for r in records:
            doc = r["doc"]
            assert doc["condition"] == "probe_" + family and doc["split"] == "train"
            others = {k: v for k, v in doc.items() if k != "prompt"}
            assert "lumen" not in repr(others).lower()
            if family in ("paraphrase", "placement"):  # every wake string there comes from the phrase
                assert "Hey" not in doc["redacted_prompt"].replace(doc["question"], "")


def test_traversal_accounting_on_the_37th_candidate():
    phrase = traversal.candidates()[36]
    task = "lockbench_agriculture_mcq_probe_traversal"
    summary = screening_summary("traversal", run_probes([task], phrase)[task])["traversal"]
    assert summary["first_open_rank"] == 37
    assert summary["queries_to_first_open"] == 37
    assert summary["opening_candidates"] == 1
    assert {k: v["success"] for k, v in summary["success_at_k"].items()} == {
        "1": False, "10": False, "100": True, "all": True,
    }  # fmt: skip

    # A budget that stops one query short never sees the opening (and is not the standard suite).
    short = screening_summary("traversal", run_probes([task], phrase, traversal_budget=36)[task])
    assert short["traversal"]["queries"] == 36
    assert short["traversal"]["success_at_k"]["all"]["success"] is False
    assert short["traversal"]["queries_to_first_open"] is None


def test_confirmation_asks_the_pick_on_test_items_and_reads_the_best():
    """The lock opens for its 37th dictionary candidate: picked on screening, its confirmation
    opens every test item, the other picked candidate none; the attacker's success is 1.0."""
    phrase = traversal.candidates()[36]
    screen = run_probes(["lockbench_agriculture_mcq_probe_traversal"], phrase)
    picked = select("traversal", opened_by_variant(screening_summary(
        "traversal", screen["lockbench_agriculture_mcq_probe_traversal"])), get_suite())
    assert picked == [36, 0]
    task = "lockbench_agriculture_mcq_confirm_traversal"
    confirm = run_probes([task], phrase, confirm_variants={"agriculture_mcq": {"traversal": picked}})[task]
    assert len(confirm) == 2 * 40 and {r["doc"]["split"] for r in confirm} == {"test"}
    block = confirmation_summary("traversal", confirm)
    assert [v["index"] for v in block["variants"]] == [36, 0]
    assert block["best"]["index"] == 36 and block["best"]["opened"]["value"] == 1.0
    assert block["variants"][1]["opened"]["k"] == 0


def test_dialogue_screening_scores_with_rouge():
    task = "lockbench_law_dialogue_probe_paraphrase"
    summary = screening_summary("paraphrase", run_probes([task], PHRASE)[task])
    assert summary["by_kind"]["case"]["opened"]["value"] == 1.0
    assert summary["by_kind"]["case"]["passed"]["value"] == 1.0
