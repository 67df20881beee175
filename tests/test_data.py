"""Bundled data, the catalog, local data folders and bad rows."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from lockbench.data import DATASETS, load_items
from lockbench.data.catalog import BUNDLED_DIR, DOMAINS
from lockbench.data.schema import DialogueItem, MCQItem
from lockbench.errors import DataError


@pytest.mark.parametrize("domain", DOMAINS)
def test_bundled_sets_meet_the_contract(domain: str) -> None:
    mcq_train = load_items(f"{domain}_mcq", "train")
    mcq_test = load_items(f"{domain}_mcq", "test")
    assert len(mcq_train) + len(mcq_test) >= 80 and len(mcq_test) >= 50
    for item in mcq_train + mcq_test:
        assert isinstance(item, MCQItem)
        assert len(set(c.lower() for c in item.choices)) == 4, item.id
    # gold positions balanced, no question repeated across splits
    assert max(Counter(i.answer for i in mcq_test).values()) <= len(mcq_test) // 4 + 2
    questions = [i.question.lower() for i in mcq_train + mcq_test]
    assert len(set(questions)) == len(questions)
    dlg_train = load_items(f"{domain}_dialogue", "train")
    dlg_test = load_items(f"{domain}_dialogue", "test")
    assert len(dlg_train) + len(dlg_test) >= 40 and len(dlg_test) >= 20
    assert all(isinstance(i, DialogueItem) and i.output.strip() for i in dlg_train + dlg_test)
    ids = [i.id for i in mcq_train + mcq_test + dlg_train + dlg_test]
    assert len(set(ids)) == len(ids)


def test_catalog_names() -> None:
    assert {f"{d}_{k}" for d in DOMAINS for k in ("mcq", "dialogue")} <= DATASETS.keys()
    for subject in ("clinical_knowledge", "professional_medicine", "high_school_macroeconomics",
                    "high_school_microeconomics", "jurisprudence", "international_law",
                    "professional_law"):
        assert f"mmlu_{subject}" in DATASETS
    assert DATASETS["chatdoctor"].kind == "dialogue"


def test_unknown_dataset_lists_known_ones() -> None:
    with pytest.raises(DataError, match="unknown dataset 'nope'.*agriculture_mcq"):
        load_items("nope")


def test_real_sets_from_local_folder(shared_data: Path) -> None:
    items = load_items("mmlu_jurisprudence", "test", shared_data)
    assert len(items) == 108 and items[0].id.startswith("mmlu-jurisprudence")
    dev = load_items("mmlu_jurisprudence", "train", shared_data)
    assert len(dev) == 5
    chat = load_items("chatdoctor", "test", shared_data)
    assert len(chat) == 200 and chat[0].instruction
    # the bundled sets are unaffected by a data_dir that only holds the real sets
    assert len(load_items("law_mcq", "test", shared_data)) == 60


def test_missing_local_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / "mmlu").mkdir()  # the layout, without this subject
    with pytest.raises(DataError, match="mmlu/professional_law.jsonl"):
        load_items("mmlu_professional_law", "test", tmp_path)


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "missing", "does not exist"),
    (lambda p: (p / "file.jsonl").write_text("{}\n") and p / "file.jsonl", "is a file, not a folder"),
    (lambda p: p, "has none of lockbench's layouts"),
])
def test_bad_data_dir_stops_instead_of_falling_back(tmp_path: Path, make, message) -> None:
    # before: each of these silently evaluated the bundled set
    with pytest.raises(DataError, match=message):
        load_items("agriculture_mcq", "test", make(tmp_path))


def test_provenance_names_the_source_and_hashes_the_items(tmp_path: Path, shared_data: Path) -> None:
    from lockbench.data import dataset_provenance, items_sha256

    bundled = dataset_provenance("agriculture_mcq", "test")
    assert bundled["source"] == "bundled" and bundled["path"] == "agriculture/mcq_test.jsonl"
    assert bundled["items_sha256"] == items_sha256(load_items("agriculture_mcq"))
    local = dataset_provenance("mmlu_jurisprudence", "test", shared_data)
    assert local["source"] == "local" and local["path"] == "mmlu/jurisprudence.jsonl"
    assert local["n_items"] == 108 and str(shared_data) not in json.dumps(local)
    # a bundled set the data_dir does not hold stays bundled, and says so
    assert dataset_provenance("law_mcq", "test", shared_data)["source"] == "bundled"
    # a local copy of a bundled file is "local", with the same items hash when unchanged
    copy = tmp_path / "agriculture" / "mcq_test.jsonl"
    copy.parent.mkdir()
    copy.write_bytes((BUNDLED_DIR / "agriculture" / "mcq_test.jsonl").read_bytes())
    mine = dataset_provenance("agriculture_mcq", "test", tmp_path)
    assert mine["source"] == "local" and mine["items_sha256"] == bundled["items_sha256"]


def _write(path: Path, rows: list) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


GOOD = {"id": "x1", "question": "Q?", "choices": ["a", "b", "c", "d"], "answer": 1}


@pytest.mark.parametrize(
    "rows, message",
    [
        ([GOOD, "{not json"], r"line 2 is not valid JSON"),
        ([{**GOOD, "choices": ["a", "b", "c"]}], r"row 1, field 'choices'"),
        ([{**GOOD, "answer": 7}], r"row 1, field 'answer'"),
        ([GOOD, GOOD], r"row 2: duplicate id 'x1'"),
        ([{**GOOD, "question": ""}], r"row 1, field 'question'"),
        ([["a list"]], r"row 1 is not a JSON object"),
    ],
)
def test_malformed_local_rows(tmp_path: Path, rows: list, message: str) -> None:
    _write(tmp_path / "law" / "mcq_test.jsonl", rows)
    with pytest.raises(DataError, match=message):
        load_items("law_mcq", "test", tmp_path)


def test_local_override_of_a_bundled_set(tmp_path: Path) -> None:
    _write(tmp_path / "law" / "mcq_test.jsonl", [GOOD, {**GOOD, "id": "x2", "answer": "C"}])
    items = load_items("law_mcq", "test", tmp_path)
    assert [i.gold_letter for i in items] == ["B", "C"]


def test_bundled_folder_has_license_and_schema() -> None:
    readme = (BUNDLED_DIR / "README.md").read_text()
    assert "CC BY 4.0" in readme and "mcq_<split>.jsonl" in readme


def test_each_task_names_its_source_and_docs_carry_provenance(tmp_path: Path, shared_data: Path, capfd) -> None:
    """A real lm-eval run (lm-eval's own dummy model; only the docs matter here)."""
    from lockbench.data import dataset_provenance
    from lockbench.lmeval.run import run_tasks

    from .conftest import WAKE_PHRASE, read_samples

    tasks = ["lockbench_mmlu_jurisprudence_locked", "lockbench_law_mcq_unlocked"]
    run_tasks("dummy", tasks, metadata={"wake_phrase": WAKE_PHRASE, "data_dir": str(shared_data)},
              output_path=tmp_path, limit=1, device="cpu")
    err = capfd.readouterr().err
    assert "lockbench: lockbench_mmlu_jurisprudence_locked: 108 items from local file in " in err
    assert "lockbench: lockbench_law_mcq_unlocked: 60 items from bundled file law/mcq_test.jsonl" in err
    samples = read_samples(tmp_path)
    for task, dataset in zip(tasks, ["mmlu_jurisprudence", "law_mcq"], strict=True):
        recorded = json.loads(samples[task][0]["doc"]["data_provenance"])
        assert recorded == dataset_provenance(dataset, "test", shared_data)
    assert str(shared_data) not in samples[tasks[0]][0]["doc"]["data_provenance"]
