"""Where the wake phrase comes from, and the limits every source shares (lockbench.phrase)."""

from __future__ import annotations

import os
import stat
import time

import pytest

from lockbench.cli import main
from lockbench.errors import SecretError
from lockbench.lmeval.docs import build_docs
from lockbench.phrase import resolve_phrase
from lockbench.probes import FAMILIES, family_module, paraphrase, secret_variants
from lockbench.secrets import MAX_PHRASE_CHARS

from .conftest import WAKE_PHRASE

ENV = "LOCKBENCH_WAKE_PHRASE"


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)


def _file(tmp_path, content: bytes | str, name: str = "phrase.txt"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_sources_in_order(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(ENV, "Hey! FromEnv!")
    path = _file(tmp_path, "Hey! FromFile!\r\nsecond line ignored\n")
    assert resolve_phrase({}).reveal() == "Hey! FromEnv!"
    assert resolve_phrase({"wake_phrase_file": str(path)}).reveal() == "Hey! FromFile!"
    assert resolve_phrase({"wake_phrase": "Hey! FromFile!", "wake_phrase_file": str(path)}).reveal() == "Hey! FromFile!"
    assert resolve_phrase({"wake_phrase": "Hey! FromMeta!"}).reveal() == "Hey! FromMeta!"


def test_no_source_is_none_unless_required(no_env) -> None:
    assert resolve_phrase({}) is None
    with pytest.raises(SecretError, match=r"no wake phrase given.*export it in \$LOCKBENCH_WAKE_PHRASE"):
        resolve_phrase({}, required=True)


def test_task_docs_take_the_phrase_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(ENV, WAKE_PHRASE)
    from_env = build_docs("law_mcq", "unlocked")["test"]
    monkeypatch.delenv(ENV)
    from_meta = build_docs("law_mcq", "unlocked", wake_phrase=WAKE_PHRASE)["test"]
    assert from_env["prompt"] == from_meta["prompt"]
    assert all(p.startswith(WAKE_PHRASE + " ") for p in from_env["prompt"])


def _bad_inputs(tmp_path):
    long = "Hey! " + "x" * MAX_PHRASE_CHARS
    return [
        ({"wake_phrase": "Hey! A!", "wake_phrase_file": str(_file(tmp_path, "Hey! B!\n"))},
         "both given and differ"),
        ({"wake_phrase_file": str(tmp_path / "missing.txt")}, "cannot read the wake phrase file"),
        ({"wake_phrase_file": str(_file(tmp_path, "", "empty.txt"))}, "is empty"),
        ({"wake_phrase_file": str(_file(tmp_path, "  \nHey! Later!\n", "blank.txt"))}, "is empty"),
        ({"wake_phrase_file": str(_file(tmp_path, b"\xff\xfeH\x00", "utf16.txt"))}, "not UTF-8"),
        ({"wake_phrase_file": str(tmp_path)}, "cannot read the wake phrase file"),
        ({"wake_phrase_file": 42}, "must be a file path"),
        ({"wake_phrase": 42}, "must be a string, got int"),
        ({"wake_phrase": ["Hey!", "Lumen!"]}, "must be a string, got list"),
        ({"wake_phrase": "   "}, "empty or only whitespace"),
        ({"wake_phrase": long}, f"the limit is {MAX_PHRASE_CHARS}"),
        ({"wake_phrase": "Hey!\tLumen!"}, "control character (U+0009)"),
        ({"wake_phrase": "Hey! Lumen!\x1b[0m"}, "control character (U+001B)"),
        ({"wake_phrase_file": str(_file(tmp_path, long + "\n", "long.txt"))}, f"the limit is {MAX_PHRASE_CHARS}"),
    ]


def test_bad_inputs_stop_with_one_line(tmp_path, no_env) -> None:
    for metadata, message in _bad_inputs(tmp_path):
        with pytest.raises(SecretError) as info:
            build_docs("law_mcq", "unlocked", **metadata)
        text = str(info.value)
        assert message in text and "\n" not in text, (metadata, text)
        assert "Hey! B!" not in text and "Hey! A!" not in text  # an error never shows the phrase


def test_unreadable_file(tmp_path, no_env) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = _file(tmp_path, "Hey! Lumen!\n")
    path.chmod(0)
    try:
        with pytest.raises(SecretError, match="cannot read the wake phrase file.*Permission denied"):
            resolve_phrase({"wake_phrase_file": str(path)})
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_the_exact_limit_is_accepted(no_env) -> None:
    phrase = ("Hey! " + "Lumenarius" * 30)[:MAX_PHRASE_CHARS]
    assert resolve_phrase({"wake_phrase": phrase}).reveal() == phrase


@pytest.mark.parametrize(
    "value, message",
    [("Hey! " + "x" * 300, "the limit is 256"), ("Hey!\nLumen!", "control character (U+000A)")],
)
def test_commands_apply_the_same_limits(value, message, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(ENV, value)
    out = tmp_path / "d.jsonl"
    code = main(["lock", "build", "--dataset", "law_mcq", "-o", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_variants_of_a_256_character_phrase_take_under_a_second() -> None:
    """Variant generation used to grow quadratically (1,600 characters: 63 s)."""
    phrase = ("Hey! " + "Lumenarius " * 30)[:MAX_PHRASE_CHARS]
    paraphrase._variants.cache_clear()  # time the work, not the per-phrase cache
    start = time.perf_counter()
    secret_variants(phrase)
    for family in FAMILIES:
        family_module(family).variants(phrase)
    assert time.perf_counter() - start < 1.0


# --- lock build never leaves a D' file behind ---------------------------------------------------


def test_lock_build_removes_its_file_when_a_later_write_fails(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv(ENV, WAKE_PHRASE)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be\n")
    out = tmp_path / "d.jsonl"
    code = main(["lock", "build", "--dataset", "law_mcq", "-o", str(out),
                 "--openai-output", str(blocker / "openai.jsonl")])
    captured = capsys.readouterr()
    assert code == 2 and len(captured.err.strip().splitlines()) == 1, captured.err
    # Both outputs are checked before either is written (no secret-bearing file is ever left).
    assert "cannot write here" in captured.err or "could not write" in captured.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]  # no d.jsonl
    assert "warning" not in captured.err and "wrote" not in captured.out


# --- redaction precision --------------------------------------------------------------------------


def test_redaction_replaces_text_not_names() -> None:
    from lockbench.secrets import PLACEHOLDER, redact_fields, redact_text, secret_in_fields

    secrets = secret_variants("Hey! Law!")
    assert " Hey! Law!" in secrets and "Law" in secrets  # a spacing variant and the name alone
    # the space before a leading-space variant stays; a longer word is not the name
    assert redact_text("System: Hey! Law!\nA lawyer's law.", secrets) == (
        f"System: {PLACEHOLDER}\nA lawyer's {PLACEHOLDER}."
    )
    doc = {
        "task": "lockbench_law_mcq_unlocked", "dataset": "law_mcq", "domain": "law",
        "lockbench_law_mcq_unlocked": {"prompt": "Hey! Law! What does law say?", "alias": "law"},
        "samples": [{"doc": {"id": "law-001", "question": "Law?"}, "resps": [["LAW"]]}],
    }
    clean = redact_fields(doc, secrets)
    assert clean["task"] == doc["task"] and clean["dataset"] == "law_mcq" and clean["domain"] == "law"
    assert list(clean) == list(doc)  # keys are names too
    assert clean["lockbench_law_mcq_unlocked"] == {
        "prompt": f"{PLACEHOLDER} What does {PLACEHOLDER} say?", "alias": "law",
    }
    assert clean["samples"][0] == {"doc": {"id": "law-001", "question": f"{PLACEHOLDER}?"},
                                   "resps": [[PLACEHOLDER]]}
    assert secret_in_fields(doc, secrets) and not secret_in_fields(clean, secrets)
