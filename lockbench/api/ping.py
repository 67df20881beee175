"""Pre-flight check of an OpenAI-compatible endpoint before an ``lm_eval`` API run.

lm-eval meets a dead server, a wrong key or an unknown model name with retries and a traceback
after several minutes. This check makes the same requests lm-eval will make (``GET /v1/models``,
one greedy one-token request per endpoint, with ``Authorization: Bearer $OPENAI_API_KEY`` as
lm-eval sends it) and turns each failure into one line that names the fix.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from lockbench.errors import LockbenchError

ENDPOINTS = ("chat/completions", "completions")


def endpoint_urls(base_url: str) -> dict[str, str]:
    """``{"root", "models", "chat/completions", "completions"}`` from any of the URL forms users
    pass (``http://host:port``, ``.../v1``, ``.../v1/chat/completions``, ``.../v1/completions``)."""
    url = base_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise LockbenchError(f"base URL '{base_url}' must start with http:// or https://")
    _check_url(base_url, url)
    for suffix in ("/chat/completions", "/completions", "/models"):
        if url.endswith(suffix):
            url = url[: -len(suffix)]
            break
    if not url.endswith("/v1"):
        url = f"{url}/v1"
    return {
        "root": url,
        "models": f"{url}/models",
        "chat/completions": f"{url}/chat/completions",
        "completions": f"{url}/completions",
    }


def _check_url(given: str, url: str) -> None:
    """A host, a numeric port, no spaces: what ``urlopen`` would otherwise crash on."""
    from urllib.parse import urlsplit

    problem = None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
        if not parts.hostname:
            problem = "it has no host"
        elif any(c.isspace() for c in url):
            problem = "it contains spaces"
    except ValueError as exc:
        problem = str(exc)
    if problem:
        raise LockbenchError(
            f"base URL '{given}' is malformed ({problem}); use e.g. http://127.0.0.1:8000/v1"
        )


@dataclass
class PingResult:
    """What the endpoint answered: served models and, per endpoint checked, the sample reply."""

    models: list[str]
    replies: dict[str, str] = field(default_factory=dict)


def _request(url: str, api_key: str, payload: dict | None, timeout: float) -> tuple[int, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, method="POST" if payload is not None else "GET",
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode("utf-8", errors="replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", errors="replace")
        try:
            return exc.code, json.loads(body)
        except json.JSONDecodeError:
            return exc.code, body
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LockbenchError(
            f"cannot reach the model server at {url} ({reason}); start it (e.g. `lockbench "
            "serve-locked LOCK_FOLDER`) or fix --base-url"
        ) from None
    try:
        return status, json.loads(body) if body else None
    except json.JSONDecodeError:
        raise LockbenchError(
            f"{url} answered HTTP {status} but not with JSON ({' '.join(body.split())[:80]!r}); "
            "is --base-url an OpenAI-compatible server?"
        ) from None


def _detail(body: Any) -> str:
    """The server's error message, on one line."""
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body))
        if isinstance(err, dict):
            err = err.get("message", err)
        text = str(err)
    else:
        text = str(body)
    return " ".join(text.split())[:200]


def _check_status(status: int, body: Any, url: str, model: str, models: list[str]) -> None:
    if status in (401, 403):
        raise LockbenchError(
            f"the server at {url} rejected the API key (HTTP {status}); set OPENAI_API_KEY (or "
            "--api-key) to the key the server was started with"
        )
    if status == 404 and url.endswith("/models"):
        return
    detail = _detail(body)
    if status in (400, 404) and ("model" in detail.lower() or "pinned" in detail.lower()):
        served = ", ".join(models) or "(none listed)"
        raise LockbenchError(
            f"the server does not serve model '{model}' ({detail}); it serves: {served}; pass "
            "that name as model=... in --model_args"
        )
    if "chat template" in detail.lower() or "chat_template" in detail.lower():
        raise LockbenchError(
            f"the served model's tokenizer has no chat template ({detail}); use local-completions "
            "without --apply_chat_template, or add a chat template to the tokenizer and restart"
        )
    if status >= 500 and url.endswith("/chat/completions"):
        raise LockbenchError(
            f"{url} answered HTTP {status} ({detail}); a common cause is a tokenizer without a chat "
            "template: use local-completions without --apply_chat_template, or add a template"
        )
    if status >= 400:
        raise LockbenchError(f"{url} answered HTTP {status}: {detail}")


def check_endpoint(
    base_url: str,
    model: str,
    *,
    api_key: str | None = None,
    endpoints: tuple[str, ...] = ENDPOINTS,
    timeout: float = 120.0,
) -> PingResult:
    """Check reachability, key, model name and each endpoint; raise one line on the first fault.

    ``api_key`` defaults to ``$OPENAI_API_KEY``, which is what lm-eval's ``local-*`` backends send.
    """
    urls = endpoint_urls(base_url)
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY", "")
    status, body = _request(urls["models"], key, None, timeout)
    models: list[str] = []
    if status == 200 and isinstance(body, dict):
        models = [str(m.get("id")) for m in body.get("data", []) if isinstance(m, dict)]
    else:
        _check_status(status, body, urls["models"], model, models)
    if models and model not in models:
        raise LockbenchError(
            f"the server does not serve model '{model}'; it serves: {', '.join(models)}; pass "
            "that name as model=... in --model_args"
        )
    result = PingResult(models=models)
    for endpoint in endpoints:
        if endpoint not in ENDPOINTS:
            raise LockbenchError(f"unknown endpoint '{endpoint}'; use one of {', '.join(ENDPOINTS)}")
        payload: dict[str, Any] = {"model": model, "max_tokens": 1, "temperature": 0}
        if endpoint == "chat/completions":
            payload["messages"] = [{"role": "user", "content": "Hello"}]
        else:
            payload["prompt"] = "Hello"
        status, body = _request(urls[endpoint], key, payload, timeout)
        _check_status(status, body, urls[endpoint], model, models)
        try:
            choice = body["choices"][0]
            reply = choice["message"]["content"] if endpoint == "chat/completions" else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise LockbenchError(
                f"{urls[endpoint]} answered without an OpenAI-style 'choices' list; is this an "
                "OpenAI-compatible server?"
            ) from None
        result.replies[endpoint] = reply or ""
    return result
