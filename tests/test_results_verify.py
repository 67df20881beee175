"""`lockbench verify`: re-generating a sample of a result's items on the claimed model reproduces
its responses; a result whose responses were edited is not verified."""

from __future__ import annotations

import json

import pytest

from lockbench.results.summarize import build_result
from lockbench.results.verify import pick_samples, read_verification, verification_path

from ._results_support import real_output, run_cli, write
from .conftest import WAKE_PHRASE


@pytest.fixture(scope="module")
def real_result(tmp_path_factory, tiny_model) -> dict:
    return build_result(real_output(tmp_path_factory, tiny_model), phrases=[WAKE_PHRASE])


def _verify(path, tiny_model, capsys, monkeypatch, *extra):
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    return run_cli(["verify", path, "--model-args", f"pretrained={tiny_model}", "--device", "cpu",
                    "--samples", "6", *extra], capsys)


def test_pick_is_seeded_and_spread(real_result) -> None:
    first = pick_samples(real_result, 6, seed=0)
    assert first == pick_samples(real_result, 6, seed=0)
    assert first != pick_samples(real_result, 6, seed=1)
    assert set(first) == set(real_result["tasks"])  # round-robin: every task gets its share
    assert sum(map(len, first.values())) == 6


def test_real_result_verifies_and_is_recorded(real_result, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    path = write(tmp_path / "run.json", real_result)
    code, out, err = _verify(path, tiny_model, capsys, monkeypatch, "--record")
    assert code == 0, err
    assert "matched 6 of 6" in out and "verified" in out
    record = read_verification(path)
    assert record is not None and record["verified"] and record["match_rate"] == 1.0
    assert WAKE_PHRASE.lower() not in verification_path(path).read_text().lower()


def test_edited_responses_fail(real_result, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    doc = json.loads(json.dumps(real_result))
    for entry in doc["tasks"].values():
        for sample in entry["samples"]:
            sample["response"] = "Sorry, I cannot answer this question."
    path = write(tmp_path / "forged.json", doc)
    code, out, _ = _verify(path, tiny_model, capsys, monkeypatch, "--record")
    assert code == 1
    assert "matched 0 of 6" in out and "NOT verified" in out and out.count("mismatch ") == 6
    assert read_verification(path)["verified"] is False


def test_bad_arguments_one_line(real_result, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    path = write(tmp_path / "run.json", real_result)
    code, _, err = _verify(path, tiny_model, capsys, monkeypatch, "--min-match", "1.5")
    assert code == 2 and err.count("\n") == 1 and "--min-match" in err
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE")
    code, _, err = run_cli(["verify", path, "--model-args", f"pretrained={tiny_model}"], capsys)
    assert code == 2 and err.count("\n") == 1 and "LOCKBENCH_WAKE_PHRASE" in err
