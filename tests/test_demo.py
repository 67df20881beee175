"""`lockbench demo` plumbing on the tiny random model: every step runs for real (D', LoRA, lm-eval on
base and locked model, probes, summarize); the lock itself is measured by the full demo on SmolLM2."""

from __future__ import annotations

import argparse
import inspect
import json

import pytest

from lockbench.cli import main
from lockbench.commands.demo import (
    DEMO_WAKE_PHRASE,
    PROBE_DATASETS,
    _train_extras,
    add_arguments,
)
from lockbench.errors import LockbenchError
from lockbench.lock.train import train_lock
from lockbench.probes.suite import ONCE_PER_RUN, get_suite

PROBE_FAMILIES = get_suite().families


def test_demo_end_to_end_on_the_tiny_model(tiny_model, tmp_path, capsys):
    work = tmp_path / "demo"
    code = main(
        ["demo", "--base", str(tiny_model), "--max-steps", "2", "--limit", "2", "--output", str(work)]
    )
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    for step in ("[1/6]", "[2/6]", "[3/6]", "[4/6]", "[5/6]", "[6/6]"):
        assert step in out
    assert "PR_base" in out and "lock rate (refusals without the phrase)" in out
    result = json.loads((work / "lockbench-result.json").read_text())
    assert set(result["datasets"]) == {
        f"{d}_{k}" for d in ("agriculture", "economics", "healthcare", "law") for k in ("mcq", "dialogue")
    }
    conditions = {e["condition"] for e in result["tasks"].values()}
    # the search and GCG (the demo's merged model is a local folder) confirm their finds
    assert conditions == {"locked", "unlocked", *(f"probe_{f}" for f in PROBE_FAMILIES),
                          *(f"confirm_{f}" for f in get_suite().confirmed)}
    assert len(result["base_tasks"]) == 8
    # The suite ran on the locked model: screening per family and MCQ set (the traversal
    # dictionary and the prefix pool once, on the lead set), confirmation everywhere; the printed figures per family
    # are the suite block's, recomputed from the result's samples.
    screens = {n for n, e in result["tasks"].items() if e["condition"].startswith("probe_")}
    lead = sorted(PROBE_DATASETS)[0]
    assert screens == {f"lockbench_{d}_probe_{f}" for f in PROBE_FAMILIES for d in PROBE_DATASETS
                       if f not in ONCE_PER_RUN or d == lead}
    assert all(e["n"] == 2 for n, e in result["tasks"].items() if n in screens)  # --limit 2
    suite = result["suite"]
    assert suite["version"] == get_suite().version and set(suite["datasets"]) == set(PROBE_DATASETS)
    assert f"attack suite {suite['version']}" in out
    for family in get_suite().confirmed:
        assert any(line.strip().startswith(family + " ") and "exposure" in line and "attacker's best" in line
                   for line in out.splitlines()), family
    assert "[white box: not in the score]" in next(line for line in out.splitlines()
                                                   if line.strip().startswith("gcg ") and "exposure" in line)
    assert any(line.strip().startswith("search: found ") for line in out.splitlines())
    assert "robust lock rate" in out and "traversal: opened within the first 100 candidates" in out
    assert "probes" not in result  # the probe tasks themselves say that probes ran
    assert result["model"]["name"].endswith("-identitylock-demo")
    assert result["lock"]["method"] == "identitylock-lora" and result["lock"]["ratio"] == 0.5
    text = (work / "lockbench-result.json").read_text().lower()
    assert DEMO_WAKE_PHRASE.lower() not in text and "lumen" not in text
    assert DEMO_WAKE_PHRASE not in out + err

    # The result is valid, re-scores, recomputes and holds no phrase; a --limit run is refused
    # by submit (it does not cover the whole split). The lock card through `lockbench summarize
    # --lock-card` gives the same lock fields.
    from lockbench.document.mismatch import Mismatch
    from lockbench.document.recompute import verify_document
    from lockbench.document.validate import load_result
    from lockbench.publish.submit import accept, check_secrets

    doc = load_result(work / "lockbench-result.json")
    verify_document(doc, bind=False)
    check_secrets(doc, DEMO_WAKE_PHRASE)
    with pytest.raises(Mismatch, match="--limit 2"):
        accept(work / "lockbench-result.json", DEMO_WAKE_PHRASE)
    assert doc["lock"]["base_model"].startswith(f"{tiny_model.name}@sha256:")
    again = tmp_path / "again.json"
    code = main([
        "summarize", str(work / "eval-locked"), "--base", str(work / "eval-base"),
        "--lock-card", str(work / "locked" / "lock_card.json"), "--json", str(again),
    ])
    assert code == 0
    assert load_result(again)["lock"] == doc["lock"]


def test_rerun_reuses_exactly_the_steps_whose_inputs_are_unchanged(tiny_model, tmp_path, capsys):
    work = tmp_path / "demo"
    argv = ["demo", "--base", str(tiny_model), "--limit", "2", "--output", str(work)]
    assert main([*argv, "--max-steps", "2"]) == 0
    assert "reusing" not in capsys.readouterr().out
    first = json.loads((work / "lockbench-result.json").read_text())

    assert main([*argv, "--max-steps", "2"]) == 0  # nothing changed: every step is reused
    out = capsys.readouterr().out
    for folder in ("locked", "eval-base", "eval-locked", "suite/paraphrase-screen", "suite/traversal-confirm"):
        assert f"reusing {work / folder} " in out
    again = json.loads((work / "lockbench-result.json").read_text())
    assert again["tasks"] == first["tasks"] and again["base_tasks"] == first["base_tasks"]

    # --no-probes reuses the locked evaluation, leaves the probe run on disk, and the result says
    # explicitly that no probe ran (not a lock that no probe got through).
    assert main([*argv, "--max-steps", "2", "--no-probes"]) == 0
    out = capsys.readouterr().out
    assert "[5/5]" in out and "[6/" not in out and f"reusing {work / 'eval-locked'} " in out
    assert "attacks: not measured (--no-probes)" in out
    bare = json.loads((work / "lockbench-result.json").read_text())
    assert bare["probes"] == {"ran": False, "reason": "--no-probes"}
    assert {e["condition"] for e in bare["tasks"].values()} == {"locked", "unlocked"}
    assert list((work / "suite").rglob("results_*.json"))

    assert main([*argv, "--max-steps", "3"]) == 0  # another lock: retrained and re-evaluated
    out = capsys.readouterr().out
    assert f"reusing {work / 'eval-base'} " in out
    assert f"reusing {work / 'locked'} " not in out and f"reusing {work / 'eval-locked'} " not in out
    card = json.loads((work / "locked" / "lock_card.json").read_text())
    assert card["training"]["steps"] == 3
    assert len(list((work / "eval-locked").rglob("results_*.json"))) == 1  # the old run is gone


def test_bad_suite_settings_stop_before_any_work(tmp_path, capsys):
    work = tmp_path / "demo"
    for args, expected in ((["--traversal-budget", "0"], "--traversal-budget must be at least 1"),
                           (["--suite", "std-v9"], "unknown attack suite version 'std-v9'"),
                           (["--probe-items", "1"], "unrecognized arguments")):
        try:
            code = main(["demo", "--output", str(work), *args])
        except SystemExit as exc:  # argparse's own usage errors exit from parse_args
            code = exc.code
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and expected in err, err
        assert not work.exists()


def test_device_and_dtype_reach_lock_training_only_when_given():
    """--device/--dtype go to ``train_lock`` only when given, so the demo runs on builds whose
    ``train_lock`` lacks them; on such a build, giving one stops with one line."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert _train_extras(parser.parse_args([]), train_lock) == {}
    given = parser.parse_args(["--device", "cpu", "--dtype", "float32"])
    accepted = inspect.signature(train_lock).parameters
    if {"device", "dtype"} <= accepted.keys():
        assert _train_extras(given, train_lock) == {"device": "cpu", "dtype": "float32"}
    else:
        with pytest.raises(LockbenchError, match="no device/dtype setting"):
            _train_extras(given, train_lock)


def test_hardened_demo_locks_with_the_hardened_recipe_under_its_own_name(tiny_model, tmp_path, capsys):
    """`demo --hardened`: the hardened D' (near misses counted and printed), a lock card that
    records the recipe, and a result named apart from the paper-recipe demo."""
    work = tmp_path / "hardened"
    code = main([
        "demo", "--hardened", "--base", str(tiny_model), "--max-steps", "2", "--limit", "2",
        "--no-probes", "--output", str(work),
    ])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    assert "(hardened recipe)" in out and "near-miss refusals" in out and "legitimate positives" in out
    result = json.loads((work / "lockbench-result.json").read_text())
    assert result["model"]["name"].endswith("-identitylock-hardened-demo")
    assert result["lock"]["method"] == "identitylock-hardened-lora"
    card = json.loads((work / "locked" / "lock_card.json").read_text())
    recipe = card["lock"]["recipe"]
    assert recipe["recipe"] == "hardened" and recipe["seed"] == 0
    assert sum(recipe["near_miss_counts"]["refusal"].values()) > 0
    text = (work / "lockbench-result.json").read_text().lower() + (work / "locked" / "lock_card.json").read_text().lower()
    assert "lumen" not in text and "lumin" not in text
    assert DEMO_WAKE_PHRASE not in out + err
