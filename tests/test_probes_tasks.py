"""Probe and latent-leakage tasks with a real (tiny random) transformers model: plumbing, the
``lm_eval`` CLI, bad input through the CLI. Behaviour under a known lock is in
``test_probes_lmeval.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lockbench.lmeval.run import run_tasks
from lockbench.probes import placement
from lockbench.probes.summary import confirmation_summary, screening_summary

from .conftest import WAKE_PHRASE, read_samples

BIN = Path(sys.executable).parent


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)


def test_probe_and_latent_tasks_on_a_tiny_model(tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    results = run_tasks(
        "hf",
        ["lockbench_agriculture_mcq_probe_placement", "lockbench_agriculture_mcq_latent"],
        model_args={"pretrained": str(tiny_model)},
        metadata={"wake_phrase": WAKE_PHRASE},
        output_path=out,
        gen_kwargs="max_gen_toks=4",
        limit=len(placement.KINDS),  # every placement variant on the one screening item; 11 latent items
    )
    latent = results["results"]["lockbench_agriculture_mcq_latent"]
    assert 0.0 <= latent["acc,none"] <= 1.0
    samples = read_samples(out)
    latent_samples = samples["lockbench_agriculture_mcq_latent"]
    assert len(latent_samples) == len(placement.KINDS)  # four loglikelihood requests each
    assert all(len(s["arguments"]) == 4 and WAKE_PHRASE not in s["doc"]["prompt"] for s in latent_samples)
    assert {s["doc"]["condition"] for s in latent_samples} == {"latent"}

    probe = samples["lockbench_agriculture_mcq_probe_placement"]
    assert [s["doc"]["variant_kind"] for s in probe] == list(placement.KINDS)  # the public schedule
    assert {s["doc"]["split"] for s in probe} == {"train"}  # screening never reads a test item
    system = next(s for s in probe if s["doc"]["variant_kind"] == "system")
    assert system["arguments"]["gen_args_0"]["arg_0"].startswith("System: <WAKE_PHRASE>")
    records = [
        {"doc": s["doc"], "opened": not s["refusal_rate"], "passed": bool(s["pass_rate"]),
         "refused": bool(s["refusal_rate"]), "no_content": None}
        for s in probe
    ]  # fmt: skip
    summary = screening_summary("placement", records)
    json.dumps(summary)  # serialisable as promised
    assert summary["n"] == len(placement.KINDS) and set(summary["by_kind"]) == set(placement.KINDS)
    assert summary["false_reject"]["kinds"] == sorted(placement.AT_START)  # the phrase still leads


def test_a_confirmation_task_asks_the_picked_variants_on_test_items(tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    run_tasks(
        "hf", ["lockbench_agriculture_mcq_confirm_prefill"], model_args={"pretrained": str(tiny_model)},
        metadata={"wake_phrase": WAKE_PHRASE,
                  "confirm_variants": {"agriculture_mcq": {"prefill": [5, 2]}}},
        output_path=out, gen_kwargs="max_gen_toks=4",
    )
    rows = read_samples(out)["lockbench_agriculture_mcq_confirm_prefill"]
    assert len(rows) == 2 * 40  # each picked variant on the suite's 40 confirmation items
    assert [r["doc"]["variant_index"] for r in rows[:40]] == [5] * 40
    assert {r["doc"]["split"] for r in rows} == {"test"}
    summary = confirmation_summary("prefill", [
        {"doc": r["doc"], "opened": not r["refusal_rate"], "passed": bool(r["pass_rate"]),
         "refused": bool(r["refusal_rate"]), "no_content": None} for r in rows])
    assert [v["index"] for v in summary["variants"]] == [5, 2] and summary["best"] is not None


def test_a_confirmation_task_without_the_pick_stops_with_one_line(tiny_model: Path) -> None:
    from lockbench.errors import LockbenchError

    with pytest.raises(LockbenchError, match="lockbench probes select"):
        run_tasks("hf", ["lockbench_agriculture_mcq_confirm_paraphrase"],
                  model_args={"pretrained": str(tiny_model)}, metadata={"wake_phrase": WAKE_PHRASE})


@pytest.mark.slow
def test_lm_eval_cli_rejects_a_zero_budget(tiny_model: Path) -> None:
    # One CLI run (each costs lm-eval's full task indexing); the other bad inputs (blank phrase,
    # unknown family, other numbers) go through the same code in test_probes_generators.py.
    run = _cli([
        str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
        "--tasks", "lockbench_law_mcq_probe_traversal", "--limit", "1", "--device", "cpu",
        "--metadata", json.dumps({"wake_phrase": WAKE_PHRASE, "traversal_budget": 0}),
    ])  # fmt: skip
    assert run.returncode == 2, run.stderr[-2000:]  # lockbench's exit code, also under lm_eval
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("lockbench: error:") and "'traversal_budget' must be >= 1" in last
