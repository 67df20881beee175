"""Accept a ``lockbench-result`` into ``results/<model-slug>/<run-id>.json``.

Acceptance = the schema matches, every number recomputes from the samples, and (when the
submitter gives the wake phrase through an environment variable) the phrase matches the salted
hash and no trace of it or any probe variant appears anywhere in the document. Nothing under the
results folder is touched until all checks pass; the file is then created through a temporary
file and an atomic hard link, so an existing run is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError, SecretError
from lockbench.fsutil import default_mode
from lockbench.results.recompute import verify_document
from lockbench.results.redact import escaped_forms, phrase_secrets
from lockbench.results.validate import load_result
from lockbench.secrets import PLACEHOLDER, contains_secret, verify_hash

DEFAULT_PHRASE_ENV = "LOCKBENCH_WAKE_PHRASE"


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
    digest = hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()[:12]
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


def check_secrets(doc: dict[str, Any], phrase: str | None, source: str = "result") -> None:
    """Refuse a document that leaks ``phrase`` (or a variant) or whose hash does not match it."""
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
    secrets = phrase_secrets([phrase])
    forms = secrets + escaped_forms(secrets)
    for text in _strings(doc):
        if contains_secret(text, forms):
            raise SecretError(
                f"{source}: contains the wake phrase or a variant of it; run `lockbench redact` "
                "on the output folder and `lockbench summarize` again"
            )
    if contains_secret(canonical_json(doc), forms):
        raise SecretError(f"{source}: contains the wake phrase or a variant of it")


def accept(path: str | Path, phrase: str | None = None) -> dict[str, Any]:
    """Load, validate, recompute and secret-check a result; return the document."""
    doc = load_result(path)
    verify_document(doc, str(path))
    check_secrets(doc, phrase, str(path))
    return doc


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
    result_path: str | Path, results_dir: str | Path = "results", phrase: str | None = None
) -> Submission:
    """Accept ``result_path`` into ``results_dir``; never overwrite another run."""
    doc = accept(result_path, phrase)
    results_dir = Path(results_dir)
    if results_dir.exists() and not results_dir.is_dir():
        raise LockbenchError(f"{results_dir}: not a folder; give --results-dir a folder")
    slug = model_slug(doc["model"].get("name"))
    rid = run_id(doc)
    target = results_dir / slug / f"{rid}.json"
    text = canonical_json(doc)
    if target.exists():
        if target.read_text(encoding="utf-8") == text:
            return Submission(target, rid, slug, already_present=True)
        raise LockbenchError(f"{target}: another run with this id exists; not overwriting it")
    if not _create_exclusive(target, text):
        if target.read_text(encoding="utf-8") == text:
            return Submission(target, rid, slug, already_present=True)
        raise LockbenchError(f"{target}: another run with this id exists; not overwriting it")
    return Submission(target, rid, slug, already_present=False)
