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

import difflib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from lockbench.digest import sha256_text
from lockbench.errors import LockbenchError
from lockbench.scoring.config import Strings  # noqa: F401 (judge settings use it)

QUESTIONS = ("refusal", "quality")


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read true as 1
        raise ValueError("true/false is not a number")
    return value


# Numbers of a judge config: true/false refused, NaN and infinity too (allow_inf_nan below).
Number = Annotated[float, BeforeValidator(_not_bool)]
Whole = Annotated[int, BeforeValidator(_not_bool)]
Unit = Annotated[Number, Field(ge=0, le=1)]
NonNegative = Annotated[Number, Field(ge=0)]
Count = Annotated[Whole, Field(ge=1)]


class JudgeSettings(BaseModel):
    """The keys of a judge config every judge reads; a judge adds its own in a subclass
    (``Judge.Settings``). Unknown keys are refused with a did-you-mean, so a misspelt setting
    never falls back to a default in silence."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    name: str
    threshold: Unit | None = None  # the pass mark of a dialogue answer's quality
    cache: bool | str = True  # read by lockbench.judges.cache.open_cache


def read_settings(model: type[JudgeSettings], config: dict[str, Any]) -> JudgeSettings:
    """``config`` checked against ``model``; the first problem as one line naming ``judge.<key>``."""
    known = list(model.model_fields)
    for key in config:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"the {config.get('name')} judge reads: {', '.join(known)}"
            raise LockbenchError(f"unknown key judge.{key}; {hint}")
    try:
        return model.model_validate(config)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = str(first["ctx"]["error"]) if first["type"] == "value_error" else first["msg"]
        message = message[0].lower() + message[1:]
        raise LockbenchError(f"judge.{where}: {message}, got {first.get('input')!r}") from None


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

    #: The keys this judge's config may carry, with their types and bounds.
    Settings: ClassVar[type[JudgeSettings]] = JudgeSettings

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = dict(config)
        self.settings = read_settings(self.Settings, self.config)
        self.calls = 0
        if self.settings.threshold is not None:
            self.quality_threshold = self.settings.threshold

    def identity(self) -> dict[str, Any]:
        """Everything that changes a verdict; JSON-serialisable. Subclasses extend it."""
        return {"name": self.name, "quality_threshold": self.quality_threshold}

    def identity_hash(self) -> str:
        text = json.dumps(self.identity(), sort_keys=True, ensure_ascii=False)
        return sha256_text(text)[:32]

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
