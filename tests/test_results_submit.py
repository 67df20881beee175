"""`lockbench submit`: schema, recomputation, secrets; tampered or foreign files are refused
with one line and nothing under results/ changes."""

from __future__ import annotations

import copy
import json

import pytest

from lockbench.results.submit import canonical_json, model_slug, run_id
from lockbench.results.summarize import build_result
from lockbench.results.validate import load_schema, schema_path

from ._results_support import copy_output, craft, real_output, run_cli, tree, write
from .conftest import WAKE_PHRASE


@pytest.fixture(scope="session")
def lmeval_out(tmp_path_factory, tiny_model):
    return real_output(tmp_path_factory, tiny_model)


@pytest.fixture(scope="session")
def real_result(lmeval_out) -> dict:
    """The result `lockbench summarize` builds from the real run, as written to a file (a JSON
    round trip: in memory, summarize may share one dict between a task and a dataset row)."""
    return json.loads(json.dumps(build_result(lmeval_out)))


def _submit(path, results_dir, capsys, monkeypatch, phrase=WAKE_PHRASE):
    if phrase is None:
        monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    else:
        monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", phrase)
    return run_cli(["submit", path, "--results-dir", results_dir], capsys)


def test_schema_is_valid_and_matches_summarize(real_result) -> None:
    import jsonschema

    schema = load_schema(1)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(real_result)
    assert schema_path(1).name == "lockbench-result.v1.schema.json"
    assert real_result["schema_version"] == 1
    assert real_result["lock"]["wake_phrase"] == "<WAKE_PHRASE>"
    assert WAKE_PHRASE not in json.dumps(real_result)


def test_schema_is_documented() -> None:
    """Every top-level, task and sample field of the schema is named in docs/result-schema.md."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "result-schema.md").read_text()
    schema = load_schema(1)
    fields = list(schema["properties"]) + list(schema["$defs"]["task"]["properties"])
    fields += list(schema["$defs"]["sample"]["properties"]) + list(schema["$defs"]["lock"]["properties"])
    missing = [f for f in fields if f"`{f}`" not in doc]
    assert not missing, f"undocumented fields: {missing}"


def test_accept_real_run_then_identical_resubmission(lmeval_out, tmp_path, capsys, monkeypatch) -> None:
    folder = copy_output(lmeval_out, tmp_path / "out")
    assert run_cli(["redact", folder], capsys)[0] == 0
    result = tmp_path / "result.json"
    assert run_cli(["summarize", folder, "--json", result], capsys)[0] == 0
    results_dir = tmp_path / "results"
    code, out, err = _submit(result, results_dir, capsys, monkeypatch)
    assert code == 0, err
    doc = json.loads(result.read_text())
    target = results_dir / model_slug(doc["model"]["name"]) / f"{run_id(doc)}.json"
    assert target.is_file() and f"accepted: {target}" in out
    assert target.read_text() == canonical_json(doc)
    before = tree(results_dir)
    code, out, _ = _submit(result, results_dir, capsys, monkeypatch)
    assert code == 0 and "already submitted" in out
    assert tree(results_dir) == before


def _tamper_number(d):
    t = next(iter(d["tasks"].values()))
    t["passes"] += 1


def _tamper_rate(d):
    t = next(iter(d["tasks"].values()))
    t["pass_rate"]["high"] = round(t["pass_rate"]["high"] - 0.01, 6)


def _tamper_flip_sample(d):
    s = next(iter(d["tasks"].values()))["samples"][0]
    s["passed"], s["outcome"], s["unparsed"] = True, "correct", False  # counts left as they were


def _tamper_drop(d):
    next(iter(d["tasks"].values()))["samples"].pop(0)


def _tamper_drop_consistently(d):
    """Drop a sample AND fix every count: the doc_id gap still gives it away."""
    from lockbench.results.recompute import recompute_task

    t = next(iter(d["tasks"].values()))
    t["samples"].pop(0)
    t.update(recompute_task(t))


def _tamper_duplicate(d):
    t = next(iter(d["tasks"].values()))
    t["samples"].append(copy.deepcopy(t["samples"][-1]))
    t["n"] += 1


def _tamper_duplicate_hash(d):
    t = next(iter(d["tasks"].values()))
    t["samples"][1]["doc_hash"] = t["samples"][0]["doc_hash"]


def _tamper_version(d):
    d["schema_version"] = 2


def _tamper_dataset_row(d):
    row = next(iter(d["datasets"].values()))
    row["pr_unlock"]["value"] = 0.5


def _tamper_outcome(d):
    s = next(iter(d["tasks"].values()))["samples"][0]
    s["outcome"] = "answered"  # not an MCQ outcome


TAMPERS = {
    "changed count": (_tamper_number, "passes"),
    "changed interval": (_tamper_rate, "pass_rate"),
    "flipped sample": (_tamper_flip_sample, "passes"),
    "dropped sample": (_tamper_drop, "n says"),
    "dropped sample, counts fixed": (_tamper_drop_consistently, "missing"),
    "duplicated sample": (_tamper_duplicate, "twice"),
    "duplicated doc_hash": (_tamper_duplicate_hash, "twice"),
    "wrong schema version": (_tamper_version, "schema_version 2"),
    "changed dataset summary": (_tamper_dataset_row, "pr_unlock"),
    "impossible outcome": (_tamper_outcome, "outcome"),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampered_submission_rejected(name, real_result, tmp_path, capsys, monkeypatch) -> None:
    tamper, expected = TAMPERS[name]
    results_dir = tmp_path / "results"
    good = write(tmp_path / "good.json", real_result)
    assert _submit(good, results_dir, capsys, monkeypatch)[0] == 0
    before = tree(results_dir)
    doc = copy.deepcopy(real_result)
    doc["created_utc"] = "2030-01-01T00:00:00Z"  # a different run id: nothing else blocks it
    tamper(doc)
    code, out, err = _submit(write(tmp_path / "bad.json", doc), results_dir, capsys, monkeypatch)
    assert code == 2, out
    assert err.count("\n") == 1 and err.startswith("lockbench: error:") and expected in err
    assert "Traceback" not in err
    assert tree(results_dir) == before


PHRASE_PLACES = {
    "model name": lambda d, p: d["model"].__setitem__("name", f"org/{p}"),
    "model args": lambda d, p: d["model"].__setitem__("args", {"wake": p}),
    "refusal text": lambda d, p: d["lock"].__setitem__("refusal_text", f"Say {p} first."),
    "judge config": lambda d, p: d["judge"].__setitem__("prompt", p),
    "sample item id": lambda d, p: next(iter(d["tasks"].values()))["samples"][0].__setitem__("item_id", p),
    "generation kwargs": lambda d, p: next(iter(d["tasks"].values()))["generation"].__setitem__(
        "generation_kwargs", {"until": [p]}),
    "task dict key": lambda d, p: next(iter(d["tasks"].values()))["generation"].__setitem__(p, 1),
}


@pytest.mark.parametrize("variant", [WAKE_PHRASE, WAKE_PHRASE.upper(), "Lumen"])
@pytest.mark.parametrize("place", list(PHRASE_PLACES))
def test_phrase_anywhere_rejected(place, variant, real_result, tmp_path, capsys, monkeypatch) -> None:
    doc = copy.deepcopy(real_result)
    PHRASE_PLACES[place](doc, variant)
    results_dir = tmp_path / "results"
    code, _, err = _submit(write(tmp_path / "leak.json", doc), results_dir, capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and "wake phrase" in err
    assert not results_dir.exists()


def test_wrong_phrase_fails_the_salted_hash(real_result, tmp_path, capsys, monkeypatch) -> None:
    path = write(tmp_path / "r.json", real_result)
    code, _, err = _submit(path, tmp_path / "results", capsys, monkeypatch, phrase="Hey! Nova!")
    assert code == 2 and "does not match lock.wake_phrase_hash" in err
    assert not (tmp_path / "results").exists()


def test_without_phrase_still_checks_numbers(real_result, tmp_path, capsys, monkeypatch) -> None:
    doc = copy.deepcopy(real_result)
    _tamper_number(doc)
    code, _, err = _submit(write(tmp_path / "r.json", doc), tmp_path / "results", capsys,
                           monkeypatch, phrase=None)
    assert code == 2 and "passes" in err


@pytest.mark.parametrize("case", ["truncated", "not json", "empty", "another tool", "a list", "folder", "missing"])
def test_bad_input_one_line_nothing_written(case, lmeval_out, real_result, tmp_path, capsys, monkeypatch) -> None:
    text = json.dumps(real_result)
    paths = {
        "truncated": ("t.json", text[: len(text) // 2], "not valid JSON"),
        "not json": ("x.json", "model,score\na,1\n", "not valid JSON"),
        "empty": ("e.json", "", "empty"),
        "a list": ("l.json", "[1, 2]", "not a lockbench-result"),
    }
    if case in paths:
        name, content, expected = paths[case]
        path = tmp_path / name
        path.write_text(content)
    elif case == "another tool":  # lm-eval's own results file
        path, expected = next(lmeval_out.rglob("results_*.json")), "not a lockbench-result"
    elif case == "folder":
        path, expected = tmp_path, "is a folder"
    else:
        path, expected = tmp_path / "nope.json", "no such"
    results_dir = tmp_path / "results"
    code, _, err = _submit(path, results_dir, capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and expected in err, err
    assert not results_dir.exists()


def test_slug_and_run_id() -> None:
    assert model_slug("HuggingFaceTB/SmolLM2-135M-Instruct") == "huggingfacetb--smollm2-135m-instruct"
    assert model_slug("/root/.cache/lockbench/models/SmolLM2 Locked/") == "smollm2-locked"
    assert model_slug(None) == "unnamed-model"


def test_never_overwrites_another_run(real_result, tmp_path, capsys, monkeypatch) -> None:
    results_dir = tmp_path / "results"
    path = write(tmp_path / "r.json", real_result)
    assert _submit(path, results_dir, capsys, monkeypatch)[0] == 0
    target = next(results_dir.rglob("*.json"))
    target.write_text(target.read_text().replace('"schema"', '"schema" ', 1))  # same id, other bytes
    before = tree(results_dir)
    code, _, err = _submit(path, results_dir, capsys, monkeypatch)
    assert code == 2 and "not overwriting" in err
    assert tree(results_dir) == before


def test_crafted_result_accepted(real_result, tmp_path, capsys, monkeypatch) -> None:
    doc = craft(real_result, {"lockbench_agriculture_mcq_locked": [False] * 20,
                              "lockbench_agriculture_mcq_unlocked": [True] * 15 + [False] * 5})
    code, out, err = _submit(write(tmp_path / "c.json", doc), tmp_path / "results", capsys, monkeypatch)
    assert code == 0, err
    assert "org--model-a" in out
