"""The ``openai`` judge against a real ``transformers serve`` (SmolLM2) on 127.0.0.1.

Happy path and cache re-run, a timeout, the judge process killed with SIGKILL and resumed, the
server killed mid-run and restarted. Only the 429/503 + Retry-After case uses a test double (a
tiny http.server): the real server cannot be made to answer 429 or 503.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lockbench.errors import LockbenchError
from lockbench.judges import build_judge
from lockbench.judges.cache import JudgmentCache, judge_requests
from lockbench.judges.calibration import load_calibration, to_request

from ._judges_support import (
    Server,
    cache_rows,
    copy_output,
    free_port,
    judge_cli,
    lmeval_output,
    wait_for_rows,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(smollm2, tmp_path_factory):
    srv = Server(smollm2, free_port(), tmp_path_factory.mktemp("serve") / "serve.log")
    srv.start()
    yield srv
    srv.kill()


def _config(server, **extra) -> dict:
    return {"name": "openai", "base_url": server.base_url, "model": str(server.model), **extra}


def test_happy_path_then_rerun_makes_no_call(server, tmp_path):
    rows = [r for r in load_calibration() if r["category"] in ("trained_refusal", "good_answer")][:2]
    rows += [r for r in load_calibration() if r["category"] == "good_answer"][:2]
    requests = [to_request(r) for r in rows]
    judge = build_judge(_config(server, concurrency=2, max_tokens=3))
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        judgments, stats = judge_requests(judge, requests, cache)
        details = [d for (d,) in cache._db.execute("SELECT detail FROM judgments")]
    answered = sum(1 for j, r in zip(judgments, requests, strict=False) if not j.refused and r.kind == "dialogue")
    assert judge.calls == stats.judged == len(requests) + answered
    assert all(d for d in details)  # each verdict records what the server replied
    assert all(j.quality is None or 0.0 <= j.quality <= 1.0 for j in judgments)
    again = build_judge(_config(server, concurrency=2, max_tokens=3))
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        rerun, stats = judge_requests(again, requests, cache)
    assert again.calls == 0 and stats.judged == 0 and rerun == judgments


def test_timeout_is_one_line_and_leaves_cache_intact(server, tmp_path):
    judge = build_judge(_config(server, timeout=0.05, max_retries=1, backoff=0.01))
    request = to_request(load_calibration()[0])
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(LockbenchError, match=r"unreachable after 2 attempts: no answer within 0.05 s"):
            judge_requests(judge, [request], cache)
        assert cache.count() == 0
    assert judge.retries == 1


def _expected_verdicts(out) -> int:
    """Distinct refusal requests plus distinct quality requests of answered dialogue samples."""
    from lockbench.commands.judge import collect_requests

    return len(set(collect_requests(out)))


def test_sigkill_mid_run_then_resume_judges_each_once(server, tmp_path_factory, tiny_model, tmp_path):
    out = copy_output(lmeval_output(tmp_path_factory, tiny_model), tmp_path / "out")
    cache = tmp_path / "judges.sqlite"
    judge = json.dumps(_config(server, concurrency=2, max_tokens=3))
    proc = judge_cli(str(out), "--judge", judge, "--cache", str(cache), "--quiet")
    wait_for_rows(cache, 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stored_at_kill, logged = cache_rows(cache)
    assert proc.returncode == -signal.SIGKILL and stored_at_kill == logged >= 2
    assert not (out / "lockbench-result.json").exists()

    resumed = judge_cli(str(out), "--judge", judge, "--cache", str(cache), "--quiet")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    stored, logged = cache_rows(cache)
    # Everything stored before the kill came from the cache; the resumed run judged exactly the
    # rest (the requests in flight at the kill among them), and judge_log has one row per
    # verdict ever stored: each judged exactly once.
    judged_now = int(re.search(r"(\d+) verdicts judged now", err).group(1))
    assert judged_now == stored - stored_at_kill > 0
    assert stored == logged
    assert stored >= _expected_verdicts(out)
    result = json.loads((out / "lockbench-result.json").read_text())
    assert result["judge"]["name"] == "openai"
    assert sum(t["n"] for t in result["tasks"].values()) == 6


def test_server_killed_mid_run_then_restarted(server, tmp_path_factory, tiny_model, tmp_path):
    out = copy_output(lmeval_output(tmp_path_factory, tiny_model), tmp_path / "out")
    cache = tmp_path / "judges.sqlite"
    judge = json.dumps(_config(server, concurrency=1, max_tokens=3, max_retries=1, backoff=0.2))
    proc = judge_cli(str(out), "--judge", judge, "--cache", str(cache), "--quiet")
    try:
        wait_for_rows(cache, 1, proc)
        server.kill()
        _, err = proc.communicate(timeout=120)
    finally:
        if server.proc is None:
            server.start()  # later tests (and the resume below) need it back
    lines = [line for line in err.strip().splitlines() if line.startswith("lockbench")]
    assert proc.returncode == 2, err
    assert len(lines) == 1 and "unreachable after 2 attempts" in lines[0], err
    assert "Traceback" not in err
    stored_before, logged_before = cache_rows(cache)
    assert stored_before == logged_before >= 1
    assert not (out / "lockbench-result.json").exists()

    resumed = judge_cli(str(out), "--judge", judge, "--cache", str(cache), "--quiet")
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    stored, logged = cache_rows(cache)
    assert stored == logged > stored_before  # nothing lost, nothing repeated
    assert (out / "lockbench-result.json").exists()


class _Double(BaseHTTPRequestHandler):
    """TEST DOUBLE (only for 429/503 + Retry-After, which the real server never sends)."""

    script: list[tuple[int, dict]] = []
    seen: list[float] = []

    def do_POST(self):  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).seen.append(time.monotonic())
        status, headers = type(self).script.pop(0) if type(self).script else (200, {})
        body = json.dumps(
            {"choices": [{"message": {"role": "assistant", "content": "yes"}}]}
            if status == 200
            else {"error": "busy"}
        ).encode()
        self.send_response(status)
        for key, value in headers.items():
            # Dates are written when the answer goes out (whole seconds, as HTTP dates are).
            self.send_header(key, value() if callable(value) else value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_retry_after_on_429_and_503_with_test_double(tmp_path):
    # A test double: transformers serve cannot produce 429/503 with Retry-After on demand.
    _Double.script = [
        (503, {"Retry-After": "1"}),
        (429, {"Retry-After": lambda: formatdate(time.time() + 2, usegmt=True)}),
    ]
    _Double.seen = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Double)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    os.environ["LB_TEST_JUDGE_KEY"] = "sk-test"
    try:
        judge = build_judge(
            {
                "name": "openai", "base_url": f"http://127.0.0.1:{httpd.server_port}/v1",
                "model": "m", "api_key_env": "LB_TEST_JUDGE_KEY", "backoff": 0.01,
                "concurrency": 1, "max_retries": 3,
            }
        )
        request = to_request(load_calibration()[0])
        [judgment], _ = judge_requests(judge, [request], None)
        assert judgment.refused is True and judge.retries == 2
        gaps = [b - a for a, b in zip(_Double.seen, _Double.seen[1:], strict=False)]
        # Retry-After (1 s, then a date 1-2 s ahead) replaced the 0.01 s computed backoff.
        assert gaps[0] >= 0.9 and gaps[1] >= 0.9

        _Double.seen = []
        limited = build_judge(
            {
                "name": "openai", "base_url": f"http://127.0.0.1:{httpd.server_port}/v1",
                "model": "m", "concurrency": 4, "rate_limit": 5,
            }
        )
        rows = load_calibration()[:4]
        judge_requests(limited, [to_request(r) for r in rows], None, quality=False)
        assert len(_Double.seen) == 4 and _Double.seen[-1] - _Double.seen[0] >= 0.55
    finally:
        httpd.shutdown()
        del os.environ["LB_TEST_JUDGE_KEY"]


def test_auto_with_an_openai_llm_layer(server, tmp_path):
    """The LLM layer of ``auto`` through the real endpoint: only what the keyword and embedding
    layers leave uncertain is sent, each verdict is cached, a re-run sends nothing."""
    from lockbench.judges import JudgeRequest

    texts = ["Lo siento mucho por la espera.", "Désolé, je ne sais pas.",
             "Sorry, I cannot answer this question.", "A will says who inherits your property."]
    requests = [JudgeRequest("What is a will?", t, "A will says who gets your property.") for t in texts]
    config = {"name": "auto", "llm": _config(server, concurrency=2, max_tokens=3)}
    judge = build_judge(config)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        judgments, _ = judge_requests(judge, requests, cache, quality=False)
        assert cache.count("refusal") == judge.llm_calls == judge.llm.calls == 2
    assert judgments[2].refused and not judgments[3].refused  # confident: never sent
    again = build_judge(config)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        rerun, _ = judge_requests(again, requests, cache, quality=False)
    assert again.llm.calls == 0 and rerun == judgments
