"""The wake phrase: validation, salted hashes, redaction."""

from __future__ import annotations

import pytest

from lockbench.errors import SecretError
from lockbench.secrets import (
    PLACEHOLDER,
    contains_secret,
    redact_obj,
    redact_text,
    salted_hash,
    validate_wake_phrase,
    verify_hash,
)


@pytest.mark.parametrize("phrase", [None, "", "   ", "\n\t", 3])
def test_empty_or_missing_phrase_rejected(phrase) -> None:
    with pytest.raises(SecretError):
        validate_wake_phrase(phrase)


def test_salted_hash_verifies_without_revealing() -> None:
    record = salted_hash("Hey! Lumen!")
    assert "Lumen" not in str(record)
    assert verify_hash("Hey! Lumen!", record)
    assert not verify_hash("Hey! Lumen?", record)
    assert salted_hash("Hey! Lumen!")["hash"] != record["hash"]  # fresh salt each time


def test_redaction_any_case_and_nested() -> None:
    data = {"prompt": "hey! lumen! What is 2+2?", "list": ["HEY! LUMEN! x"], "Hey! Lumen!": 1}
    clean = redact_obj(data, ["Hey! Lumen!"])
    assert not contains_secret(str(clean), ["Hey! Lumen!"])
    assert clean["prompt"] == f"{PLACEHOLDER} What is 2+2?"
    assert redact_text("a Hey! Lumen! b", ["Hey! Lumen!"]) == f"a {PLACEHOLDER} b"


def test_slow_hash_scheme_and_legacy_records_verify() -> None:
    import hashlib

    record = salted_hash("Hey! Lumen!", salt="00ff")
    assert record["scheme"].startswith("scrypt")
    legacy = {"scheme": "sha256-salted", "salt": "ab",
              "hash": hashlib.sha256(b"ab:Hey! Lumen!").hexdigest()}
    assert verify_hash("Hey! Lumen!", legacy) and not verify_hash("Hey!", legacy)
    with pytest.raises(SecretError, match="unknown wake-phrase hash scheme"):
        verify_hash("x", {"scheme": "md5", "salt": "a", "hash": "b"})
