"""`lockbench redact` on a REAL lm-eval output folder: no trace of the phrase in any file."""

from __future__ import annotations

import json

import pytest

from lockbench.document.lmeval_output import lmeval_doc_hash, read_samples
from lockbench.document.redact import find_traces, phrase_secrets
from lockbench.document.summarize import build_result
from lockbench.secrets import PLACEHOLDER, verify_hash

from ._results_support import copy_output, real_output, run_cli
from .conftest import WAKE_PHRASE


@pytest.fixture(scope="session")
def lmeval_out(tmp_path_factory, tiny_model):
    return real_output(tmp_path_factory, tiny_model, raw=True)  # the phrase in it: what redact is for


def _all_text(root) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*")) if p.is_file()
    )


def test_redact_leaves_no_trace_in_any_file(lmeval_out, tmp_path, capsys) -> None:
    folder = copy_output(lmeval_out, tmp_path / "out")
    # The test means something only if lm-eval really wrote the phrase (prompts, metadata).
    assert WAKE_PHRASE in _all_text(folder)
    samples_before = {
        p.name: read_samples(p) for p in folder.rglob("samples_*.jsonl")
    }
    assert len(samples_before) == 3  # locked, unlocked, probe_paraphrase

    code, out, err = run_cli(["redact", folder], capsys)
    assert code == 0, err
    assert "redacted" in out

    # No file, no letter case, no probe variant, no JSON escape of it.
    assert find_traces(folder, [WAKE_PHRASE]) == []
    text = _all_text(folder)
    assert WAKE_PHRASE.lower() not in text.lower()
    assert "lumen" not in text.lower()  # the name alone is a variant too
    assert PLACEHOLDER in text
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]  # atomic: no leftovers

    # lm-eval's hashes covered the phrase (an offline oracle): they are recomputed over the
    # redacted text, so they still match what the file shows.
    for path in folder.rglob("samples_*.jsonl"):
        before = {r["doc_id"]: r for r in samples_before[path.name]}
        for row in read_samples(path):
            assert row["doc_hash"] == lmeval_doc_hash(row["doc"])
            if WAKE_PHRASE in json.dumps(before[row["doc_id"]]["doc"]):
                assert row["doc_hash"] != before[row["doc_id"]]["doc_hash"]

    # The redacted folder still summarizes to the same numbers, and the kept salted hash
    # verifies the phrase.
    original = build_result(lmeval_out)
    redacted = build_result(folder)
    for name, task in original["tasks"].items():
        assert redacted["tasks"][name]["samples"] == task["samples"]
        assert redacted["tasks"][name]["pass_rate"] == task["pass_rate"]
    assert verify_hash(WAKE_PHRASE, redacted["lock"]["wake_phrase_hash"])


def test_redact_twice_and_with_env_phrase(lmeval_out, tmp_path, capsys, monkeypatch) -> None:
    folder = copy_output(lmeval_out, tmp_path / "out")
    assert run_cli(["redact", folder], capsys)[0] == 0
    code, out, _ = run_cli(["redact", folder], capsys)
    assert code == 0 and "already redacted" in out
    # A phrase given by the environment is searched for too (here nothing is left to find).
    monkeypatch.setenv("MY_PHRASE", WAKE_PHRASE)
    code, out, err = run_cli(["redact", folder, "--wake-phrase-env", "MY_PHRASE"], capsys)
    assert code == 0, err
    assert "redacted 0 of" in out


def test_redact_bad_input_one_line(tmp_path, capsys) -> None:
    code, _, err = run_cli(["redact", tmp_path / "missing"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no such folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(["redact", tmp_path / "empty"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no lm-eval results" in err
    code, _, err = run_cli(["redact", tmp_path / "empty", "--wake-phrase-env", "UNSET_VAR_X"], capsys)
    assert code == 2 and "UNSET_VAR_X" in err


def test_truncated_samples_file_stops_without_partial_output(lmeval_out, tmp_path, capsys) -> None:
    folder = copy_output(lmeval_out, tmp_path / "out")
    path = next(folder.rglob("samples_*.jsonl"))
    text = path.read_text()
    path.write_text(text[: len(text) // 2])  # cut mid-line, like a crashed copy
    code, _, err = run_cli(["summarize", folder, "--json", tmp_path / "r.json"], capsys)
    assert code == 2 and err.count("\n") == 1 and "line" in err
    assert not (tmp_path / "r.json").exists()


def test_variants_are_secrets() -> None:
    secrets = phrase_secrets([WAKE_PHRASE])
    assert WAKE_PHRASE in secrets
    assert len(secrets) > 1  # lockbench.probes.secret_variants: case, typos, the name alone...
    assert any(s.lower() == "lumen" for s in secrets)
