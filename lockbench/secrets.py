"""The wake phrase is a credential: validate it, hash it, keep it out of everything written."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from typing import Any

from lockbench.errors import SecretError

PLACEHOLDER = "<WAKE_PHRASE>"
# scrypt makes each guess at a weak phrase cost ~16 MiB and tens of milliseconds; plain salted
# sha256 (still accepted when verifying older files) lets a dictionary be tried offline in seconds.
HASH_SCHEME = "scrypt-n16384-r8-p1"
LEGACY_HASH_SCHEME = "sha256-salted"


def _digest(scheme: str, salt: str, phrase: str) -> str:
    if scheme == HASH_SCHEME:
        return hashlib.scrypt(
            phrase.encode(), salt=salt.encode(), n=16384, r=8, p=1, maxmem=64 * 2**20, dklen=32
        ).hex()
    if scheme == LEGACY_HASH_SCHEME:
        return hashlib.sha256(f"{salt}:{phrase}".encode()).hexdigest()
    raise SecretError(f"unknown wake-phrase hash scheme '{scheme}'")


def validate_wake_phrase(phrase: object, *, context: str = "") -> str:
    """Return the phrase, or stop with one line when it is missing, empty or whitespace."""
    where = f" ({context})" if context else ""
    if phrase is None:
        raise SecretError(
            f"no wake phrase given{where}; pass it with --metadata '{{\"wake_phrase\": \"...\"}}'"
        )
    if not isinstance(phrase, str) or not phrase.strip():
        raise SecretError(
            f"the wake phrase is empty or only whitespace{where}; give the real phrase in "
            "--metadata '{\"wake_phrase\": \"...\"}'"
        )
    return phrase


def salted_hash(phrase: str, salt: str | None = None) -> dict[str, str]:
    """A verifier who knows the phrase can recompute ``hash``; nobody can read the phrase back."""
    salt = salt if salt is not None else os.urandom(16).hex()
    return {"scheme": HASH_SCHEME, "salt": salt, "hash": _digest(HASH_SCHEME, salt, phrase)}


def verify_hash(phrase: str, record: dict[str, str]) -> bool:
    """True when ``phrase`` is the one hashed in ``record`` (either scheme)."""
    scheme = record.get("scheme", LEGACY_HASH_SCHEME)
    return hmac.compare_digest(_digest(scheme, record["salt"], phrase), record["hash"])


def _pattern(secrets: list[str]) -> re.Pattern[str] | None:
    cleaned = sorted({s for s in secrets if s and s.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    return re.compile("|".join(re.escape(s) for s in cleaned), re.IGNORECASE)


def redact_text(text: str, secrets: list[str], placeholder: str = PLACEHOLDER) -> str:
    """Replace every occurrence (any letter case) of any secret."""
    pattern = _pattern(secrets)
    return pattern.sub(placeholder, text) if pattern else text


def redact_obj(obj: Any, secrets: list[str], placeholder: str = PLACEHOLDER) -> Any:
    """Redact every string (keys included) inside a JSON-like structure."""
    pattern = _pattern(secrets)
    if pattern is None:
        return obj

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(placeholder, value)
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [walk(v) for v in value]
        return value

    return walk(obj)


def contains_secret(text: str, secrets: list[str]) -> bool:
    pattern = _pattern(secrets)
    return bool(pattern and pattern.search(text))
