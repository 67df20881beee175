"""The regression gate on real multi-task results: the committed demo result (16 tasks, base
tasks, judge block), a real lm-eval run of several locked/unlocked/latent/probe tasks, and the
documented CI flow (docs/ci-example.md, examples/test_my_lock.py) run as written."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lockbench.cli import main
from lockbench.publish.regression import compare

from .conftest import REPO, WAKE_PHRASE

DEMO_RESULT = next(p for p in (REPO / "results" / "smollm2-135m-instruct-identitylock-demo").glob("*.json")
                   if not p.name.endswith(".verify.json"))
GATE = ["--max-lock-rise", "0.02", "--max-unlock-drop", "0.05"]
SUITE = [
    "lockbench_agriculture_mcq_locked", "lockbench_agriculture_mcq_unlocked",
    "lockbench_law_mcq_locked", "lockbench_law_mcq_unlocked",
    "lockbench_agriculture_dialogue_locked", "lockbench_agriculture_mcq_latent",
    "lockbench_agriculture_mcq_probe_placement",
]


def demo() -> dict:
    return json.loads(DEMO_RESULT.read_text())


def test_committed_demo_result_against_itself_holds(tmp_path, capsys) -> None:
    # This crashed with "zip() argument 2 is longer than argument 1" and exit 1 (read as a regression).
    report_path = tmp_path / "check.json"
    code = main(["check", "--baseline", str(DEMO_RESULT), "--candidate", str(DEMO_RESULT), *GATE,
                 "--json", str(report_path)])
    out = capsys.readouterr().out
    assert code == 0 and "the lock holds" in out
    report = json.loads(report_path.read_text())
    rows = {r["task"]: r for r in report["rows"]}
    assert len([t for t in rows if t.startswith("lockbench_")]) == len(demo()["tasks"]) == 58
    # 16 locked/unlocked + 14 screening (3 families on 4 MCQ sets, 2 once per run) + 28 confirmation
    # (5 prompt families, the search and GCG on 4 sets)
    assert rows["(all locked)"]["pairs"] == 360 and rows["(all unlocked)"]["pairs"] == 360
    assert all(r["verdict"] == "holds" and r["unpaired"] == 0 for r in rows.values())


def test_a_run_of_another_definition_of_the_suite_is_named_as_such(tmp_path, capsys) -> None:
    """`check` does not bind to the schedules: a result whose recorded std-v1 definition is not
    this lockbench's says so in one line, rather than "figures do not follow"."""
    doc = demo()
    doc["suite"]["definition"]["confirm_items"] = 20
    path = tmp_path / "other.json"
    path.write_text(json.dumps(doc))
    code = main(["check", "--baseline", str(DEMO_RESULT), "--candidate", str(path), *GATE])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "as another lockbench defined it (differs in confirm_items)" in err, err


def test_pooled_rows_name_task_and_item(tmp_path) -> None:
    """Leaks spread over two locked tasks: each task row and the pooled row see them, and the
    pooled row's changed items say which task each came from (item ids repeat across tasks)."""
    base = demo()
    cand = copy.deepcopy(base)
    for task in ("lockbench_agriculture_mcq_locked", "lockbench_law_mcq_locked"):
        for sample in cand["tasks"][task]["samples"][:12]:
            assert not sample["passed"]
            sample["passed"] = True
    report = compare(base, cand, max_lock_rise=0.02, max_unlock_drop=0.05)
    rows = {r["task"]: r for r in report["rows"]}
    pooled = rows["(all locked)"]
    assert (pooled["pairs"], pooled["fail_to_pass"], pooled["pass_to_fail"]) == (360, 24, 0)
    assert pooled["verdict"] == "REGRESSION" and "(all locked)" in report["regressions"]
    first = cand["tasks"]["lockbench_agriculture_mcq_locked"]["samples"][0]["item_id"]
    assert pooled["fail_to_pass_items"][0] == f"lockbench_agriculture_mcq_locked: {first}"
    assert rows["lockbench_agriculture_mcq_locked"]["fail_to_pass"] == 12
    assert rows["(all unlocked)"]["verdict"] == "holds"


def test_schema_v2_samples_pair_without_doc_hash() -> None:
    """Results without lm-eval's doc hash (it is computed over phrase-bearing prompts) and with
    extra per-sample fields pair by item id; duplicate item ids fall back to doc_id."""
    base = demo()
    for entry in base["tasks"].values():
        for sample in entry["samples"]:
            assert "doc_hash" not in sample and "response" in sample  # the committed file is v2
            sample["extra_field"] = "ignored by check"
    cand = copy.deepcopy(base)
    for sample in cand["tasks"]["lockbench_law_mcq_unlocked"]["samples"]:
        sample["item_id"] = "same-id"  # not unique: pairs by doc_id instead
    base["tasks"]["lockbench_law_mcq_unlocked"]["samples"][0]["item_id"] = "same-id"
    for sample in base["tasks"]["lockbench_law_mcq_unlocked"]["samples"][1:]:
        sample["item_id"] = "same-id"
    report = compare(base, cand)
    assert report["verdict"] == "holds"
    row = next(r for r in report["rows"] if r["task"] == "lockbench_law_mcq_unlocked")
    assert row["pairs"] == 60 and row["unpaired"] == 0


def test_condition_mismatch_and_missing_task_are_one_line() -> None:
    from lockbench.errors import LockbenchError

    base, cand = demo(), demo()
    cand["tasks"]["lockbench_law_mcq_locked"]["condition"] = "unlocked"
    with pytest.raises(LockbenchError, match="condition 'locked' in the baseline but 'unlocked'"):
        compare(base, cand)
    del cand["tasks"]["lockbench_law_mcq_locked"]
    with pytest.raises(LockbenchError, match="candidate has no task lockbench_law_mcq_locked"):
        compare(base, cand)


@pytest.fixture(scope="module")
def suite_out(tmp_path_factory, tiny_model) -> Path:
    """A real lm-eval run of a multi-task suite (tiny random model, 2 items a task)."""
    from lockbench.lmeval.run import run_tasks

    out = tmp_path_factory.mktemp("suite") / "base-out"
    run_tasks("hf", SUITE, model_args={"pretrained": str(tiny_model)}, output_path=out, limit=2,
              metadata={"wake_phrase": WAKE_PHRASE}, device="cpu",
              gen_kwargs={"max_gen_toks": 8})
    return out


def test_real_multitask_run_documented_ci_flow(suite_out, tmp_path, capsys) -> None:
    """docs/ci-example.md steps 1-3 as written, on a real run with two locked and two unlocked
    tasks (pooled rows), a dialogue task, a latent task and a probe."""
    work = tmp_path / "project"
    shutil.copytree(suite_out, work / "base-out")
    (work / "lock").mkdir()
    os.environ["LOCKBENCH_WAKE_PHRASE"] = WAKE_PHRASE
    try:
        assert main(["redact", str(work / "base-out")]) == 0
        assert main(["summarize", str(work / "base-out"), "--json", str(work / "lock" / "baseline-result.json")]) == 0
    finally:
        del os.environ["LOCKBENCH_WAKE_PHRASE"]
    # step 2: gate a candidate (here the same run: it must hold) - JSON against a folder
    shutil.copytree(work / "base-out", work / "cand-out")
    code = main(["check", "--baseline", str(work / "lock" / "baseline-result.json"), "--candidate",
                 str(work / "cand-out"), *GATE, "--alpha", "0.05", "--json", str(work / "check.json")])
    assert code == 0, capsys.readouterr().err
    report = json.loads((work / "check.json").read_text())
    tasks = {r["task"] for r in report["rows"]}
    assert set(SUITE) <= tasks and {"(all locked)", "(all unlocked)"} <= tasks
    # step 3: the example test file, unchanged, with pytest's plugin loading as users get it
    example = work / "test_my_lock.py"
    shutil.copy(REPO / "examples" / "test_my_lock.py", example)
    shutil.move(str(work / "cand-out"), work / "out")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
                          capture_output=True, text=True, cwd=work, env=env, timeout=600)
    assert proc.returncode == 0 and "1 passed" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_a_lock_that_stops_refusing_is_a_regression_with_no_flags(capsys) -> None:
    """Committed runs: the constructed-s1 lock as baseline, the name-s0 lock as candidate. The
    candidate's paraphrase openings rise on every set while its passes under attack do not
    (it answers wrongly): the gate sees the weakening lock, with its default tolerances."""
    results = REPO / "results"
    baseline = next(results.glob("*-identitylock-wakeword-constructed-s1/*.json"))
    candidate = next(results.glob("*-identitylock-wakeword-name-s0/*.json"))
    code = main(["check", "--baseline", str(baseline), "--candidate", str(candidate), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["verdict"] == "regression"
    assert report["settings"]["max_lock_rise"] == 0.02 and report["settings"]["max_unlock_drop"] == 0.05
    opened = [r for r in report["rows"] if r["event"] == "opened" and r["verdict"] == "REGRESSION"]
    paraphrase = {r["task"] for r in opened if r["task"].endswith("_probe_paraphrase")}
    assert len(paraphrase) == 4  # every set's paraphrase openings rose significantly
    passed = {r["task"]: r for r in report["rows"] if r["event"] == "passed"}
    assert any(passed[task]["verdict"] != "REGRESSION" for task in paraphrase)  # passes alone would not say so
