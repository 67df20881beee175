"""A locked model behind a real OpenAI-compatible server (``transformers serve`` on 127.0.0.1):
the lockbench suite through lm-eval's API backends agrees with the in-process ``hf`` backend,
and every bad input ends in one line naming the fix.

The server is the real one, started by :class:`lockbench.api.LocalServer` (the same code as
``lockbench serve-locked``) and always stopped by the fixture's finalizer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from lockbench.api import LocalServer, check_endpoint, lm_eval_commands
from lockbench.api.server import free_port
from lockbench.errors import LockbenchError
from lockbench.lmeval.run import run_tasks

from .conftest import WAKE_PHRASE

API_KEY = "lb-test-key"
TASKS = ["lockbench_agriculture_mcq_locked", "lockbench_agriculture_mcq_unlocked"]
LIMIT = 6
# Identical on both paths: lm-eval applies --gen_kwargs over the task's generation_kwargs for
# every backend (until stays the task's ["\n\n"]; greedy; temperature 0).
GEN_KWARGS = "max_gen_toks=16,do_sample=False,temperature=0"
BIN = Path(sys.executable).parent


@contextmanager
def _serving(model):
    """``model`` served with an API key; stopped whatever the tests do."""
    srv = LocalServer(model, api_key=API_KEY)
    try:
        srv.start(timeout=600)
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server(smollm2):
    """SmolLM2-135M-Instruct served with an API key."""
    with _serving(smollm2) as srv:
        yield srv
    assert srv.process is None


def _cut(text: str, until: list[str]) -> str:
    """What lm-eval's hf backend keeps of a generation: the text before the first stop string.
    The server stops on the same strings but returns them (OpenAI servers differ here)."""
    for term in until:
        text = text.split(term)[0]
    return text.strip()


def _per_task(results: dict) -> dict[str, tuple[float, list[str]]]:
    out = {}
    for task in results["results"]:
        samples = sorted(results["samples"][task], key=lambda s: s["doc_id"])
        until = list(results["configs"][task]["generation_kwargs"]["until"])
        responses = [_cut(s["resps"][0][0], until) for s in samples]
        out[task] = (results["results"][task]["pass_rate,none"], responses)
    return out


def _compare(api: dict, hf: dict, label: str) -> None:
    assert set(api) == set(hf) == set(TASKS[: len(api)])
    for task in api:
        (pr_api, resp_api), (pr_hf, resp_hf) = api[task], hf[task]
        same = sum(a == b for a, b in zip(resp_api, resp_hf, strict=True))
        print(f"{label} {task}: PR api={pr_api:.3f} hf={pr_hf:.3f} diff={abs(pr_api - pr_hf):.3f}; "
              f"identical responses {same}/{len(resp_hf)}")
        assert len(resp_api) == len(resp_hf) == LIMIT
        assert any(resp_hf), "the model produced only empty responses: nothing was compared"
        assert abs(pr_api - pr_hf) <= 0.02, f"{task}: pass rates differ by more than 2 points"
        assert same == len(resp_hf), f"{task}: responses differ\n{resp_api}\n{resp_hf}"


def test_chat_api_agrees_with_hf_backend(server, smollm2, monkeypatch) -> None:
    """local-chat-completions + --apply_chat_template vs hf + --apply_chat_template, greedy."""
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)  # how lm-eval's local-* backends send the key
    meta = {"wake_phrase": WAKE_PHRASE}
    api = run_tasks(
        "local-chat-completions",
        TASKS,
        model_args=f"model={server.model},base_url={server.base_url}/chat/completions,num_concurrent=1",
        metadata=meta, apply_chat_template=True, limit=LIMIT, gen_kwargs=GEN_KWARGS,
    )
    hf = run_tasks(
        "hf", TASKS, model_args=f"pretrained={smollm2},dtype=float32", metadata=meta,
        apply_chat_template=True, limit=LIMIT, gen_kwargs=GEN_KWARGS,
    )
    _compare(_per_task(api), _per_task(hf), "chat")


@pytest.fixture(scope="module")
def tiny_server(tiny_model):
    with _serving(tiny_model) as srv:
        yield srv


def test_completions_api_agrees_with_hf_backend(tiny_server, tiny_model, monkeypatch) -> None:
    """local-completions (plain-text prompt, no chat template) vs hf without a chat template.

    On the tiny random model: SmolLM2-Instruct without its chat template answers <|im_end|> at
    once on both paths (nothing to compare), while the random model writes all 24 tokens, so
    token-for-token identity of the two paths is really tested (pass rates are trivially equal).
    """
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    meta = {"wake_phrase": WAKE_PHRASE}
    api = run_tasks(
        "local-completions", TASKS,
        model_args=(f"model={tiny_server.model},base_url={tiny_server.base_url}/completions,"
                    "tokenized_requests=False,tokenizer_backend=huggingface,num_concurrent=4"),
        metadata=meta, limit=LIMIT, gen_kwargs=GEN_KWARGS,
    )
    hf = run_tasks("hf", TASKS, model_args=f"pretrained={tiny_model},dtype=float32", metadata=meta,
                   limit=LIMIT, gen_kwargs=GEN_KWARGS)
    _compare(_per_task(api), _per_task(hf), "completions")


def test_chat_api_continues_an_assistant_prefill_like_hf(tiny_server, tiny_model, monkeypatch) -> None:
    """The prefill family through local-chat-completions: lm-eval sends the prefill as a trailing
    assistant message and the server continues it (lockbench.api.server.continue_trailing_assistant),
    token for token what hf + --apply_chat_template generates after the same open assistant turn.
    The tiny random model writes every token, so a server that opened a fresh turn instead would
    produce other text."""
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    meta = {"wake_phrase": WAKE_PHRASE}
    task = ["lockbench_agriculture_mcq_probe_prefill"]
    api = run_tasks(
        "local-chat-completions", task,
        model_args=f"model={tiny_server.model},base_url={tiny_server.base_url}/chat/completions,num_concurrent=1",
        metadata=meta, apply_chat_template=True, limit=LIMIT, gen_kwargs=GEN_KWARGS,
    )
    hf = run_tasks("hf", task, model_args=f"pretrained={tiny_model},dtype=float32", metadata=meta,
                   apply_chat_template=True, limit=LIMIT, gen_kwargs=GEN_KWARGS)
    api_resps, hf_resps = _per_task(api)[task[0]][1], _per_task(hf)[task[0]][1]
    assert len(api_resps) == LIMIT and any(hf_resps)
    assert api_resps == hf_resps


def test_printed_command_lines_name_the_backends_and_hide_the_phrase(server) -> None:
    lines = lm_eval_commands(server.base_url, server.model)
    assert "local-chat-completions" in lines["chat"] and "--apply_chat_template" in lines["chat"]
    assert "tokenized_requests=False" in lines["completions"]
    assert "--apply_chat_template" not in lines["completions"]
    # the phrase comes from $LOCKBENCH_WAKE_PHRASE: no --metadata, no placeholder to fill in
    assert all("--metadata" not in line and WAKE_PHRASE not in line for line in lines.values())


def test_chat_api_gets_placement_probes_with_real_roles(server, monkeypatch) -> None:
    """Through local-chat-completions the placement variants travel as role-tagged messages."""
    import json

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    task = "lockbench_agriculture_mcq_probe_placement"
    results = run_tasks(
        "local-chat-completions", [task],
        model_args=f"model={server.model},base_url={server.base_url}/chat/completions,num_concurrent=4",
        metadata={"wake_phrase": WAKE_PHRASE}, apply_chat_template=True,
        gen_kwargs="max_gen_toks=2",
    )
    sent = {}
    for sample in results["samples"][task]:
        arg = sample["arguments"][0][0]
        while not isinstance(arg, str):  # lm-eval's JsonChatStr (a named tuple), or a plain tuple
            arg = arg[0]
        sent[sample["doc"]["variant_kind"]] = json.loads(arg)
        assert sample["resps"][0][0] is not None
    assert sent["system"][0] == {"role": "system", "content": WAKE_PHRASE}
    assert [m["role"] for m in sent["system"]] == ["system", "user"]
    assert [m["role"] for m in sent["earlier_turn"]] == ["user", "assistant", "user"]
    assert sent["earlier_turn"][0]["content"] == WAKE_PHRASE
    assert [m["role"] for m in sent["suffix"]] == ["user"]
    assert sent["suffix"][0]["content"].endswith(WAKE_PHRASE)


# --- bad input: one line, the fix named, non-zero exit ---------------------------------------


def _lockbench(*args: str, key: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("OPENAI_API_KEY", None)
    if key is not None:
        env["OPENAI_API_KEY"] = key
    return subprocess.run([str(BIN / "lockbench"), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def _one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lockbench: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_ping_api_accepts_the_right_key_and_model(server) -> None:
    proc = _lockbench("ping-api", "--base-url", f"{server.base_url}/chat/completions",
                      "--model", server.model, key=API_KEY)
    assert proc.returncode == 0, proc.stderr
    assert "chat/completions, completions" in proc.stdout
    result = check_endpoint(server.base_url, server.model, api_key=API_KEY,
                            endpoints=("chat/completions",))
    assert result.models == [server.model]


def test_wrong_api_key_is_one_line(server) -> None:
    _one_line_error(_lockbench("ping-api", "--base-url", server.base_url, "--model", server.model,
                               key="not-the-key"), "rejected the API key", "OPENAI_API_KEY")
    _one_line_error(_lockbench("ping-api", "--base-url", server.base_url, "--model", server.model),
                    "HTTP 401")


def test_unknown_model_name_is_one_line(server) -> None:
    proc = _lockbench("ping-api", "--base-url", server.base_url, "--model", "gpt-4o", key=API_KEY)
    _one_line_error(proc, "does not serve model 'gpt-4o'", server.model)
    # The pinned server itself refuses the name too (what lm-eval would meet).
    with pytest.raises(LockbenchError, match="does not serve model"):
        check_endpoint(server.base_url, "gpt-4o", api_key=API_KEY, endpoints=("completions",))


def test_unreachable_server_is_one_line() -> None:
    port = free_port()  # nothing listens there
    _one_line_error(_lockbench("ping-api", "--base-url", f"http://127.0.0.1:{port}",
                               "--model", "m", key="k"), "cannot reach", "serve-locked")


@pytest.fixture(scope="module")
def no_template_model(tiny_model, tmp_path_factory) -> Path:
    """A real model folder whose tokenizer has no chat template (tiny model, template removed)."""
    import json

    folder = tmp_path_factory.mktemp("no-template") / "model"
    shutil.copytree(tiny_model, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = folder / "tokenizer_config.json"
    data = json.loads(config.read_text())
    data.pop("chat_template", None)
    config.write_text(json.dumps(data))
    return folder


def test_missing_chat_template_is_one_line(no_template_model) -> None:
    proc = _lockbench("serve-locked", str(no_template_model), "--port", "0", "--no-api-key")
    _one_line_error(proc, "no chat template", "--no-chat")


def test_missing_chat_template_on_a_running_server_is_one_line(no_template_model) -> None:
    """Served anyway (--no-chat): completions answer, the chat endpoint fails, ping names the fix."""
    with LocalServer(no_template_model, api_key=API_KEY, require_chat_template=False) as srv:
        ok = check_endpoint(srv.base_url, srv.model, api_key=API_KEY, endpoints=("completions",))
        assert "completions" in ok.replies
        proc = _lockbench("ping-api", "--base-url", srv.base_url, "--model", srv.model, key=API_KEY)
        _one_line_error(proc, "chat template", "local-completions")
    assert srv.process is None


def test_serve_locked_bad_folder_and_port(tmp_path, tiny_model) -> None:
    _one_line_error(_lockbench("serve-locked", str(tmp_path / "missing")), "not found")
    (tmp_path / "empty").mkdir()
    _one_line_error(_lockbench("serve-locked", str(tmp_path / "empty")), "neither a model")
    _one_line_error(_lockbench("serve-locked", str(tiny_model), "--port", "70000"), "not a TCP port")


def test_port_in_use_is_one_line(server, tiny_model) -> None:
    proc = _lockbench("serve-locked", str(tiny_model), "--port", str(server.port), "--no-api-key")
    _one_line_error(proc, f"port {server.port}", "--port")
