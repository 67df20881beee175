"""Rewrite an lm-eval output folder so the wake phrase (and every probe variant of it) is gone.

lm-eval's samples files hold full prompts and its results files hold the ``--metadata`` it was
given: both carry the phrase. Each file is rewritten on its own through a temporary file and
``os.replace``, so an interruption leaves every file either untouched or fully redacted.
JSON files are redacted value by value (so escaped forms such as ``\\u00e9`` are caught too);
other text files line by line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbench.digest import sha256_text
from lockbench.document.lmeval_output import find_runs, lmeval_doc_hash
from lockbench.document.summarize import secrets_of
from lockbench.errors import LockbenchError, SecretError
from lockbench.fsutil import atomic_write_text
from lockbench.secrets import (
    PLACEHOLDER,
    WakePhrase,
    contains_secret,
    logged_prompt,
    redact_fields,
    redact_logged_sample,
    redact_text,
    salted_hash,
    secret_in_fields,
)

TEXT_SUFFIXES = {".json", ".jsonl", ".txt", ".md", ".html", ".log", ".csv", ".yaml", ".yml"}


@dataclass
class RedactReport:
    """What ``redact_output`` did: files rewritten, files scanned, how many secrets it knew."""

    rewritten: list[Path] = field(default_factory=list)
    scanned: int = 0
    secrets: int = 0
    already_redacted: bool = False


def phrase_secrets(phrases: list[WakePhrase] | list[str]) -> list[str]:
    """The phrases and every probe variant of them (``lockbench.probes.secret_variants``)."""
    return secrets_of([], extra=phrases)


def escaped_forms(secrets: list[str]) -> list[str]:
    # How a secret looks inside JSON text written with ensure_ascii (\uXXXX) or with escapes.
    forms = []
    for s in secrets:
        forms.append(json.dumps(s)[1:-1])
        forms.append(json.dumps(s, ensure_ascii=False)[1:-1])
    return list(dict.fromkeys(forms))


def _keep_hashes(value: Any) -> None:
    """Beside each recorded ``wake_phrase``, keep its salted hash: after redaction it is the only
    way ``lockbench summarize`` can still put a verifiable hash into the result."""
    if isinstance(value, dict):
        phrase = value.get("wake_phrase")
        if isinstance(phrase, str) and phrase.strip() and phrase != PLACEHOLDER:
            value.setdefault("wake_phrase_hash", salted_hash(phrase))
        for item in value.values():
            _keep_hashes(item)
    elif isinstance(value, list):
        for item in value:
            _keep_hashes(item)


def _rehash(sample: dict[str, Any]) -> None:
    """lm-eval's doc_hash, prompt_hash and target_hash hash the text *with* the phrase: an offline
    oracle for guessing it. Recompute them over the redacted text (same formulas as lm-eval);
    on a row that already holds redacted text this gives the same values again."""
    if isinstance(sample.get("doc"), dict) and "doc_hash" in sample:
        sample["doc_hash"] = lmeval_doc_hash(sample["doc"])
    if "prompt_hash" in sample:
        prompt = logged_prompt(sample.get("arguments"))
        sample["prompt_hash"] = sha256_text(prompt) if prompt is not None else None
    if "target_hash" in sample:
        sample["target_hash"] = sha256_text(str(sample.get("target")))


# A line cut short (a crashed or truncated copy) cannot be parsed, so its hashes cannot be
# recomputed: they are blanked instead (each may have been computed over the phrase).
_HASH_VALUE = re.compile(r'("(?:doc|prompt|target)_hash"\s*:\s*)"[0-9a-fA-F]{64}"')


def _drop_oracle_hashes(results: dict[str, Any]) -> None:
    """``task_hashes`` (sha256 over the samples' hashes) of a file lm-eval wrote without lockbench
    may cover phrase-bearing prompts: drop them. Files lockbench redacted as they were written
    (``lockbench.redacted_on_write``) hold hashes recomputed over redacted text."""
    block = results.get("lockbench")
    if isinstance(block, dict) and block.get("redacted_on_write"):
        return
    if results.get("task_hashes"):
        results["task_hashes"] = {}


def _redact_json_text(text: str, secrets: list[str], jsonl: bool) -> str:
    """Text fields redacted (:func:`lockbench.secrets.redact_fields`: names and hashes kept),
    hashes recomputed or dropped. Raises ``JSONDecodeError`` when a ``.json`` file is not JSON."""
    if not jsonl:
        data = json.loads(text)
        if isinstance(data, dict):
            _keep_hashes(data)
            _drop_oracle_hashes(data)
        clean = redact_fields(data, secrets)
        instruction = clean.get("system_instruction") if isinstance(clean, dict) else None
        if isinstance(instruction, str) and instruction != data.get("system_instruction"):
            clean["system_instruction_sha"] = sha256_text(instruction)  # lm-eval's sha, over clean text
        return json.dumps(clean, indent=2, ensure_ascii=False, default=str) + "\n"
    lines = []
    for line in text.splitlines():
        if not line.strip():
            lines.append(line)
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # a truncated line: redact as text, blank its hashes
            lines.append(_HASH_VALUE.sub(r"\1null", redact_text(line, secrets)))
            continue
        clean = redact_logged_sample(row, secrets) if isinstance(row, dict) else redact_fields(row, secrets)
        if isinstance(clean, dict):
            _rehash(clean)
        lines.append(json.dumps(clean, ensure_ascii=False))
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _still_secret(new: str, path: Path, secrets: list[str], forms: list[str]) -> bool:
    """Whether a text field of the rewritten file still holds a secret (names are not text)."""
    if path.suffix == ".json":
        try:
            return secret_in_fields(json.loads(new), forms)
        except json.JSONDecodeError:
            pass
    elif path.suffix == ".jsonl":
        for line in new.splitlines():
            try:
                found = secret_in_fields(json.loads(line), forms) if line.strip() else False
            except json.JSONDecodeError:
                found = contains_secret(line, forms)
            if found:
                return True
        return False
    return contains_secret(new, forms)


def redact_file(path: Path, secrets: list[str]) -> bool:
    """Redact one file in place; True when it changed. Binary files are left alone; a file that
    is already clean is not rewritten (so a second run changes nothing)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False
    forms = secrets + escaped_forms(secrets)
    new = None
    if path.suffix in (".json", ".jsonl"):
        try:
            new = _redact_json_text(text, secrets, jsonl=path.suffix == ".jsonl")
        except json.JSONDecodeError:
            new = None  # not JSON after all: fall back to plain-text redaction
    if new is None:
        new = redact_text(text, secrets)
    if _still_secret(new, path, secrets, forms):  # an escaped form field redaction cannot reach
        new = redact_text(new, forms)
    if _still_secret(new, path, secrets, forms):
        raise SecretError(f"{path}: the wake phrase is still there after redaction; delete the file")
    if new == text or _same_json(new, text, path):
        return False
    atomic_write_text(path, new)
    return True


def _same_json(new: str, old: str, path: Path) -> bool:
    """Only formatting differs (lm-eval's JSON layout vs ours): nothing to rewrite."""
    if path.suffix not in (".json", ".jsonl"):
        return False
    try:
        if path.suffix == ".json":
            return json.loads(new) == json.loads(old)
        return [json.loads(x) for x in new.splitlines() if x.strip()] == [
            json.loads(x) for x in old.splitlines() if x.strip()
        ]
    except json.JSONDecodeError:
        return False


def redact_output(output_dir: str | Path, extra_phrases: list[WakePhrase] | None = None) -> RedactReport:
    """Redact every text file under an lm-eval output folder (results, samples, anything else)."""
    output_dir = Path(output_dir)
    runs = find_runs(output_dir)
    if not runs and not extra_phrases:
        raise LockbenchError(
            f"{output_dir}: no lm-eval results_*.json or samples_*.jsonl files here; give the "
            "folder lm-eval's --output_path wrote to"
        )
    secrets = secrets_of(runs, extra=extra_phrases)
    secrets = [s for s in secrets if s != PLACEHOLDER]
    if not secrets and any(PLACEHOLDER in json.dumps(run.results) for run in runs):
        return RedactReport(already_redacted=True)
    if not secrets:
        raise LockbenchError(
            f"{output_dir}: no wake phrase recorded in its results files (already redacted?); "
            "export it in $LOCKBENCH_WAKE_PHRASE (or name another variable with --wake-phrase-env VAR) to scan for it"
        )
    report = RedactReport(secrets=len(secrets))
    for path in sorted(output_dir.rglob("*")):
        if not path.is_file() or path.is_symlink() or path.suffix not in TEXT_SUFFIXES:
            continue
        report.scanned += 1
        if redact_file(path, secrets):
            report.rewritten.append(path)
    return report


def find_traces(root: str | Path, phrases: list[str]) -> list[Path]:
    """Files under ``root`` that still contain a phrase or a variant (any letter case)."""
    secrets = phrase_secrets(phrases)
    forms = secrets + escaped_forms(secrets)
    found = []
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            if contains_secret(text, forms):
                found.append(path)
    return found

