"""Every backend x ``--log_samples`` x the start-up hook on, each a real ``lm_eval`` run: the
in-process ``hf`` backend, ``local-completions`` and ``local-chat-completions`` against a real
``lockbench serve-locked`` on 127.0.0.1, and ``lockbench-gate`` over both API backends.

Each run writes its results and samples (an API run once exited 0 having written nothing: the
redacted prompt hash was ``None`` for chat-API prompts, and lm-eval swallowed the TypeError), the
files are secret-free, every lm-eval hash is recomputed over the redacted text in lm-eval's own
serialisation, and ``lockbench summarize`` gives the API run the same figures as ``hf`` on the same
weights (the tiny random model writes every token, so identity is really tested).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lockbench.document.lmeval_output import find_runs, read_samples
from lockbench.probes import secret_variants

BIN = Path(sys.executable).parent
PHRASE = "Hey! Quillomer!"  # no other process or file on the machine holds it
API_KEY = "lb-test-key"
TASKS = ("lockbench_agriculture_mcq_locked,lockbench_agriculture_mcq_unlocked,"
         "lockbench_agriculture_mcq_probe_placement,lockbench_agriculture_mcq_probe_prefill")
COMMON = ["--tasks", TASKS, "--limit", "4",
          "--gen_kwargs", "max_gen_toks=6,do_sample=False,temperature=0", "--log_samples"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LOCKBENCH_DISABLE_LM_EVAL_HOOK"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               LOCKBENCH_WAKE_PHRASE=PHRASE, OPENAI_API_KEY=API_KEY)
    return env


@pytest.fixture(scope="module")
def served(tiny_model):
    """``lockbench serve-locked`` (the command, as a user starts it) on a free port; its base URL
    and model name are read from what it prints. Stopped with Ctrl-C whatever the tests do."""
    env = {**_env(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(BIN / "lockbench"), "serve-locked", str(tiny_model), "--port", "0",
                             "--num-concurrent", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        url = model = None
        deadline = time.monotonic() + 600
        lines = []
        while time.monotonic() < deadline and proc.poll() is None:
            line = proc.stdout.readline()
            lines.append(line)
            found = re.search(r"base URL: (\S+)\s+model name: (\S+)", line)
            if found:
                url, model = found.groups()
                break
        assert url, "serve-locked did not come up:\n" + "".join(lines[-20:])
        yield url, model
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _lm_eval(out: Path, *args: str) -> subprocess.CompletedProcess:
    argv = [str(BIN / "lm_eval"), *args, *COMMON, "--output_path", str(out)]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _backends(tiny_model: Path, url: str, model: str) -> dict[str, list[str]]:
    chat_api = f"model={model},base_url={url}/chat/completions,num_concurrent=2"
    completions_api = (f"model={model},base_url={url}/completions,tokenized_requests=False,"
                       "tokenizer_backend=huggingface,num_concurrent=2")
    hf = f"pretrained={tiny_model},dtype=float32"
    return {
        "hf": ["--model", "hf", "--model_args", hf, "--device", "cpu"],
        "hf-chat": ["--model", "hf", "--model_args", hf, "--device", "cpu", "--apply_chat_template"],
        "completions": ["--model", "local-completions", "--model_args", completions_api],
        "chat": ["--model", "local-chat-completions", "--model_args", chat_api, "--apply_chat_template"],
        "gate-completions": ["--model", "lockbench-gate", "--model_args",
                             f"inner=local-completions,{completions_api}"],
        "gate-chat": ["--model", "lockbench-gate", "--model_args", f"inner=local-chat-completions,{chat_api}",
                      "--apply_chat_template"],
    }


# Which run each API run must agree with: the same weights in process, same prompt format.
SAME_AS = {"completions": "hf", "chat": "hf-chat", "gate-completions": "hf", "gate-chat": "hf-chat"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model, served) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("backend-matrix")
    outs = {}
    for name, args in _backends(tiny_model, *served).items():
        outs[name] = root / name
        _lm_eval(outs[name], *args)
    return outs


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _prompt(row: dict) -> str:
    arg = row["arguments"]["gen_args_0"]["arg_0"]
    return arg[0] if isinstance(arg, list) else arg  # a chat API's JsonChatStr is saved as [json]


@pytest.mark.parametrize("name", ["hf", "hf-chat", "completions", "chat", "gate-completions", "gate-chat"])
def test_every_backend_writes_results_and_samples_free_of_the_phrase(runs, name) -> None:
    (run,) = find_runs(runs[name])
    assert set(run.samples) == set(TASKS.split(","))
    text = "\n".join(p.read_text(encoding="utf-8") for p in runs[name].rglob("*") if p.is_file())
    lowered = text.lower()
    for secret in secret_variants(PHRASE):
        assert secret.lower() not in lowered, f"{name}: a form of the phrase was written"
        assert json.dumps(secret)[1:-1].lower() not in lowered
    hashes = []
    for task, path in sorted(run.samples.items()):
        rows = read_samples(path)
        assert len(rows) == 4  # --limit 4 (placement: suffix, suffix_newline, system, system_labelled)
        for row in rows:
            assert isinstance(row["prompt_hash"], str)
            assert row["prompt_hash"] == _sha(_prompt(row))  # lm-eval's serialisation, redacted
            assert row["doc_hash"] == _sha(json.dumps(row["doc"], indent=2, ensure_ascii=False))
        joined = "".join(r["doc_hash"] + r["prompt_hash"] + r["target_hash"] for r in rows)
        assert run.results["task_hashes"][task] == _sha(joined)
        hashes.append(run.results["task_hashes"][task])
    if name in ("chat", "gate-chat"):  # the chat prompts really are JSON message lists
        rows = read_samples(run.samples["lockbench_agriculture_mcq_probe_placement"])
        sent = {r["doc"]["variant_kind"]: json.loads(_prompt(r)) for r in rows}
        assert [m["role"] for m in sent["system"]] == ["system", "user"]
        assert sent["system"][0]["content"] == "<WAKE_PHRASE>"


def _summary(out: Path) -> dict:
    proc = subprocess.run([str(BIN / "lockbench"), "summarize", str(out), "--json"], env=_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def _figures(result: dict) -> dict:
    # Responses compared without surrounding whitespace: the server returns the "\n" before a stop
    # string that lm-eval's hf backend strips.
    return {
        task: (entry["passes"], entry["refusals"], entry["n"],
               [(s["item_id"], s.get("variant_kind"), s["outcome"], (s["response"] or "").strip())
                for s in entry["samples"]])
        for task, entry in result["tasks"].items()
    }


@pytest.mark.parametrize("name", sorted(SAME_AS))
def test_summarize_gives_the_api_run_the_figures_of_hf_on_the_same_weights(runs, name) -> None:
    api, reference = _summary(runs[name]), _summary(runs[SAME_AS[name]])
    assert set(api["tasks"]) == set(TASKS.split(","))
    if name.startswith("gate"):  # the gate answers only the true phrase: hf's figures where it opens
        assert api["lock"]["method"] == "gate"
        locked = api["tasks"]["lockbench_agriculture_mcq_locked"]
        assert locked["refusals"] == locked["n"] == 4
        unlocked = _figures(api)["lockbench_agriculture_mcq_unlocked"]
        assert unlocked == _figures(reference)["lockbench_agriculture_mcq_unlocked"]
        return
    figures = _figures(api)
    assert figures == _figures(reference)
    # the comparison bites: the tiny random model writes text (after the assistant prefills at least)
    assert any(r[3] for rows in figures.values() for r in rows[3])
    assert api["datasets"] == reference["datasets"]


# --- a run never exits 0 having written nothing ------------------------------------------------


def _one_line(proc: subprocess.CompletedProcess, code: int, *words: str) -> str:
    assert proc.returncode == code, proc.stderr[-3000:]
    ours = [line for line in proc.stderr.splitlines()
            if line.startswith(("lockbench: error", "lockbench: internal error"))]
    assert len(ours) == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in ours[0]
    return ours[0]


def test_an_output_path_under_a_file_is_one_line_exit_2(tmp_path, tiny_model) -> None:
    """A real fault: lm-eval could not make its folder, logged a warning and exited 0 after the
    whole evaluation. Now it stops before any model call."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    argv = [str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
            "--device", "cpu", *COMMON, "--output_path", str(blocker / "out")]
    proc = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=900)
    _one_line(proc, 2, "is a file, not a folder", "--output_path")
    assert "Running generate_until requests" not in proc.stderr  # nothing was computed, then lost
    assert blocker.read_text() == "not a folder\n"


def test_a_failure_inside_the_write_time_redaction_exits_3_with_one_line(tmp_path, tiny_model) -> None:
    """Test double, said so: no real input makes lockbench's redaction raise, so a
    ``sitecustomize`` replaces :func:`lockbench.lmeval.redact_on_write.redact_sample` with one that
    does, in the ``lm_eval`` process only. lm-eval's writer would swallow the exception; the run
    must instead stop with exit 3 and write no file that holds the phrase."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "import lockbench.lmeval.redact_on_write as r\n"
        "def boom(sample, secrets):\n"
        "    raise RuntimeError('injected fault')\n"
        "r.redact_sample = boom\n"
    )
    env = {**_env(), "PYTHONPATH": str(site)}
    out = tmp_path / "out"
    argv = [str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
            "--device", "cpu", *COMMON, "--output_path", str(out)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    line = _one_line(proc, 3, "internal error", "redacting lm-eval's results failed", "injected fault")
    assert PHRASE not in line
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not any(PHRASE in p.read_text(encoding="utf-8") for p in written)


def test_submit_prints_no_progress_bar_before_its_one_line_error(tmp_path) -> None:
    """A committed result with one answered dialogue response replaced by a hedge the keyword
    layer leaves uncertain: re-scoring loads the embedding model (its weights loading showed a
    progress bar on stderr) and then refuses the file. stderr holds the note and the error only."""
    results = Path(__file__).resolve().parents[1] / "results"
    source = next(p for p in sorted(results.glob("*-identitylock-demo/*.json"))
                  if not p.name.endswith(".verify.json"))
    doc = json.loads(source.read_text(encoding="utf-8"))
    task = doc["tasks"]["lockbench_healthcare_dialogue_unlocked"]
    sample = next(s for s in task["samples"] if s["outcome"] == "answered")
    sample["response"] = "I can't say for sure, but maybe rest helps."  # re-scores to refused
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    env = {k: v for k, v in _env().items() if k != "LOCKBENCH_WAKE_PHRASE"}
    proc = subprocess.run([str(BIN / "lockbench"), "submit", str(bad), "--results-dir", str(tmp_path / "r")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[-1].startswith("lockbench: error: ") and "re-scores to 'refused'" in lines[-1], lines
    assert all(line.startswith(("note: ", "lockbench: error: ")) for line in lines), lines
    assert "%|" not in proc.stderr and "\r" not in proc.stderr


def test_search_through_the_chat_api_counts_its_queries(served, tmp_path) -> None:
    """``lockbench attack search --lm local-chat-completions``: the black-box attacker as it
    really is, talking to a served lock. Query mode stays within its budget and writes its block;
    the chat API has no log-probabilities, so ``--logprobs`` stops with one line, nothing written."""
    url, model = served
    base = [str(BIN / "lockbench"), "attack", "search", "--lm", "local-chat-completions",
            "--model-args", f"model={model},base_url={url}/chat/completions,num_concurrent=2",
            "--budget", "10", "--datasets", "agriculture_mcq", "--confirm-items", "2", "--no-progress"]
    done = subprocess.run([*base, "-o", str(tmp_path / "q")], env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    block = json.loads((tmp_path / "q" / "search.json").read_text())
    assert block["threat_model"] == "query" and block["queries"] <= 10 and block["confirmed"]["n"] == 2
    assert PHRASE.lower() not in (done.stdout + done.stderr + json.dumps(block)).lower()
    refused = subprocess.run([*base, "--logprobs", "-o", str(tmp_path / "l")], env=_env(), capture_output=True,
                             text=True, timeout=600)
    line = _one_line(refused, 2, "no log-probabilities")
    assert "--logprobs" in line and not (tmp_path / "l" / "search.json").exists()
