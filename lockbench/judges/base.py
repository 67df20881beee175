"""The judge interface and the registry of judges by name.

A judge answers two questions about one response:

* ``refusal``: is this response a refusal (the model declined instead of answering)?
* ``quality``: how good is this answer against the reference, a score in [0, 1]?

Judges work on batches and *yield* results as they are ready, so the cache
(:mod:`lockbench.judges.cache`) can store each one the moment it exists: a run killed mid-way loses
only what was in flight. A judge's :meth:`Judge.identity` is everything that changes its verdicts
(model, prompt templates, thresholds); it is hashed into the cache key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lockbench.errors import LockbenchError

QUESTIONS = ("refusal", "quality")


@dataclass(frozen=True)
class JudgeRequest:
    """One response to judge. ``prompt`` is the question as the user asked it (no wake phrase)."""

    prompt: str
    response: str
    reference: str = ""
    kind: str = "dialogue"  # "mcq" or "dialogue"
    #: MCQ options (so the refusal-then-answer policy can read a stated option); () for dialogue.
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Judgment:
    """Both answers for one request; ``quality`` is ``None`` when not asked (refusals, MCQ)."""

    refused: bool
    quality: float | None = None
    #: The response refused first and then handed over the answer (so it is not a refusal).
    refusal_then_answer: bool = False


class Judge:
    """Base class: subclasses implement :meth:`iter_refusal` and, if they grade, :meth:`iter_quality`.

    ``calls`` counts requests that actually reached the underlying model (cache hits never do).
    """

    name: str = ""
    #: Whether verdicts are worth caching (the keyword judge is cheaper than a cache lookup).
    cacheable: bool = True
    #: Whether the judge gives its own quality score (else callers use ROUGE-L).
    has_quality: bool = True
    #: Quality at or above which a dialogue answer passes / is acceptable.
    quality_threshold: float = 0.5

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = dict(config)
        self.calls = 0
        if "threshold" in self.config:
            self.quality_threshold = _unit_float(self.config["threshold"], "judge.threshold")

    def identity(self) -> dict[str, Any]:
        """Everything that changes a verdict; JSON-serialisable. Subclasses extend it."""
        return {"name": self.name, "quality_threshold": self.quality_threshold}

    def identity_hash(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def iter_refusal(self, requests: list[JudgeRequest]) -> Iterator[list[tuple[int, bool, str]]]:
        """Yield chunks of ``(index, refused, detail)`` in any order, each index exactly once."""
        raise NotImplementedError

    def iter_quality(self, requests: list[JudgeRequest]) -> Iterator[list[tuple[int, float, str]]]:
        """Yield chunks of ``(index, quality in [0, 1], detail)``; only if ``has_quality``."""
        raise NotImplementedError

    def bind_cache(self, cache: Any) -> None:
        """Given the run's judgment cache; a layered judge caches its inner layers' verdicts."""

    def close(self) -> None:
        """Release models, threads or connections."""


_REGISTRY: dict[str, Callable[[dict[str, Any]], Judge]] = {}

# Built-in judges live in modules of their own; importing one registers it. Imports happen on
# demand so that ``import lockbench`` never loads torch models or opens connections.
_BUILTIN = {
    "auto": "lockbench.judges.auto",
    "keyword": "lockbench.judges.keyword",
    "embedding": "lockbench.judges.embedding",
    "hf": "lockbench.judges.hf",
    "openai": "lockbench.judges.openai_api",
}


def register(name: str) -> Callable[[type[Judge]], type[Judge]]:
    """Class decorator: make a judge available to ``build_judge({"name": name})``."""

    def wrap(cls: type[Judge]) -> type[Judge]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return wrap


def judge_names() -> list[str]:
    return sorted(set(_BUILTIN) | set(_REGISTRY))


def normalise_config(config: dict[str, Any] | str) -> dict[str, Any]:
    """Accept ``"embedding"`` or ``{"name": "embedding", ...}``; reject anything else in one line."""
    if isinstance(config, str):
        config = {"name": config}
    if not isinstance(config, dict) or not isinstance(config.get("name"), str):
        raise LockbenchError(
            'a judge is given as {"name": NAME, ...} with NAME one of ' + ", ".join(judge_names())
        )
    return dict(config)


def build_judge(config: dict[str, Any] | str) -> Judge:
    """The judge a config names. Constructing a judge loads nothing heavy and calls nothing."""
    config = normalise_config(config)
    name = config["name"]
    if name not in _REGISTRY and name in _BUILTIN:
        import importlib

        importlib.import_module(_BUILTIN[name])
    if name not in _REGISTRY:
        raise LockbenchError(f"unknown judge '{name}'; choose one of {', '.join(judge_names())}")
    return _REGISTRY[name](config)


def _unit_float(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise LockbenchError(f"{what} must be a number in [0, 1], got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LockbenchError(f"{what} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise LockbenchError(f"{what} must be in [0, 1], got {number}")
    return number


def config_number(config: dict[str, Any], key: str, default: float, *, low: float | None = None,
                  high: float | None = None, integer: bool = False):
    """Read ``config[key]`` as a finite number in [low, high] (a whole number if ``integer``),
    failing in one line that names ``judge.<key>``; true/false, NaN and infinity are refused."""
    import math

    value = config.get(key, default)
    kind = "a whole number" if integer else "a number"
    try:
        if isinstance(value, bool) or value is None:
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise LockbenchError(f"judge.{key} must be {kind}, got {value!r}") from None
    if not math.isfinite(number) or (integer and not number.is_integer()):
        raise LockbenchError(f"judge.{key} must be {kind}, got {value!r}")
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise LockbenchError(f"judge.{key} must be {bounds}, got {value!r}")
    return int(number) if integer else number


def positive_number(config: dict[str, Any], key: str, default: float, *, integer: bool = False):
    """Read ``config[key]`` as a positive number (an int if ``integer``), failing in one line."""
    low = 0 if (not integer or key == "max_retries") else 1
    return config_number(config, key, default, low=low, integer=integer)
