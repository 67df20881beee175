"""``openai`` judge: any OpenAI-compatible ``/v1/chat/completions`` endpoint.

Config keys:

* ``base_url`` (``http://127.0.0.1:8000/v1``), ``model`` (required; for ``transformers serve``
  the model folder path);
* ``api_key_env``: the *name* of the environment variable holding the API key (the key itself
  never goes in a config); no key is sent when it is not given;
* ``concurrency`` (4 requests in flight), ``timeout`` (60 s per request), ``max_retries`` (4),
  ``backoff`` (0.5 s, doubled each retry, plus jitter, at most ``max_backoff`` 30 s),
  ``rate_limit`` (requests per second across all workers; 0 = none), ``max_tokens`` (4);
* ``refusal_template``, ``quality_template``, ``threshold`` (0.5).

Connection errors, timeouts, 429 and 5xx are retried; a ``Retry-After`` header (seconds or an
HTTP date) replaces the computed backoff. When retries run out, the run stops with one line and
everything judged so far stays in the cache. The base URL is not part of the judge identity: the
same model behind another address reuses the cache.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from email.utils import parsedate_to_datetime
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.judges.base import Judge, JudgeRequest, positive_number, register
from lockbench.judges.templates import (
    QUALITY_TEMPLATE,
    REFUSAL_TEMPLATE,
    parse_quality,
    parse_refusal,
    render,
)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class JudgeUnavailable(LockbenchError):
    """The endpoint could not give an answer within the retry budget."""


class _RateLimiter:
    """At most ``rate`` request starts per second, shared by all worker threads."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None


@register("openai")
class OpenAIJudge(Judge):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.base_url = str(config.get("base_url", "http://127.0.0.1:8000/v1")).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise LockbenchError(
                f"judge.base_url must start with http:// or https://, got {self.base_url!r}"
            )
        self.model = config.get("model")
        if not self.model:
            raise LockbenchError(
                'the openai judge needs a model: {"name": "openai", "model": "..."}'
            )
        self.api_key_env = config.get("api_key_env")
        self.api_key = None
        if self.api_key_env:
            self.api_key = os.environ.get(str(self.api_key_env))
            if not self.api_key:
                raise LockbenchError(
                    f"environment variable {self.api_key_env} (judge.api_key_env) is not set; "
                    "export it with the API key"
                )
        self.concurrency = positive_number(config, "concurrency", 4, integer=True)
        self.timeout = positive_number(config, "timeout", 60.0)
        self.max_retries = positive_number(config, "max_retries", 4, integer=True)
        self.backoff = positive_number(config, "backoff", 0.5)
        self.max_backoff = positive_number(config, "max_backoff", 30.0)
        self.rate_limit = positive_number(config, "rate_limit", 0.0)
        self.max_tokens = positive_number(config, "max_tokens", 4, integer=True)
        self.refusal_template = str(config.get("refusal_template", REFUSAL_TEMPLATE))
        self.quality_template = str(config.get("quality_template", QUALITY_TEMPLATE))
        self._limiter = _RateLimiter(self.rate_limit)
        self._local = threading.local()
        self._stop = threading.Event()
        self.retries = 0  # retried attempts, for reports and tests

    def identity(self) -> dict[str, Any]:
        return {
            **super().identity(),
            "model": str(self.model),
            "refusal_template": self.refusal_template,
            "quality_template": self.quality_template,
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
        }

    def _session(self):
        import requests

        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def complete(self, content: str) -> str:
        """One chat completion with retries; the reply text."""
        import requests

        url = self.base_url + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {
            "model": self.model,
            "messages": [{"role": "user", "content": content}],
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
        }
        reason = ""
        for attempt in range(self.max_retries + 1):
            if self._stop.is_set():
                raise JudgeUnavailable("judge run stopped")
            self._limiter.wait()
            wait_for = None
            try:
                reply = self._session().post(url, json=body, headers=headers, timeout=self.timeout)
            except requests.Timeout:
                reason = f"no answer within {self.timeout:g} s (judge.timeout)"
            except requests.ConnectionError as exc:
                reason = f"cannot connect ({type(exc).__name__})"
            else:
                if reply.status_code == 200:
                    try:
                        return reply.json()["choices"][0]["message"]["content"] or ""
                    except (ValueError, KeyError, IndexError, TypeError):
                        raise JudgeUnavailable(
                            f"judge endpoint {url} answered 200 without a chat completion"
                        ) from None
                reason = f"HTTP {reply.status_code}"
                if reply.status_code not in RETRY_STATUS:
                    raise JudgeUnavailable(
                        f"judge endpoint {url} answered {reason}: {reply.text[:120]!r}; check "
                        "judge.model, judge.base_url and the API key"
                    )
                wait_for = retry_after_seconds(reply.headers.get("Retry-After"))
            if attempt == self.max_retries:
                break
            if wait_for is None:
                wait_for = self.backoff * 2**attempt * (1 + 0.25 * random.random())
            self.retries += 1
            time.sleep(min(wait_for, self.max_backoff))
        raise JudgeUnavailable(
            f"judge endpoint {url} unreachable after {self.max_retries + 1} attempts: {reason}; "
            "check that the server runs and judge.base_url; judged responses stay cached"
        )

    def _run(self, prompts: list[str], read) -> Iterator[list[tuple[int, Any, str]]]:
        """Send prompts concurrently; yield each result as soon as it arrives."""
        self._stop.clear()
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="judge")
        try:
            pending = {pool.submit(self.complete, p): i for i, p in enumerate(prompts)}
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                chunk = []
                for future in done:
                    index = pending.pop(future)
                    value, detail = read(future.result())  # raises JudgeUnavailable
                    chunk.append((index, value, detail))
                self.calls += len(chunk)
                yield chunk
        finally:
            # Queued requests are dropped; requests in flight are abandoned (at most `concurrency`).
            self._stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def iter_refusal(self, requests: list[JudgeRequest]) -> Iterator[list[tuple[int, bool, str]]]:
        prompts = [
            render(self.refusal_template, prompt=r.prompt, response=r.response) for r in requests
        ]
        yield from self._run(prompts, parse_refusal)

    def iter_quality(self, requests: list[JudgeRequest]) -> Iterator[list[tuple[int, float, str]]]:
        prompts = [
            render(
                self.quality_template, prompt=r.prompt, response=r.response, reference=r.reference
            )
            for r in requests
        ]
        yield from self._run(prompts, parse_quality)
