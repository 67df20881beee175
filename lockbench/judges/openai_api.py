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

Connection errors, timeouts, 429 and 5xx are retried (tenacity); a ``Retry-After`` header
(seconds or an HTTP date) replaces the computed backoff. When retries run out, the run stops with one line and
everything judged so far stays in the cache. The base URL is not part of the judge identity: the
same model behind another address reuses the cache.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from email.utils import parsedate_to_datetime
from typing import Annotated, Any

import tenacity
from pydantic import Field

from lockbench.errors import LockbenchError
from lockbench.judges.base import (
    Count,
    Judge,
    JudgeRequest,
    NonNegative,
    Whole,
    register,
)
from lockbench.judges.templates import (
    PromptedSettings,
    parse_quality,
    parse_refusal,
    render,
)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class JudgeUnavailable(LockbenchError):
    """The endpoint could not give an answer within the retry budget."""


class _Retryable(Exception):
    """A failure a later attempt may not see (timeout, refused connection, 429, 5xx)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after  # seconds, from the server's Retry-After header


class _RateLimiter:
    """At most ``rate`` request starts per second, shared by all worker threads (tenacity retries
    but does not pace; a token interval is all a judge run needs)."""

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


class OpenAISettings(PromptedSettings):
    base_url: str = "http://127.0.0.1:8000/v1"
    # model: required; checked below with the way to give it
    api_key_env: str | None = None  # the name of the variable, never the key
    concurrency: Count = 4
    timeout: NonNegative = 60.0
    max_retries: Annotated[Whole, Field(ge=0)] = 4
    backoff: NonNegative = 0.5
    max_backoff: NonNegative = 30.0
    rate_limit: NonNegative = 0.0
    max_tokens: Count = 4


@register("openai")
class OpenAIJudge(Judge):
    Settings = OpenAISettings

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        settings = self.settings
        self.base_url = settings.base_url.rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise LockbenchError(
                f"judge.base_url must start with http:// or https://, got {self.base_url!r}"
            )
        self.model = settings.model
        if not self.model:
            raise LockbenchError(
                'the openai judge needs a model: {"name": "openai", "model": "..."}'
            )
        self.api_key_env = settings.api_key_env
        self.api_key = None
        if self.api_key_env:
            self.api_key = os.environ.get(str(self.api_key_env))
            if not self.api_key:
                raise LockbenchError(
                    f"environment variable {self.api_key_env} (judge.api_key_env) is not set; "
                    "export it with the API key"
                )
        self.concurrency, self.timeout = settings.concurrency, settings.timeout
        self.max_retries, self.max_tokens = settings.max_retries, settings.max_tokens
        self.backoff, self.max_backoff = settings.backoff, settings.max_backoff
        self.rate_limit = settings.rate_limit
        self.refusal_template, self.quality_template = settings.refusal_template, settings.quality_template
        self._limiter = _RateLimiter(self.rate_limit)
        # 0.5 s, 1 s, 2 s ... plus up to a quarter of the base as jitter, capped by max_backoff
        self._backoff = tenacity.wait_exponential(
            multiplier=self.backoff, max=self.max_backoff
        ) + tenacity.wait_random(0, 0.25 * self.backoff)
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

    def _attempt(self, url: str, body: dict[str, Any], headers: dict[str, str]) -> str:
        """One request: the reply text, :class:`_Retryable` for what a retry may fix, or
        :class:`JudgeUnavailable` for what it cannot."""
        import requests

        if self._stop.is_set():
            raise JudgeUnavailable("judge run stopped")
        self._limiter.wait()
        try:
            reply = self._session().post(url, json=body, headers=headers, timeout=self.timeout)
        except requests.Timeout:
            raise _Retryable(f"no answer within {self.timeout:g} s (judge.timeout)") from None
        except requests.ConnectionError as exc:
            raise _Retryable(f"cannot connect ({type(exc).__name__})") from None
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
        raise _Retryable(reason, retry_after_seconds(reply.headers.get("Retry-After")))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """The server's ``Retry-After`` when it sent one, else exponential backoff with jitter;
        at most ``max_backoff`` either way."""
        hinted = getattr(state.outcome.exception(), "retry_after", None) if state.outcome else None
        return min(self._backoff(state) if hinted is None else hinted, self.max_backoff)

    def _count_retry(self, state: tenacity.RetryCallState) -> None:
        self.retries += 1

    def complete(self, content: str) -> str:
        """One chat completion with retries (tenacity); the reply text."""
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
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Retryable),
            stop=tenacity.stop_after_attempt(self.max_retries + 1),
            wait=self._wait,
            before_sleep=self._count_retry,
            reraise=True,
        )
        try:
            return retrying(self._attempt, url, body, headers)
        except _Retryable as exc:
            raise JudgeUnavailable(
                f"judge endpoint {url} unreachable after {self.max_retries + 1} attempts: "
                f"{exc.reason}; check that the server runs and judge.base_url; judged responses "
                "stay cached"
            ) from None

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
