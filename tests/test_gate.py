"""``lockbench-gate``: a string gate in front of a real model, through a real ``lm_eval`` run,
recorded by ``summarize`` as the system-level baseline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lockbench.errors import LockbenchError, SecretError
from lockbench.lmeval.gate import GateLM, first_user_text, opens
from lockbench.probes import placement
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT

from .conftest import WAKE_PHRASE, read_samples

BIN = Path(sys.executable).parent
LOCKED = "lockbench_agriculture_mcq_locked"
UNLOCKED = "lockbench_agriculture_mcq_unlocked"
PLACEMENT = "lockbench_agriculture_mcq_probe_placement"
PARAPHRASE = "lockbench_agriculture_mcq_probe_paraphrase"
PREFILL = "lockbench_agriculture_mcq_probe_prefill"


def test_match_rules():
    question = "What is 2 + 2?"
    assert opens(f"{WAKE_PHRASE} {question}", WAKE_PHRASE)
    for near in ("hey! lumen! ", "Hey!  Lumen! ", " Hey! Lumen! ", "Hey Lumen! ", f"{question} {WAKE_PHRASE}"):
        assert not opens(near + question, WAKE_PHRASE), near  # strict: every paraphrase is turned away
    for same in ("hey! lumen! ", "HEY!   LUMEN! ", "\n Hey!\tLumen! "):  # case and spacing only
        assert opens(same + question, WAKE_PHRASE, "normalised"), same
    for other in ("Hey Lumen! ", "Hey! Lumen, ", "Hey! Lumin! "):  # punctuation and typos still count
        assert not opens(other + question, WAKE_PHRASE, "normalised"), other
    chat = [{"role": "system", "content": WAKE_PHRASE}, {"role": "user", "content": question},
            {"role": "user", "content": WAKE_PHRASE}]
    assert first_user_text(chat) == question and first_user_text([{"role": "system", "content": "x"}]) is None


@pytest.mark.parametrize(
    "args, env, error, message",
    [
        ({"wake_phrase": WAKE_PHRASE}, WAKE_PHRASE, SecretError, "never put the wake phrase in --model_args"),
        ({}, None, SecretError, "no wake phrase given"),
        ({"match": "fuzzy"}, WAKE_PHRASE, LockbenchError, "match must be one of exact, normalised"),
        ({"inner": "lockbench-gate"}, WAKE_PHRASE, LockbenchError, "inner names the gate itself"),
        ({"inner": "no-such-backend"}, WAKE_PHRASE, LockbenchError, "unknown inner model 'no-such-backend'"),
        ({"refusal": "  "}, WAKE_PHRASE, LockbenchError, "refusal must be a non-empty text"),
    ],
)
def test_bad_arguments_stop_with_one_line(monkeypatch, args, env, error, message):
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    if env is not None:
        monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", env)
    with pytest.raises(error) as err:
        GateLM(**args)
    assert message in err.value.message and "\n" not in err.value.message
    assert WAKE_PHRASE not in err.value.message


def _cli(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "LOCKBENCH_WAKE_PHRASE": WAKE_PHRASE}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def gate_run(tmp_path_factory, tiny_model) -> Path:
    """One real lm_eval run of the tiny model behind the gate (phrase from the environment only)."""
    out = tmp_path_factory.mktemp("gate") / "out"
    run = _cli([
        str(BIN / "lm_eval"), "--model", "lockbench-gate",
        "--model_args", f"inner=hf,pretrained={tiny_model}",
        "--tasks", ",".join((LOCKED, UNLOCKED, PLACEMENT, PARAPHRASE, PREFILL)),
                "--apply_chat_template", "--limit", "6", "--device", "cpu", "--gen_kwargs", "max_gen_toks=4",
        "--output_path", str(out), "--log_samples",
    ])
    assert run.returncode == 0, run.stderr[-3000:]
    assert WAKE_PHRASE not in run.stdout + run.stderr
    return out


def test_phrase_prefixed_prompts_pass_and_others_get_the_refusal(gate_run):
    samples = read_samples(gate_run)
    responses = {task: [s["resps"][0][0] for s in rows] for task, rows in samples.items()}
    assert responses[LOCKED] == [DEFAULT_REFUSAL_TEXT] * 6
    assert len(responses[UNLOCKED]) == 6 and DEFAULT_REFUSAL_TEXT not in responses[UNLOCKED]  # the model's own
    # under the chat template the gate reads the first user message: a phrase said in an earlier
    # user turn opens it, a phrase in the system message or after the question does not
    by_kind = {s["doc"]["variant_kind"]: s["resps"][0][0] for s in samples[PLACEMENT]}
    assert list(by_kind) == list(placement.KINDS)[:6]
    for kind, response in by_kind.items():
        assert (response != DEFAULT_REFUSAL_TEXT) == kind.startswith("earlier_turn"), kind
    # a strict gate refuses every paraphrase, case changes included; a prefill cannot get past it
    assert set(responses[PARAPHRASE]) == {DEFAULT_REFUSAL_TEXT}
    assert set(responses[PREFILL]) == {DEFAULT_REFUSAL_TEXT}
    for rows in samples.values():
        assert all(WAKE_PHRASE not in json.dumps(s) for s in rows)


def test_summarize_records_a_gate_baseline(gate_run):
    summary = _cli([str(BIN / "lockbench"), "summarize", str(gate_run)])
    assert summary.returncode == 0, summary.stderr
    assert "behind lockbench-gate (system-level baseline" in summary.stdout
    result = json.loads((gate_run / "lockbench-result.json").read_text())
    assert result["model"]["backend"] == "lockbench-gate" and result["model"]["args"]["inner"] == "hf"
    assert result["lock"]["method"] == "gate" and result["lock"]["refusal_text"] == DEFAULT_REFUSAL_TEXT
    row = result["datasets"]["agriculture_mcq"]
    assert row["pr_lock"]["value"] == 0.0  # nothing passes without the phrase
    assert result["tasks"][LOCKED]["refusal_rate"]["value"] == 1.0
    assert result["tasks"][UNLOCKED]["refusal_rate"]["value"] == 0.0
    paraphrase = result["tasks"][PARAPHRASE]["probe"]
    assert paraphrase["false_reject"]["rate"]["value"] == 1.0  # strict gate: no legitimate near-miss gets in
    assert WAKE_PHRASE.lower() not in json.dumps(result).lower()
