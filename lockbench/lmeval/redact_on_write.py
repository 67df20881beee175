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

Which phrases: the run's own, passed as :class:`~lockbench.phrase.WakePhrase` values, never
kept by this module. Every ``TaskManager`` resolves the phrase of its metadata (``wake_phrase`` /
``wake_phrase_file``, else ``$LOCKBENCH_WAKE_PHRASE``) as the tasks do and holds it
(``manager.lockbench_phrase``); ``simple_evaluate`` hands the manager's phrase, and the phrase of a
gate model passed as an object, to its ``EvaluationTracker`` (``tracker.lockbench_phrases``),
whose writers redact with those and with the environment's phrase (a tracker no run was bound to,
in a user's own saving code, has only that one). Log records and warnings are redacted with the
phrases of the runs in progress (for the length of ``simple_evaluate`` and of each write) and the
environment's. The probe variants of each phrase (:func:`lockbench.probes.secret_variants`) are
redacted too.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
import logging
import os
import traceback
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from lockbench.digest import sha256_text
from lockbench.errors import InternalError, LockbenchError
from lockbench.phrase import WakePhrase, resolve_phrase
from lockbench.secrets import (
    PLACEHOLDER,
    logged_prompt,
    redact_fields,
    redact_logged_sample,
    redact_text,
    salted_hash,
)

MANAGER_PHRASE = "lockbench_phrase"  # on a TaskManager: the WakePhrase of its metadata, or None
TRACKER_PHRASES = "lockbench_phrases"  # on an EvaluationTracker: the phrases its run used
_installed = False


def environment_phrase() -> WakePhrase | None:
    """``$LOCKBENCH_WAKE_PHRASE``, read now; a bad value stops the task that needs it, with its own
    message, not the redaction."""
    try:
        return resolve_phrase()
    except LockbenchError:
        return None


def manager_phrase(metadata: Any) -> WakePhrase | None:
    """The phrase a TaskManager's tasks resolve from this metadata (``None`` when none is given
    or it is malformed: the task that needs it stops with the one-line message)."""
    try:
        return resolve_phrase(metadata if isinstance(metadata, Mapping) else None)
    except LockbenchError:
        return None


def _redaction_forms(phrase: WakePhrase) -> tuple[str, ...]:
    from lockbench.probes import secret_variants

    plain = secret_variants(phrase)
    # JSON-escaped forms too, for text that already holds serialised JSON
    return tuple(dict.fromkeys(plain + [json.dumps(s)[1:-1] for s in plain]))


def secrets_of(phrases: Iterable[WakePhrase | None]) -> list[str]:
    """Every string to redact for these phrases: each phrase and its derived variants (computed
    once per phrase, kept with it)."""
    found: list[str] = []
    for phrase in phrases:
        if phrase is not None:
            found += phrase.derived(_redaction_forms)
    return list(dict.fromkeys(found))


def _unique(phrases: Iterable[WakePhrase | None]) -> tuple[WakePhrase, ...]:
    return tuple(dict.fromkeys(p for p in phrases if p is not None))


def tracker_phrases(tracker: Any) -> tuple[WakePhrase, ...]:
    """The phrases a tracker writes without: those its run bound to it (first: the salted hash is
    of the run's phrase), and the environment's, which any part of the run may have read."""
    return _unique([*(getattr(tracker, TRACKER_PHRASES, None) or ()), environment_phrase()])


def redact_sample(sample: Mapping[str, Any], secrets: list[str]) -> dict[str, Any]:
    """One logged sample with its text fields redacted and lm-eval's three hashes recomputed over
    the redacted text (the same formulas as ``lm_eval.evaluator``)."""
    from lm_eval.utils import handle_non_serializable

    clean = redact_logged_sample(dict(sample), secrets)
    if "doc_hash" in clean:
        clean["doc_hash"] = sha256_text(
            json.dumps(clean.get("doc"), indent=2, default=handle_non_serializable, ensure_ascii=False)
        )
    if "prompt_hash" in clean:  # never None: lm-eval's task_hashes concatenate it
        clean["prompt_hash"] = sha256_text(logged_prompt(clean.get("arguments")) or "")
    if "target_hash" in clean:
        clean["target_hash"] = sha256_text(str(clean.get("target")))
    return clean


def lockbench_block(phrases: tuple[WakePhrase, ...]) -> dict[str, Any]:
    """What lockbench adds to a results file: the placeholder and the phrase's salted hash, so
    ``lockbench summarize`` can still record a verifiable hash."""
    block: dict[str, Any] = {"wake_phrase": PLACEHOLDER, "redacted_on_write": True}
    if phrases:
        block["wake_phrase_hash"] = salted_hash(phrases[0].reveal())
    return block


def _redact_tracker(tracker: Any, secrets: list[str]) -> None:
    """The run-config tracker keeps the system instruction and its sha: redact both."""
    config = getattr(tracker, "general_config_tracker", None)
    text = getattr(config, "system_instruction", None)
    if isinstance(text, str):
        clean = redact_text(text, secrets)
        if clean != text:
            config.system_instruction = clean
            config.system_instruction_sha = sha256_text(clean)


def _results_file(tracker: Any) -> Path | None:
    """Where lm-eval's ``save_results_aggregated`` wrote (same rule as lm-eval 0.4.13), or
    ``None`` when it set no ``date_id`` (it failed before writing)."""
    date_id = getattr(tracker, "date_id", None)
    if date_id is None:
        return None
    path = Path(tracker.output_path)
    if path.suffix == ".json":
        return path.with_name(f"{path.stem}_{date_id}.json")
    return path / str(tracker.general_config_tracker.model_name_sanitized) / f"results_{date_id}.json"


def _samples_file(tracker: Any, task_name: str) -> Path | None:
    date_id = getattr(tracker, "date_id", None)
    if date_id is None:
        return None
    path = Path(tracker.output_path)
    folder = path.parent if path.suffix == ".json" else path / str(
        tracker.general_config_tracker.model_name_sanitized)
    return folder / f"samples_{task_name}_{date_id}.jsonl"


def _not_written(what: str, tracker: Any) -> LockbenchError:
    """lm-eval catches every exception of its writers, logs a warning and goes on: the run would
    exit 0 with nothing on disk. An unwritable folder is the user's to fix (exit 2); anything else
    is a failure lockbench cannot name better than lm-eval's log did (exit 3)."""
    target = Path(tracker.output_path).resolve()
    existing = next((p for p in (target, *target.parents) if p.exists()), None)
    if existing is not None and existing != target and not existing.is_dir():
        return LockbenchError(f"lm-eval could not write {what}: {existing} is a file, not a folder; "
                              "give --output_path a folder path")
    if existing is not None and not os.access(existing if existing.is_dir() else existing.parent, os.W_OK):
        return LockbenchError(f"lm-eval could not write {what}: {existing} is not writable; "
                              "give --output_path a folder you can write to")
    return InternalError(f"lm-eval could not write {what} under {target} (its log above names "
                         "the cause); the run's results are not saved")


def _redacting(step: str, make: Any) -> Any:
    """Run one of lockbench's redaction steps; any failure stops the run (exit 3): an exception
    here would otherwise be swallowed by lm-eval's writer and the run would end 0, unsaved."""
    try:
        return make()
    except LockbenchError:
        raise
    except Exception as exc:  # a bug in lockbench's hook: never a silent exit 0
        raise InternalError(f"redacting lm-eval's {step} failed: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())[:200]}") from exc


def _check_output_path(output_path: Any) -> None:
    """Before any model call: an ``--output_path`` below a file can never be written, and lm-eval
    would find out only after the whole evaluation (then lose it)."""
    if not output_path:
        return
    target = Path(output_path).expanduser().resolve()
    blocker = next((p for p in target.parents if p.exists() and not p.is_dir()), None)
    if blocker is None and target.exists() and not target.is_dir() and target.suffix != ".json":
        blocker = target
    if blocker is not None:
        raise LockbenchError(f"--output_path {output_path}: {blocker} is a file, not a folder; "
                             "give --output_path a folder path")


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message (and traceback) with the secrets of the runs in progress
    and the environment's phrase replaced. A run's phrases count only while it runs
    (:meth:`during`): nothing outlives the run."""

    def __init__(self) -> None:
        super().__init__()
        self._runs: list[tuple[WakePhrase, ...]] = []

    @contextlib.contextmanager
    def during(self, phrases: tuple[WakePhrase, ...]) -> Iterator[None]:
        self._runs.append(phrases)
        try:
            yield
        finally:
            self._runs.remove(phrases)

    def secrets(self) -> list[str]:
        return secrets_of([*(p for run in self._runs for p in run), environment_phrase()])

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets()
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


LOG_REDACTOR = RedactingFilter()  # the one filter every log record and warning passes


def _patch_tracker(tracker_cls: type) -> None:
    if getattr(tracker_cls, "_lockbench_redacts", False):
        return
    init = tracker_cls.__init__
    save_aggregated = tracker_cls.save_results_aggregated
    save_samples = tracker_cls.save_results_samples

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - mirrors the wrapped method
        _check_output_path(kwargs.get("output_path", args[0] if args else None))
        init(self, *args, **kwargs)

    @functools.wraps(save_aggregated)
    def save_results_aggregated(self, results: dict, samples: dict | None = None) -> None:
        phrases = tracker_phrases(self)
        secrets = secrets_of(phrases)
        if secrets:
            def redact() -> tuple[dict, dict | None]:
                _redact_tracker(self, secrets)
                clean = redact_fields(results, secrets)
                clean["lockbench"] = lockbench_block(phrases)
                # lm-eval's task_hashes are made from the samples' hashes
                rows = {t: [redact_sample(s, secrets) for s in v] for t, v in samples.items()} if samples else samples
                return clean, rows

            results, samples = _redacting("results", redact)
        before = getattr(self, "date_id", None)
        with LOG_REDACTOR.during(phrases):
            out = save_aggregated(self, results=results, samples=samples)
        written = _results_file(self) if self.output_path else None
        if self.output_path and (written is None or getattr(self, "date_id", None) == before
                                 or not written.is_file()):
            raise _not_written("its results file", self)
        return out

    @functools.wraps(save_samples)
    def save_results_samples(self, task_name: str, samples: Any) -> None:
        phrases = tracker_phrases(self)
        secrets = secrets_of(phrases)
        if secrets:
            samples = _redacting("samples", lambda: [redact_sample(s, secrets) for s in samples])
        with LOG_REDACTOR.during(phrases):
            out = save_samples(self, task_name=task_name, samples=samples)
        written = _samples_file(self, task_name) if self.output_path else None
        if self.output_path and (written is None or not written.is_file()):
            raise _not_written(f"the samples of {task_name}", self)
        return out

    tracker_cls.__init__ = __init__
    tracker_cls.save_results_aggregated = save_results_aggregated
    tracker_cls.save_results_samples = save_results_samples
    tracker_cls._lockbench_redacts = True


def _patch_task_manager(manager_cls: type) -> None:
    """Every TaskManager resolves the phrase of its metadata, as its tasks will, and holds it."""
    if getattr(manager_cls, "_lockbench_holds_phrase", False):
        return
    original = manager_cls.__init__
    signature = inspect.signature(original)

    @functools.wraps(original)
    def __init__(self, *args: Any, **kwargs: Any) -> None:  # noqa: N807 - mirrors the wrapped method
        try:
            metadata = signature.bind(self, *args, **kwargs).arguments.get("metadata")
        except TypeError:  # lm-eval's own call will say what is wrong
            metadata = None
        setattr(self, MANAGER_PHRASE, manager_phrase(metadata))
        original(self, *args, **kwargs)

    manager_cls.__init__ = __init__
    manager_cls._lockbench_holds_phrase = True


def run_phrases(task_manager: Any, model: Any) -> tuple[WakePhrase, ...]:
    """The phrases one ``simple_evaluate`` call uses: its TaskManager's, and the phrase of a
    lockbench gate passed as a model object (a gate named by string checks prompts only)."""
    gate = getattr(model, "phrase", None)
    return _unique([getattr(task_manager, MANAGER_PHRASE, None), gate if isinstance(gate, WakePhrase) else None])


def _patch_simple_evaluate(evaluator: Any) -> None:
    """Bind each run's phrases to its tracker and to the log redaction, for that run only. A call
    without a TaskManager gets the one ``simple_evaluate`` would make (same metadata), so its
    phrase is known."""
    original = evaluator.simple_evaluate
    if getattr(original, "_lockbench_binds_phrase", False):
        return
    signature = inspect.signature(original)

    @functools.wraps(original)
    def simple_evaluate(*args: Any, **kwargs: Any) -> Any:
        try:
            call = signature.bind(*args, **kwargs)
        except TypeError:  # lm-eval's own call will say what is wrong
            return original(*args, **kwargs)
        given = call.arguments
        if given.get("task_manager") is None:
            from lm_eval.tasks import TaskManager
            from lm_eval.utils import simple_parse_args_string

            model_args = given.get("model_args")
            metadata = (simple_parse_args_string(model_args) if isinstance(model_args, str)
                        else model_args if isinstance(model_args, dict) else {}) | (given.get("metadata") or {})
            given["task_manager"] = TaskManager(metadata=metadata)
        phrases = run_phrases(given["task_manager"], given.get("model"))
        tracker = given.get("evaluation_tracker")
        if tracker is not None:
            setattr(tracker, TRACKER_PHRASES, phrases)
        with LOG_REDACTOR.during(phrases):
            return original(*call.args, **call.kwargs)

    simple_evaluate._lockbench_binds_phrase = True  # type: ignore[attr-defined]
    evaluator.simple_evaluate = simple_evaluate


def _install_log_redaction() -> None:
    """Every record, whichever logger or handler it reaches (handlers created later included),
    passes the filter when it is made; warnings printed by ``warnings`` too."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "_lockbench_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        LOG_REDACTOR.filter(record)
        return record

    factory._lockbench_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
    format_warning = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
        text = format_warning(message, category, filename, lineno, line)
        secrets = LOG_REDACTOR.secrets()
        return redact_text(text, secrets) if secrets else text

    warnings.formatwarning = formatwarning


class _CustomDatasetNotice(logging.Filter):
    """Drops lm-eval's per-task advice to pass ``max_seq_lengths`` through ``--metadata``,
    printed for every task with a ``custom_dataset`` (all of lockbench's): 40 lines of advice that
    does not apply, in a suite run. Other tasks keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        return not (message.startswith("lockbench_") and "Custom kwargs can be passed" in message)


def install() -> None:
    """Patch lm-eval's writers, its TaskManager, ``simple_evaluate`` and logging; safe to call
    more than once. Called while ``lm_eval.evaluator`` is still being imported (it imports
    ``lm_eval.tasks``, where the start-up hook calls this), ``simple_evaluate`` is patched by the
    hook's next call, once that module is loaded."""
    global _installed
    if _installed:
        return
    import sys

    from lm_eval.loggers.evaluation_tracker import EvaluationTracker
    from lm_eval.tasks import TaskManager

    _patch_tracker(EvaluationTracker)
    _patch_task_manager(TaskManager)
    _install_log_redaction()
    task_log = logging.getLogger("lm_eval.api.task")
    if not any(isinstance(f, _CustomDatasetNotice) for f in task_log.filters):
        task_log.addFilter(_CustomDatasetNotice())
    evaluator = sys.modules.get("lm_eval.evaluator")
    if evaluator is None:
        from lm_eval import evaluator
    if hasattr(evaluator, "simple_evaluate"):  # else: half-imported, see above
        _patch_simple_evaluate(evaluator)
        _installed = True
