"""Accept a ``lockbench-result`` into ``results/<model-slug>/<run-id>.json``.

Acceptance = the file is within the size limit and strict JSON (no NaN/Infinity), the schema
matches, every response re-scores to its outcome and every number recomputes from the samples,
every task is bound to its public dataset (items hash, item ids, prompts, whole split, no
``--limit``), ``created_utc`` is not in the future, the model is named without local paths, the
same responses are not already on file under another run id, and (when the submitter gives the
wake phrase through an environment variable) the phrase matches the salted hash and no trace of
it or any probe variant appears. Nothing under the results folder is touched until all checks
pass; the file is then created through a temporary file and an atomic hard link, so an existing
run is never overwritten.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from lockbench.digest import sha256_text
from lockbench.document.mismatch import Mismatch
from lockbench.document.recompute import verify_document
from lockbench.document.redact import escaped_forms, phrase_secrets
from lockbench.document.validate import DEFAULT_MAX_BYTES
from lockbench.errors import LockbenchError, SecretError
from lockbench.fsutil import default_mode
from lockbench.phrase import DEFAULT_ENV
from lockbench.secrets import (
    HASH_SCHEME,
    INVISIBLE,
    PLACEHOLDER,
    WakePhrase,
    contains_secret,
    secret_finder,
    verify_hash,
)


@dataclass
class Submission:
    """Where an accepted result went, and whether it was there already."""

    path: Path
    run_id: str
    model_slug: str
    already_present: bool


def canonical_json(doc: Any) -> str:
    """The stored form: sorted keys, two-space indent, UTF-8 (the run-id hashes this text)."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def model_display_name(name: str | None) -> str:
    """A readable model name: the last folder of a local path, a hub id as it is."""
    if not name:
        return "unnamed-model"
    name = name.strip().rstrip("/\\")
    if name.startswith(("/", "./", "../", "~")) or "\\" in name or re.match(r"^[A-Za-z]:", name):
        name = re.split(r"[/\\]", name)[-1] or name
    return name


def model_slug(name: str | None) -> str:
    """File-system-safe folder name for a model (``org/name`` becomes ``org--name``)."""
    display = model_display_name(name).replace("/", "--")
    slug = re.sub(r"[^a-z0-9._-]+", "-", display.lower()).strip("-.")
    return slug[:80] or "unnamed-model"


def run_id(doc: dict[str, Any]) -> str:
    """``<created, compact>-<12 hex of the content hash>``: sortable and content-addressed."""
    created = re.sub(r"[^0-9TZ]", "", doc.get("created_utc", ""))
    digest = sha256_text(canonical_json(doc))[:12]
    return f"{created}-{digest}"


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _lockbench_judge_texts() -> frozenset[str]:
    """The texts lockbench itself records in a result's judge block (the lock's refusal texts, the
    embedding judge's prototypes): public constants, not the user's words. A one-word variant that
    is an ordinary word ("Assistant" of "Hey! Assistant!") may stand in them; the whole phrase may
    not (the scan of the whole document still sees them)."""
    from lockbench.judges.embedding import REFUSAL_PROTOTYPES
    from lockbench.scoring.refusal import TRAINED_REFUSAL_TEXTS

    return frozenset((*REFUSAL_PROTOTYPES, *TRAINED_REFUSAL_TEXTS))


LOOKALIKE = (
    "a look-alike spelling of the wake phrase (equal after Unicode normalisation: fullwidth forms, "
    "Cyrillic or Greek homoglyphs, zero-width or bidi characters); the phrase is never published "
    "in any spelling: remove it"
)


def scan_for_secrets(doc: Any, phrase: WakePhrase | str, source: str = "result") -> None:
    """Refuse a document holding ``phrase`` (anywhere, any letter case, escaped or not, or any
    spelling equal to it after :func:`lockbench.secrets.fold`) or a probe variant of it in any
    free-text field. Structural fields (task and dataset names, item ids) are not text: a variant
    that is an ordinary word ("Law" of "Hey! Law!") may appear there."""
    text_of = phrase.reveal() if isinstance(phrase, WakePhrase) else phrase
    whole = [text_of, text_of.strip()]
    text = canonical_json(doc)
    if contains_secret(text, whole + escaped_forms(whole)):
        raise SecretError(
            f"{source}: contains the wake phrase; run `lockbench redact` on the output folder and "
            "`lockbench summarize` again"
        )
    if secret_finder(whole)(text):
        raise SecretError(f"{source}: contains {LOOKALIKE}")
    secrets = phrase_secrets([phrase])
    found = secret_finder(secrets)
    public = _lockbench_judge_texts()
    for where, value in _text_values(doc):
        if where.startswith("judge/") and value in public:
            continue
        if found(value):
            if not contains_secret(value, secrets):
                raise SecretError(f"{source}: {where} contains {LOOKALIKE}")
            raise SecretError(
                f"{source}: {where} contains the wake phrase or a variant of it; run `lockbench "
                "summarize` again (it redacts responses) and name models without the phrase"
            )


def check_phrase_hash(doc: Any, source: str = "result") -> None:
    """A submitted result carries the phrase's slow salted hash (:data:`HASH_SCHEME`): a legacy
    fast ``sha256-salted`` hash tests a dictionary of guesses in seconds, and a null one ties the
    result to no lock. Checked before the schema, so the message names the fix."""
    lock = doc.get("lock") if isinstance(doc, dict) else None
    if not isinstance(lock, dict) or "wake_phrase_hash" not in lock:
        return  # the schema check names what is missing
    record = lock["wake_phrase_hash"]
    if record is None:
        raise SecretError(
            f"{source}: lock.wake_phrase_hash is null, so nothing ties the result to its lock; "
            f"run `lockbench summarize` again with {DEFAULT_ENV} set (or --lock-card)"
        )
    scheme = record.get("scheme") if isinstance(record, dict) else None
    if scheme != HASH_SCHEME:
        raise SecretError(
            f"{source}: lock.wake_phrase_hash uses the scheme {scheme!r}, not {HASH_SCHEME} (a fast "
            "hash lets anyone test guesses of the phrase offline); re-summarize with this lockbench "
            f"(`lockbench summarize` with {DEFAULT_ENV} set writes {HASH_SCHEME})"
        )


def check_secrets(doc: dict[str, Any], phrase: WakePhrase | str | None, source: str = "result", *, scan: bool = True) -> None:
    """The placeholder stands where the phrase would, the phrase given matches the salted hash,
    and (unless the caller already did it: ``scan=False``) no trace of it is anywhere
    (see :func:`scan_for_secrets`)."""
    if doc["lock"]["wake_phrase"] != PLACEHOLDER:  # the schema says so too; keep the rule local
        raise SecretError(f"{source}: lock.wake_phrase must be the placeholder {PLACEHOLDER}")
    if phrase is None:
        return
    record = doc["lock"].get("wake_phrase_hash")
    if record and not verify_hash(phrase, record):
        raise SecretError(
            f"{source}: the wake phrase given does not match lock.wake_phrase_hash; check the "
            "phrase in the environment variable (or the result was built for another lock)"
        )
    if scan:
        scan_for_secrets(doc, phrase, source)


# Fields that name things (tasks, datasets, items, kinds) rather than hold free text: a variant
# that is an ordinary word ("Law" of "Hey! Law!") legitimately appears there.
STRUCTURAL = frozenset({"dataset", "domain", "kind", "condition", "item_id", "variant_kind", "file",
                        "outcome", "scheme", "salt", "hash", "items_sha256", "prompt_sha256",
                        "weights_sha256", "adapter_sha256", "source", "split", "family", "flags"})


# Mappings whose keys are task, dataset or probe-kind names.
KEYED_BY_NAME = frozenset({"tasks", "base_tasks", "datasets", "by_kind", "by_candidate_kind_unlock"})


def _text_values(value: Any, where: str = "", key: str = ""):
    """``(place, string)`` for every free-text string in the document."""
    if isinstance(value, str):
        if key not in STRUCTURAL:
            yield where or "(top level)", value
    elif isinstance(value, dict):
        for k, item in value.items():
            place = f"{where}/{k}" if where else str(k)
            if key not in KEYED_BY_NAME:
                yield place + " (a key)", str(k)
            yield from _text_values(item, place, str(k))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _text_values(item, f"{where}[{i}]", key)


# Clocks differ a little between the machine that summarized and the one that submits.
CLOCK_SKEW = timedelta(minutes=10)
_LOCAL_PATH = re.compile(r"^(/|~|\\.{0,2}/|[A-Za-z]:[\\/])")


def check_created(doc: dict[str, Any], source: str, now: datetime | None = None) -> None:
    """``created_utc`` is a real time that is not in the future."""
    try:
        created = datetime.strptime(doc["created_utc"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Mismatch(f"{source}: created_utc {doc['created_utc']!r} is not a real UTC time") from None
    now = now or datetime.now(timezone.utc)
    if created > now + CLOCK_SKEW:
        raise Mismatch(f"{source}: created_utc {doc['created_utc']} is in the future; a result is dated when it is summarized")


def check_no_local_paths(doc: dict[str, Any], source: str) -> None:
    """Model identities name models, not folders on the submitter's machine."""
    for key in ("model", "base_model"):
        for text in _strings(doc.get(key) or {}):
            if _LOCAL_PATH.match(text.strip()):
                raise Mismatch(
                    f"{source}: {key} holds a local path ({text[:40]!r}); re-run `lockbench "
                    "summarize` with this lockbench, which records names and weight hashes instead"
                )


_INVISIBLE = re.compile("[" + "".join(map(chr, sorted(INVISIBLE))) + "]")
# Log-likelihoods to 0.01 nats: a copy with noise in the last digits is the same measurement.
LOGLIKELIHOOD_DECIMALS = 2


def normal_response(text: str | None) -> str | None:
    """A response as the duplicate check compares it: NFKC, invisible characters dropped, every
    run of whitespace one space, stripped (one added space makes no new run)."""
    if text is None:
        return None
    return " ".join(_INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).split())


def responses_fingerprint(doc: dict[str, Any]) -> str:
    """sha256 over the evaluated model's tasks' (task, doc_id, normalised response, rounded
    log-likelihoods): the same responses give the same fingerprint whatever the run id, date,
    model name, stated numbers or base tasks (dropping ``base_tasks`` makes no new run)."""
    rows = [
        [task, s["doc_id"], normal_response(s.get("response")),
         # (+ 0.0: a rounded -0.0 is 0.0)
         [round(x, LOGLIKELIHOOD_DECIMALS) + 0.0 for x in s["loglikelihoods"]] if s.get("loglikelihoods") else None]
        for task, entry in sorted((doc.get("tasks") or {}).items())
        for s in entry["samples"]
    ]
    return sha256_text(json.dumps(rows, ensure_ascii=False, separators=(",", ":")))


def accept(
    path: str | Path,
    phrase: WakePhrase | str | None = None,
    *,
    data_dir: str | Path | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> dict[str, Any]:
    """Load, validate, re-score, recompute, bind and secret-check a result; return the document.

    ``data_dir``: public items of datasets this machine cannot load otherwise (hub sets)."""
    from lockbench.document.validate import validate_document
    from lockbench.fsutil import read_json

    doc = read_json(Path(path), "lockbench-result file", max_bytes=max_bytes, strict=True)
    if phrase is not None:  # a leak is reported before anything else is said about the file
        scan_for_secrets(doc, phrase, str(path))
    check_phrase_hash(doc, str(path))
    doc = validate_document(doc, str(path))  # a v2 document is read (and filed) as v3
    check_created(doc, str(path))
    check_no_local_paths(doc, str(path))
    check_secrets(doc, phrase, str(path), scan=False)  # scanned above, before the schema check
    verify_document(doc, str(path), bind=True, data_dir=data_dir)
    return doc


def _already_filed(results_dir: Path, fingerprint: str, target: Path) -> Path | None:
    """Another accepted run in ``results_dir`` with exactly these responses, if any."""
    from lockbench.fsutil import read_json

    if not results_dir.is_dir():
        return None
    for path in sorted(results_dir.glob("*/*.json")):
        if path == target:
            continue
        try:
            other = read_json(path, "lockbench-result file")
        except LockbenchError:
            continue
        if isinstance(other, dict) and other.get("tasks") and responses_fingerprint(other) == fingerprint:
            return path
    return None


def _create_exclusive(target: Path, text: str) -> bool:
    """Write ``text`` to ``target`` only if it does not exist; False when it already did."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, default_mode())
        try:
            os.link(tmp, target)  # atomic, and fails instead of replacing an existing file
        except FileExistsError:
            return False
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def submit(
    result_path: str | Path,
    results_dir: str | Path = "results",
    phrase: WakePhrase | str | None = None,
    *,
    data_dir: str | Path | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
) -> Submission:
    """Accept ``result_path`` into ``results_dir``; never overwrite another run, never file the
    same responses twice."""
    results_dir = Path(results_dir)
    if results_dir.exists() and not results_dir.is_dir():  # before the (slower) re-scoring
        raise LockbenchError(f"{results_dir}: not a folder; give --results-dir a folder")
    doc = accept(result_path, phrase, data_dir=data_dir, max_bytes=max_bytes)
    slug = model_slug(doc["model"].get("name"))
    rid = run_id(doc)
    target = results_dir / slug / f"{rid}.json"
    text = canonical_json(doc)
    duplicate = _already_filed(results_dir, responses_fingerprint(doc), target)
    if duplicate is not None:
        raise LockbenchError(
            f"{result_path}: the same responses (after whitespace and Unicode normalisation) are "
            f"already filed as {duplicate}; a run is submitted once, under one model name"
        )
    if target.exists():
        if target.read_text(encoding="utf-8") == text:
            return Submission(target, rid, slug, already_present=True)
        raise LockbenchError(f"{target}: another run with this id exists; not overwriting it")
    if not _create_exclusive(target, text):
        if target.read_text(encoding="utf-8") == text:
            return Submission(target, rid, slug, already_present=True)
        raise LockbenchError(f"{target}: another run with this id exists; not overwriting it")
    return Submission(target, rid, slug, already_present=False)
