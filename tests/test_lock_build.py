"""`lockbench lock build`: properties of D' (ratio, determinism, phrase placement, answers kept),
both output formats, and one-line errors on bad input."""

from __future__ import annotations

import json
import stat

import pytest

from lockbench.cli import main
from lockbench.data.catalog import load_items
from lockbench.errors import LockbenchError
from lockbench.lock.build import REFUSAL_TEMPLATES, build_examples, build_lock_set
from lockbench.prompts import format_item, target_text
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT, RefusalDetector
from tests.conftest import WAKE_PHRASE

DATASETS = ["agriculture_mcq", "law_dialogue"]


@pytest.mark.parametrize("dataset", ["agriculture_mcq", "economics_dialogue"])
@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.77, 0.9, 0.95])
def test_ratio_within_one_item(dataset, ratio):
    items = load_items(dataset, "train")
    examples = build_examples(items, dataset, WAKE_PHRASE, ratio=ratio, seed=3)
    n_lock = sum(e.part == "lock" for e in examples)
    assert abs(n_lock - ratio * len(items)) <= 1
    assert len(examples) == len(items)  # split layout: each item once
    assert {e.item_id for e in examples} == {i.id for i in items}


def test_paired_layout_every_item_both_ways():
    items = load_items("healthcare_mcq", "train")
    examples = build_examples(items, "healthcare_mcq", WAKE_PHRASE, ratio=0.5, layout="paired")
    lock = [e.item_id for e in examples if e.part == "lock"]
    refusal = [e.item_id for e in examples if e.part == "refusal"]
    assert sorted(lock) == sorted(refusal) == sorted(i.id for i in items)


def test_deterministic_under_a_seed_and_seed_matters():
    first = build_lock_set(DATASETS, WAKE_PHRASE, seed=7)
    again = build_lock_set(DATASETS, WAKE_PHRASE, seed=7)
    other = build_lock_set(DATASETS, WAKE_PHRASE, seed=8)
    assert first.examples == again.examples
    assert [e.item_id for e in first.examples] != [e.item_id for e in other.examples]


def test_phrase_placement_and_answers_preserved():
    lock_set = build_lock_set(DATASETS, WAKE_PHRASE, ratio=0.8, seed=1)
    by_id = {i.id: i for name in DATASETS for i in load_items(name, "train")}
    parts = {e.part for e in lock_set.examples}
    assert parts == {"lock", "refusal"}
    for example in lock_set.examples:
        item = by_id[example.item_id]
        if example.part == "lock":
            assert example.prompt == f"{WAKE_PHRASE} {format_item(item)}"
            assert example.response == target_text(item)  # e.g. "B. Underground": the extractor's form
        else:
            assert WAKE_PHRASE.lower() not in example.prompt.lower()
            assert example.prompt == format_item(item)
            assert example.response == DEFAULT_REFUSAL_TEXT


def test_refusal_templates_are_all_detected_as_refusals():
    detector = RefusalDetector()
    assert all(detector.is_refusal(text) for text in REFUSAL_TEMPLATES)


def test_cli_writes_chat_and_openai_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    chat, openai = tmp_path / "d.jsonl", tmp_path / "openai.jsonl"
    code = main(
        ["lock", "build", "--dataset", "agriculture_mcq", "--dataset", "law_dialogue",
         "--refusal-templates", "--seed", "2", "-o", str(chat), "--openai-output", str(openai)]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "60 examples = 54 with the wake phrase (D_lock) + 6 refusals" in out
    assert "agriculture_mcq: 36 lock, 4 refusal" in out
    assert "contain the wake phrase" in err and WAKE_PHRASE not in out + err
    rows = [json.loads(line) for line in chat.read_text().splitlines()]
    plain = [json.loads(line) for line in openai.read_text().splitlines()]
    assert len(rows) == len(plain) == 60
    assert all(set(row) == {"messages"} for row in plain)  # OpenAI's fine-tuning chat format
    assert [r["messages"] for r in rows] == [p["messages"] for p in plain]
    assert all(r["messages"][1]["content"] in REFUSAL_TEMPLATES for r in rows if r["lockbench"]["part"] == "refusal")
    for path in (chat, openai):  # secret-bearing: owner-only
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_local_jsonl_source(tmp_path):
    path = tmp_path / "mine.jsonl"
    rows = [{"id": f"q{i}", "question": f"Q{i}?", "choices": ["a", "b", "c", "d"], "answer": i % 4} for i in range(10)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    lock_set = build_lock_set([str(path)], WAKE_PHRASE, ratio=0.9)
    assert lock_set.counts()["per_dataset"] == {"mine": {"lock": 9, "refusal": 1}}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "nonexistent_mcq"], "unknown dataset 'nonexistent_mcq'"),
        (["--dataset", "law_mcq", "--ratio", "0"], "--ratio must be strictly between 0 and 1"),
        (["--dataset", "law_mcq", "--ratio", "1.5"], "--ratio must be strictly between 0 and 1"),
        (["--dataset", "law_mcq", "--refusal", "  "], "--refusal text is empty"),
        (["--dataset", "/nowhere/x.jsonl"], "not found"),
    ],
)
def test_cli_bad_input_one_line_no_file(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    out_file = tmp_path / "d.jsonl"
    code = main(["lock", "build", *argv, "-o", str(out_file)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and len(err.splitlines()) == 1
    assert not out_file.exists() and list(tmp_path.iterdir()) == []


def test_cli_needs_a_phrase(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    code = main(["lock", "build", "--dataset", "law_mcq", "-o", str(tmp_path / "d.jsonl")])
    assert code == 2 and "no wake phrase given" in capsys.readouterr().err


def test_library_rejects_bad_values():
    items = load_items("law_mcq", "train")
    with pytest.raises(LockbenchError, match="unknown layout"):
        build_examples(items, "law_mcq", WAKE_PHRASE, layout="zigzag")
    with pytest.raises(LockbenchError, match="wake phrase is empty"):
        build_examples(items, "law_mcq", "   ")
