"""`lockbench verify`: re-generating a fresh stratified sample of a result's items on the claimed
model (and base model) reproduces its responses; a forged task is always sampled and caught; the
record is bound to the file, its model arguments and its weights, so a copied or unbound record
never shows "verified"."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys

import pytest

from lockbench.digest import file_sha256
from lockbench.document.summarize import build_result
from lockbench.publish.verify import (
    SELF_REPORTED,
    fresh_seed,
    pick_samples,
    read_verification,
    sample_size,
    sections,
    self_reported,
    self_reported_cell,
    verification_cell,
    verification_path,
)

from ._results_support import real_output, run_cli, write
from .conftest import WAKE_PHRASE

LOCKED = "lockbench_agriculture_mcq_locked"


@pytest.fixture(scope="module")
def real_result(tmp_path_factory, tiny_model) -> dict:
    return json.loads(json.dumps(build_result(real_output(tmp_path_factory, tiny_model), phrases=[WAKE_PHRASE])))


def _recount(doc: dict) -> None:
    from lockbench.document.entry import dataset_summary, task_counts

    for section in ("tasks", "base_tasks"):
        for entry in (doc.get(section) or {}).values():
            entry.update(task_counts(entry["samples"]))
    doc["datasets"] = dataset_summary(doc["tasks"], doc.get("base_tasks"))


@pytest.fixture(scope="module")
def with_base(real_result) -> dict:
    """The real run with base tasks: its locked task run on the base model, here the same tiny
    model (so a genuine re-generation on the base reproduces them)."""
    doc = copy.deepcopy(real_result)
    doc["base_tasks"] = {LOCKED: copy.deepcopy(doc["tasks"][LOCKED])}
    doc["base_model"] = copy.deepcopy(doc["model"])
    _recount(doc)
    return doc


def _with_attacks(doc: dict) -> dict:
    """A document with both attack blocks (task entries reused: only their shape matters here)."""
    from lockbench.document.attacks import (
        durability_block,
        durability_check,
        finetune_block,
        finetune_run,
    )

    doc = copy.deepcopy(doc)
    suite = {n: e for n, e in doc["tasks"].items() if e["condition"] in ("locked", "unlocked")}
    locked = {LOCKED: suite[LOCKED]}
    checks = {name: durability_check(copy.deepcopy(suite), suite, {}) for name in ("bf16", "int8", "benign")}
    checks["merge"] = {"settings": {}, "ran": False, "reason": "a full model"}
    doc["attacks"] = {
        "finetune": finetune_block([finetune_run(0, 0, copy.deepcopy(suite)), finetune_run(8, 4, locked)], {}),
        "durability": durability_block(copy.deepcopy(suite), checks),
    }
    return doc


def _verify(path, tiny_model, capsys, monkeypatch, *extra):
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    return run_cli(["verify", path, "--model-args", f"pretrained={tiny_model}", "--device", "cpu", *extra], capsys)


def test_every_task_of_every_section_is_sampled(with_base) -> None:
    """Stratified: base tasks, every probe task and the attacks' evaluations of the locked model
    each get a sample, whatever the seed; the attacks that need a training are self-reported."""
    doc = _with_attacks(with_base)
    parts, reported = sections(doc)
    assert [p.name for p in parts] == ["tasks", "base_tasks", "attacks/finetune/k=0", "attacks/durability/before",
                                       "attacks/durability/bf16"]
    assert reported == ["attacks/finetune/k=8", "attacks/durability/benign", "attacks/durability/int8"]
    assert self_reported(doc) == reported and self_reported(with_base) == []
    assert self_reported_cell("8", doc, "finetune") == f"8 ({SELF_REPORTED})"
    assert self_reported_cell("8", with_base, "finetune") == "8"
    units = {(p.name, t) for p in parts for t in p.tasks}
    population = sum(len(e["samples"]) for p in parts for e in p.tasks.values())
    size = max(24, -(-population * 2 // 100))
    for seed in range(200):  # a forged task, or a forged base task, is in every sample
        picked = pick_samples(parts, seed)
        assert {(s, t) for s, tasks in picked.items() for t in tasks} == units
        assert sum(len(ids) for tasks in picked.values() for ids in tasks.values()) == size
    assert pick_samples(parts, 7) == pick_samples(parts, 7)  # --seed reproduces a record
    assert len({json.dumps(pick_samples(parts, fresh_seed()), sort_keys=True) for _ in range(5)}) == 5
    assert sample_size(100_000, 3) == 2_000 and sample_size(10, 30) == 30 and sample_size(10, 3, 5) == 5


@pytest.fixture(scope="module")
def verified(with_base, tiny_model, tmp_path_factory):
    """One real `lockbench verify --record` process (fresh seed) of the result with base tasks:
    (path, doc, record, its output)."""
    path = write(tmp_path_factory.mktemp("verified") / "run.json", with_base)
    env = dict(os.environ, LOCKBENCH_WAKE_PHRASE=WAKE_PHRASE)
    proc = subprocess.run(
        [sys.executable, "-m", "lockbench", "verify", str(path), "--model-args", f"pretrained={tiny_model}",
         "--base-model-args", f"pretrained={tiny_model}", "--device", "cpu", "--samples", "6", "--record"],
        capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return path, with_base, read_verification(path), proc.stdout


def test_real_result_verifies_and_the_record_is_bound(verified, tiny_model) -> None:
    path, doc, record, out = verified
    assert "matched 6 of 6" in out and "verified" in out and "(fresh)" in out
    assert record["verified"] and record["complete"] and record["match_rate"] == 1.0
    assert set(record["samples"]) == {"tasks", "base_tasks"}
    assert set(record["samples"]["tasks"]) == set(doc["tasks"]) and record["samples"]["base_tasks"][LOCKED]
    assert record["result_sha256"] == file_sha256(path) and record["seed_given"] is False
    assert record["weights_sha256"] == doc["model"]["weights_sha256"] is not None
    assert record["base_weights_sha256"] == doc["base_model"]["weights_sha256"]
    assert record["model_args"] == {"pretrained": tiny_model.name}  # a folder name, never a path
    assert record["base_model_args"] == {"pretrained": tiny_model.name}
    assert record["judge_rerun"] is False and record["llm_judged"] == [] and record["self_reported"] == []
    text = verification_path(path).read_text()
    assert str(tiny_model) not in text and WAKE_PHRASE.lower() not in text.lower()
    assert verification_cell(path, doc) == "yes (6 of 6)"


def test_seed_reproduces_a_record_and_no_seed_is_fresh(verified, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    path, doc, record, _ = verified
    again = write(tmp_path / "run.json", doc)
    common = ["--base-model-args", f"pretrained={tiny_model}", "--samples", "6", "--record"]
    code, _, err = _verify(again, tiny_model, capsys, monkeypatch, *common, "--seed", str(record["seed"]))
    assert code == 0, err
    reproduced = read_verification(again)
    assert reproduced["samples"] == record["samples"] and reproduced["seed_given"] is True
    code, _, err = _verify(again, tiny_model, capsys, monkeypatch, *common)
    assert code == 0, err
    assert read_verification(again)["seed"] != record["seed"]


def test_a_forged_base_task_is_caught(with_base, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    """The forgery the old round-robin missed: the evaluated model's samples genuine, the base
    run's invented. Base tasks are re-generated on the base model and always sampled."""
    doc = copy.deepcopy(with_base)
    for sample in doc["base_tasks"][LOCKED]["samples"]:
        sample["response"] = "A"
    path = write(tmp_path / "forged.json", doc)
    code, out, err = _verify(path, tiny_model, capsys, monkeypatch, "--base-model-args", f"pretrained={tiny_model}",
                             "--samples", "6", "--record")
    assert code == 1, err
    assert "NOT verified" in out and "mismatch base_tasks" in out
    record = read_verification(path)
    assert record["sections"]["tasks"]["matched"] == record["sections"]["tasks"]["checked"]
    assert record["sections"]["base_tasks"]["matched"] == 0 and not record["verified"]
    assert verification_cell(path, doc).startswith("no (")


def test_edited_responses_fail(real_result, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    doc = json.loads(json.dumps(real_result))
    for entry in doc["tasks"].values():
        for sample in entry["samples"]:
            sample["response"] = "Sorry, I cannot answer this question."
    path = write(tmp_path / "forged.json", doc)
    code, out, _ = _verify(path, tiny_model, capsys, monkeypatch, "--samples", "6", "--record")
    assert code == 1
    assert "matched 0 of 6" in out and "NOT verified" in out and out.count("mismatch ") == 6
    assert read_verification(path)["verified"] is False


def test_base_tasks_need_the_base_model_or_an_explicit_opt_out(with_base, tiny_model, tmp_path, capsys,
                                                                monkeypatch) -> None:
    path = write(tmp_path / "run.json", with_base)
    code, _, err = _verify(path, tiny_model, capsys, monkeypatch, "--samples", "4", "--record")
    assert code == 2 and err.count("\n") == 1 and "--base-model-args" in err
    assert not verification_path(path).exists()
    code, out, err = _verify(path, tiny_model, capsys, monkeypatch, "--samples", "4", "--no-base-check", "--record")
    assert code == 0, err
    assert "not checked: base_tasks" in out
    record = read_verification(path)
    assert record["complete"] is False and record["not_checked"] == {"base_tasks": "--no-base-check"}
    assert "base_tasks" not in record["samples"]
    assert verification_cell(path, with_base) == f"no ({record['matched']} of {record['checked']})"


def test_wrong_weights_stop_with_one_line(real_result, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    other = tmp_path / "other-model"
    shutil.copytree(tiny_model, other)
    (other / "extra.bin").write_bytes(b"not the same weights")
    path = write(tmp_path / "run.json", real_result)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    code, _, err = run_cli(["verify", path, "--model-args", f"pretrained={other}", "--record"], capsys)
    assert code == 2 and err.count("\n") == 1 and "wrong model" in err
    assert str(tmp_path) not in err and not verification_path(path).exists()
    code, _, err = run_cli(["verify", path, "--model-args", "pretrained=org/some-hub-model", "--record"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no local model folder" in err


def test_a_copied_record_does_not_verify_another_file(verified, tmp_path) -> None:
    """The record of one file, copied beside another (the same model, one changed space): the
    leaderboard says it does not match. A record with other weights does not verify either."""
    from lockbench.publish.leaderboard import build_row

    path, doc, record, _ = verified
    other_doc = copy.deepcopy(doc)
    other_doc["tasks"][LOCKED]["samples"][0]["response"] += " "
    other = write(tmp_path / "results" / "m" / "other.json", other_doc)
    shutil.copy(verification_path(path), verification_path(other))
    assert verification_cell(other, other_doc) == "no (record does not match this file)"
    assert build_row(other, other_doc, 1).verified == "no (record does not match this file)"
    assert build_row(path, doc, 1).verified == "yes (6 of 6)"
    same = tmp_path / "same" / "run.json"  # the same bytes elsewhere: still bound
    same.parent.mkdir()
    shutil.copy(path, same)
    shutil.copy(verification_path(path), verification_path(same))
    assert verification_cell(same, doc) == "yes (6 of 6)"
    forged = dict(record, weights_sha256="0" * 64)  # a record for other weights
    verification_path(same).write_text(json.dumps(forged))
    assert verification_cell(same, doc) == "no (record does not match this file)"
    unnamed = copy.deepcopy(doc)  # a result that names no weights binds no record
    unnamed["model"]["weights_sha256"] = None
    verification_path(same).write_text(json.dumps(record))
    assert verification_cell(same, unnamed) == "no (record does not match this file)"
    old = {k: v for k, v in record.items() if k not in ("result_sha256",)}  # a v1 record
    verification_path(same).write_text(json.dumps(old))
    assert verification_cell(same, doc) == "no (record does not match this file)"


def test_bad_arguments_one_line(real_result, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    path = write(tmp_path / "run.json", real_result)
    code, _, err = _verify(path, tiny_model, capsys, monkeypatch, "--min-match", "1.5")
    assert code == 2 and err.count("\n") == 1 and "--min-match" in err
    code, _, err = _verify(path, tiny_model, capsys, monkeypatch, "--base-model-args", f"pretrained={tiny_model}")
    assert code == 2 and err.count("\n") == 1 and "no base_tasks" in err
    code, _, err = _verify(path, tiny_model, capsys, monkeypatch, "--judge", "keyword")
    assert code == 2 and err.count("\n") == 1 and "--judge" in err
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE")
    code, _, err = run_cli(["verify", path, "--model-args", f"pretrained={tiny_model}"], capsys)
    assert code == 2 and err.count("\n") == 1 and "LOCKBENCH_WAKE_PHRASE" in err


def test_an_llm_judge_is_re_run_on_the_sampled_responses(tmp_path_factory, tiny_model, tmp_path, capsys,
                                                         monkeypatch) -> None:
    """A result judged by an LLM judge (the local `hf` judge on the tiny model: nobody re-runs it
    on submit, its verdicts are recorded): `--judge` re-runs it on the sampled responses and
    records the agreement; without it the record says the judge was not re-run."""
    monkeypatch.setenv("LOCKBENCH_JUDGE_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    folder = tmp_path / "out"
    shutil.copytree(real_output(tmp_path_factory, tiny_model), folder)
    # batch 1: no padding, so a borderline p(yes) vs p(no) cannot flip between the two runs
    judge = json.dumps({"name": "hf", "model": str(tiny_model), "batch_size": 1})
    judged = tmp_path / "judged.json"
    code, _, err = run_cli(["judge", folder, "--judge", judge, "--json-path", judged, "--quiet"], capsys)
    assert code == 0, err
    assert any(s.get("verdict") for t in json.loads(judged.read_text())["tasks"].values() for s in t["samples"])
    code, out, err = _verify(judged, tiny_model, capsys, monkeypatch, "--samples", "4", "--record", "--judge", judge)
    assert code == 0, err
    record = read_verification(judged)
    assert record["llm_judged"] == ["hf"] and record["judge_rerun"] is True
    agreement = record["judge_agreement"]
    assert agreement["checked"] >= 1 and agreement["agreed"] == agreement["checked"]
    code, out, err = _verify(judged, tiny_model, capsys, monkeypatch, "--samples", "4", "--record")
    assert code == 0, err
    assert "not re-run" in out and read_verification(judged)["judge_rerun"] is False


def test_an_attack_result_has_its_locked_model_runs_re_generated(tiny_model, tmp_path, capsys, monkeypatch) -> None:
    """A real `lockbench attack durability --checks bf16,benign` result: verify re-generates the
    locked model as given (`tasks`, durability `before`) and the bf16 check (the same weights in
    bfloat16); the owner's fine-tuning (`benign`) needs a training and is recorded as
    self-reported."""
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    work = tmp_path / "attack"
    code, _, err = run_cli(["attack", "durability", "--model", tiny_model, "--checks", "bf16,benign",
                            "--benign-steps", "1", "--batch-size", "2", "--limit", "3", "--datasets",
                            "agriculture_mcq", "--max-gen-toks", "8", "-o", work, "--no-progress"], capsys)
    assert code == 0, err
    result = work / "lockbench-result.json"
    code, out, err = _verify(result, tiny_model, capsys, monkeypatch, "--record")
    assert code == 0, err
    record = read_verification(result)
    assert set(record["samples"]) == {"tasks", "attacks/durability/before", "attacks/durability/bf16"}
    assert record["self_reported"] == ["attacks/durability/benign"] and "self-reported" in out
    assert all(c["checked"] == c["matched"] >= 2 for c in record["sections"].values())
    doc = json.loads(result.read_text())
    assert self_reported_cell("x", doc, "durability") == "x (self-reported)"
