"""lm-eval's own output, secret-free as it is written: results, samples and log lines.

lm-eval writes full prompts (with the wake phrase) into ``samples_*.jsonl``, the ``--metadata`` it
was given into ``results_*.json``, sha256 hashes of phrase-bearing text (``doc_hash``,
``prompt_hash``, ``target_hash``, ``task_hashes``, ``system_instruction_sha``) into both, and logs
its metadata. Each such hash is an offline oracle: a guess at the phrase can be checked against it
without the slow salted hash. :func:`install` (called by lockbench's start-up hook once
``lm_eval.tasks`` is imported) patches lm-eval's ``EvaluationTracker`` so that every file it
writes is redacted first (text fields only, :func:`lockbench.secrets.redact_fields`) and every
hash is recomputed over the redacted text, and routes every log record and warning through
:class:`RedactingFilter`.

The phrases known to the process: ``$LOCKBENCH_WAKE_PHRASE`` (read when used), the phrase of the
latest ``TaskManager``'s metadata (``wake_phrase`` / ``wake_phrase_file``), and any phrase a
lockbench task resolved (:func:`remember_phrase`). Their probe variants
(:func:`lockbench.probes.secret_variants`) are redacted too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import traceback
import warnings
from collections.abc import Mapping
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.phrase import resolve_phrase
from lockbench.secrets import (
    PLACEHOLDER,
    redact_fields,
    redact_logged_sample,
    redact_text,
    salted_hash,
)

_phrases: dict[str, None] = {}  # insertion-ordered set of the phrases given to this run
_installed = False


def remember_phrase(phrase: str) -> None:
    """Add a phrase (and so its probe variants) to what lm-eval's output must not show."""
    if phrase and phrase.strip() and phrase != PLACEHOLDER:
        _phrases[phrase] = None


def forget_phrases() -> None:
    """Start a new run's set: a TaskManager with new metadata replaces the phrases it carried."""
    _phrases.clear()


def known_phrases() -> list[str]:
    """The phrases given to this process: remembered ones and ``$LOCKBENCH_WAKE_PHRASE``."""
    phrases = list(_phrases)
    try:
        env = resolve_phrase()
    except LockbenchError:  # a bad variable stops the task that needs it, with its own message
        env = None
    if env is not None and env not in phrases:
        phrases.append(env)
    return phrases


@functools.lru_cache(maxsize=32)
def _secrets_for(phrases: tuple[str, ...]) -> tuple[str, ...]:
    from lockbench.probes import secret_variants

    found: list[str] = []
    for phrase in phrases:
        found += secret_variants(phrase)
    # JSON-escaped forms too, for text that already holds serialised JSON
    found += [json.dumps(s)[1:-1] for s in found]
    return tuple(dict.fromkeys(found))


def current_secrets() -> list[str]:
    """Every string to redact now: the known phrases and all their derived variants."""
    phrases = tuple(known_phrases())
    return list(_secrets_for(phrases)) if phrases else []


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def redact_sample(sample: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
    """One logged sample with its text fields redacted and lm-eval's three hashes recomputed over
    the redacted text (the same formulas as ``lm_eval.evaluator``)."""
    from lm_eval.utils import handle_non_serializable

    clean = redact_logged_sample(dict(sample), secrets)
    if "doc_hash" in clean:
        clean["doc_hash"] = _sha(
            json.dumps(clean.get("doc"), indent=2, default=handle_non_serializable, ensure_ascii=False)
        )
    if "prompt_hash" in clean:
        arguments = clean.get("arguments") or []
        first = arguments[0] if isinstance(arguments, list) and arguments else None
        if isinstance(first, dict):  # already in the saved form {"gen_args_0": {"arg_0": ...}}
            first = list(first.values())
        prompt = first[0] if isinstance(first, list) and first else None
        clean["prompt_hash"] = _sha(prompt) if isinstance(prompt, str) else None
    if "target_hash" in clean:
        clean["target_hash"] = _sha(str(clean.get("target")))
    return clean


def lockbench_block(phrases: list[str]) -> dict[str, Any]:
    """What lockbench adds to a results file: the placeholder and the phrase's salted hash, so
    ``lockbench summarize`` can still record a verifiable hash."""
    block: dict[str, Any] = {"wake_phrase": PLACEHOLDER, "redacted_on_write": True}
    if phrases:
        block["wake_phrase_hash"] = salted_hash(phrases[0])
    return block


def _redact_tracker(tracker: Any, secrets: list[str]) -> None:
    """The run-config tracker keeps the system instruction and its sha: redact both."""
    config = getattr(tracker, "general_config_tracker", None)
    text = getattr(config, "system_instruction", None)
    if isinstance(text, str):
        clean = redact_text(text, secrets)
        if clean != text:
            config.system_instruction = clean
            config.system_instruction_sha = _sha(clean)


def _patch_tracker(tracker_cls: type) -> None:
    if getattr(tracker_cls, "_lockbench_redacts", False):
        return
    save_aggregated = tracker_cls.save_results_aggregated
    save_samples = tracker_cls.save_results_samples

    @functools.wraps(save_aggregated)
    def save_results_aggregated(self, results: dict, samples: dict | None = None) -> None:
        phrases = known_phrases()
        secrets = current_secrets()
        if secrets:
            _redact_tracker(self, secrets)
            results = redact_fields(results, secrets)
            results["lockbench"] = lockbench_block(phrases)
            if samples:  # lm-eval's task_hashes are made from the samples' hashes
                samples = {t: [redact_sample(s, secrets) for s in rows] for t, rows in samples.items()}
        return save_aggregated(self, results=results, samples=samples)

    @functools.wraps(save_samples)
    def save_results_samples(self, task_name: str, samples: Any) -> None:
        secrets = current_secrets()
        if secrets:
            samples = [redact_sample(s, secrets) for s in samples]
        return save_samples(self, task_name=task_name, samples=samples)

    tracker_cls.save_results_aggregated = save_results_aggregated
    tracker_cls.save_results_samples = save_results_samples
    tracker_cls._lockbench_redacts = True


def _patch_task_manager(manager_cls: type) -> None:
    """Learn the phrase from the metadata every run passes to its TaskManager."""
    if getattr(manager_cls, "_lockbench_learns_phrase", False):
        return
    original = manager_cls.__init__

    @functools.wraps(original)
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - mirrors the wrapped method
        metadata = kwargs.get("metadata", args[3] if len(args) > 3 else None)
        if isinstance(metadata, Mapping):
            forget_phrases()
            try:
                phrase = resolve_phrase(metadata)
            except LockbenchError:
                phrase = None  # the task that needs it stops with the one-line message
            if phrase is not None:
                remember_phrase(phrase)
        original(self, *args, **kwargs)

    manager_cls.__init__ = __init__
    manager_cls._lockbench_learns_phrase = True


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message (and traceback) with every known secret replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = current_secrets()
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        clean = redact_text(message, secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text, secrets)
        return True


def _install_log_redaction() -> None:
    """Every record, whichever logger or handler it reaches (handlers created later included),
    passes the filter when it is made; warnings printed by ``warnings`` too."""
    redactor = RedactingFilter()
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "_lockbench_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        redactor.filter(record)
        return record

    factory._lockbench_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    format_warning = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
        text = format_warning(message, category, filename, lineno, line)
        secrets = current_secrets()
        return redact_text(text, secrets) if secrets else text

    warnings.formatwarning = formatwarning


def install() -> None:
    """Patch lm-eval's writers, its TaskManager and logging; safe to call more than once."""
    global _installed
    if _installed:
        return
    from lm_eval.loggers.evaluation_tracker import EvaluationTracker
    from lm_eval.tasks import TaskManager

    _patch_tracker(EvaluationTracker)
    _patch_task_manager(TaskManager)
    _install_log_redaction()
    _installed = True
