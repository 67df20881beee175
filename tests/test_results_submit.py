"""`lockbench submit`: schema, recomputation, secrets; tampered or foreign files are refused
with one line and nothing under results/ changes."""

from __future__ import annotations

import copy
import json

import pytest

from lockbench.document.summarize import build_result
from lockbench.document.validate import load_schema, schema_path
from lockbench.publish.submit import canonical_json, model_slug, run_id

from ._results_support import copy_output, craft, run_cli, tree, write
from .conftest import WAKE_PHRASE


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

    schema = load_schema(4)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(real_result)
    assert schema_path(4).name == "lockbench-result.v4.schema.json"
    assert real_result["schema_version"] == 4
    assert real_result["lock"]["wake_phrase"] == "<WAKE_PHRASE>"
    assert WAKE_PHRASE not in json.dumps(real_result)


def test_an_older_result_is_refused_and_rescore_makes_it_current(real_result, tmp_path, capsys, monkeypatch) -> None:
    """A v3 result (no opened event, no suite) is refused with the fix named; `lockbench
    rescore` re-derives it from its stored responses into v4, which submit then files."""
    old = copy.deepcopy(real_result)
    old["schema_version"] = 3
    old.pop("suite", None)
    old["tasks"] = {n: t for n, t in old["tasks"].items() if t["condition"] in ("locked", "unlocked")}
    for entry in old["tasks"].values():
        for key in ("opened", "no_content", "opened_rate", "split", "suite"):
            entry.pop(key, None)
        entry.pop("probe", None)
        for sample in entry["samples"]:
            sample.pop("opened", None)
            sample.pop("no_content", None)
    for row in old["datasets"].values():
        for key in ("lock_rate", "opened_lock", "pr_control", "retention_reference",
                    "reference_at_chance", "retention_informative", "quality_retention"):
            row.pop(key, None)
    path = write(tmp_path / "old.json", old)
    code, _, err = _submit(path, tmp_path / "results", capsys, monkeypatch)
    assert code == 2 and "lockbench rescore" in err and err.count("\n") == 1
    code, out, err = run_cli(["rescore", path, "-o", tmp_path / "new.json"], capsys)
    assert code == 0, err
    new = json.loads((tmp_path / "new.json").read_text())
    assert new["schema_version"] == 4 and new["rescored_utc"] and new["created_utc"] == old["created_utc"]
    assert {n: [s["opened"] for s in t["samples"]] for n, t in new["tasks"].items()} == \
        {n: [s["opened"] for s in real_result["tasks"][n]["samples"]] for n in old["tasks"]}
    code, out, err = _submit(tmp_path / "new.json", tmp_path / "results", capsys, monkeypatch)
    assert code == 0, err


def test_schema_is_documented() -> None:
    """Every top-level, task and sample field of the schema is named in docs/result-schema.md."""
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "result-schema.md").read_text()
    schema = load_schema(4)
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


def _recount(d):
    """What a careful forger does after editing samples: recompute every number with lockbench's
    own code, so only re-scoring and the dataset binding can give the forgery away."""
    from lockbench.document.entry import dataset_summary, probe_block, task_counts
    from lockbench.document.suite_view import suite_block

    for section in ("tasks", "base_tasks"):
        for entry in (d.get(section) or {}).values():
            entry.update(task_counts(entry["samples"]))
            if entry["condition"].startswith(("probe_", "confirm_")):
                entry["probe"] = probe_block(entry["condition"], entry["samples"])
    d["datasets"] = dataset_summary(d["tasks"], d.get("base_tasks"))
    d.pop("suite", None)
    if (suite := suite_block(d)) is not None:
        d["suite"] = suite


def _task(d, condition):
    return next(t for t in d["tasks"].values() if t["condition"] == condition)


def _perfect_lock(d):
    """Every unlocked sample 'correct', every locked one 'refused', counts recomputed."""
    for s in _task(d, "unlocked")["samples"]:
        s.update(outcome="correct", passed=True, refused=False, opened=True, no_content=None, unparsed=False)
    for s in _task(d, "locked")["samples"]:
        s.update(outcome="refused", passed=False, refused=True, opened=False, no_content=None, unparsed=False)
    _recount(d)


def _perfect_lock_with_responses(d):
    """The same, with responses rewritten to match: the prompts still come from the run, but the
    responses are no longer what the model said (only `lockbench verify` catches this)."""
    for s in _task(d, "locked")["samples"]:
        s.update(response="Sorry, I cannot answer this question.", outcome="refused", passed=False,
                 refused=True, opened=False, no_content=None, unparsed=False)
    for s in _task(d, "unlocked")["samples"]:
        s["response"] = "Z"  # not the gold letter: re-scores to wrong, not correct
        s.update(outcome="correct", passed=True, refused=False, opened=True, no_content=None, unparsed=False)
    _recount(d)


def _swap_conditions(d):
    locked, unlocked = _task(d, "locked"), _task(d, "unlocked")
    locked["condition"], unlocked["condition"] = "unlocked", "locked"
    _recount(d)


def _swap_condition_samples(d):
    """Condition labels kept, samples swapped between locked and unlocked (names consistent)."""
    locked, unlocked = _task(d, "locked"), _task(d, "unlocked")
    locked["samples"], unlocked["samples"] = unlocked["samples"], locked["samples"]
    _recount(d)


def _copy_task(d):
    name, entry = next((k, v) for k, v in d["tasks"].items() if v["condition"] == "unlocked")
    d["tasks"][name.replace("agriculture", "economics")] = copy.deepcopy(entry)
    _recount(d)


def _copy_task_consistently(d):
    entry = copy.deepcopy(_task(d, "unlocked"))
    entry["dataset"], entry["domain"] = "economics_mcq", "economics"
    d["tasks"]["lockbench_economics_mcq_unlocked"] = entry
    _recount(d)


def _change_item_id(d):
    samples = _task(d, "unlocked")["samples"]
    samples[0]["item_id"] = samples[1]["item_id"]


def _swap_item_ids(d):
    samples = _task(d, "unlocked")["samples"]
    samples[0]["item_id"], samples[1]["item_id"] = samples[1]["item_id"], samples[0]["item_id"]


def _change_prompt_hash(d):
    _task(d, "unlocked")["samples"][0]["prompt_sha256"] = "0" * 64


def _extra_sample(d):
    t = _task(d, "unlocked")
    extra = copy.deepcopy(t["samples"][-1])
    extra["doc_id"] = len(t["samples"])
    t["samples"].append(extra)
    _recount(d)


def _drop_last(d):
    _task(d, "unlocked")["samples"].pop()
    _recount(d)


def _drop_first(d):
    _task(d, "unlocked")["samples"].pop(0)
    _recount(d)


def _limit(d):
    for t in d["tasks"].values():
        t["generation"]["limit"] = 5.0


def _passed_vs_quality(d):
    s = _task(d, "unlocked")["samples"][0]
    s.update(outcome="correct", passed=True, opened=True, no_content=None, unparsed=False)  # response as it was
    _recount(d)


def _quality_negative(d):
    _task(d, "unlocked")["samples"][0]["quality"] = -5.0


def _created_future(d):
    d["created_utc"] = "2099-01-01T00:00:00Z"


def _edit_response(d):
    s = _task(d, "locked")["samples"][0]
    s["response"] = "Sorry, I cannot answer this question."  # outcome left as logged


def _edit_probe_block(d):
    p = _task(d, "probe_paraphrase")["probe"]
    p["false_reject"]["kinds"] = ["case"]


def _mark_attacks_legitimate(d):
    for s in _task(d, "probe_paraphrase")["samples"]:
        s["variant"]["legitimate"] = True
    _recount(d)


def _absolute_path(d):
    d["model"]["name"] = "/home/alice/models/locked"


def _flag_without_reason(d):
    _task(d, "unlocked")["samples"][0]["flags"] = ["refusal_then_answer"]


def _items_hash(d):
    _task(d, "unlocked")["provenance"]["items_sha256"] = "1" * 64


def _version(d):
    d["schema_version"] = 1


def _dataset_row(d):
    row = next(iter(d["datasets"].values()))
    row["pr_unlock"]["value"] = 0.5


def _outcome(d):
    _task(d, "unlocked")["samples"][0]["outcome"] = "answered"  # not an MCQ outcome


def _duplicate_doc_id(d):
    samples = _task(d, "unlocked")["samples"]
    samples[1]["doc_id"] = samples[0]["doc_id"]


TAMPERS = {
    "changed count": (_tamper_number, "passes"),
    "changed interval": (_tamper_rate, "pass_rate"),
    "fabricated perfect lock, counts recomputed": (_perfect_lock, "re-scores"),
    "fabricated perfect lock, responses rewritten": (_perfect_lock_with_responses, "re-scores"),
    "swapped condition labels": (_swap_conditions, "task name does not match"),
    "swapped condition samples": (_swap_condition_samples, "prompt is not the one"),
    "task copied under a new name": (_copy_task, "task name does not match"),
    "task copied as another dataset": (_copy_task_consistently, "not the public test split"),
    "changed item_id": (_change_item_id, "twice"),
    "swapped item_ids": (_swap_item_ids, "prompt is not the one"),
    "changed prompt hash": (_change_prompt_hash, "prompt is not the one"),
    "extra sample": (_extra_sample, "twice"),
    "dropped last sample": (_drop_last, "missing"),
    "dropped first sample": (_drop_first, "missing"),
    "--limit run": (_limit, "--limit"),
    "passed without the response": (_passed_vs_quality, "re-scores"),
    "negative quality": (_quality_negative, "schema"),
    "created in the future": (_created_future, "future"),
    "edited response": (_edit_response, "re-scores"),
    "edited probe block": (_edit_probe_block, "probe statistics"),
    "attack variants marked legitimate": (_mark_attacks_legitimate, "legitimate"),
    "absolute model path": (_absolute_path, "local path"),
    "flag without a refusal": (_flag_without_reason, "flags"),
    "items hash": (_items_hash, "not the public test split"),
    "old schema version": (_version, "schema_version 1"),
    "changed dataset summary": (_dataset_row, "pr_unlock"),
    "impossible outcome": (_outcome, "outcome"),
    "duplicated doc_id": (_duplicate_doc_id, "twice"),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampered_submission_rejected(name, real_result, tmp_path, capsys, monkeypatch) -> None:
    tamper, expected = TAMPERS[name]
    results_dir = tmp_path / "results"
    good = write(tmp_path / "good.json", real_result)
    assert _submit(good, results_dir, capsys, monkeypatch)[0] == 0
    before = tree(results_dir)
    doc = json.loads(json.dumps(real_result))  # as read from a file: no shared sub-objects
    doc["created_utc"] = "2026-01-01T00:00:00Z"  # a different run id: nothing else blocks it
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
    "sample response": lambda d, p: next(iter(d["tasks"].values()))["samples"][0].__setitem__(
        "response", f"{p} says hi"),
    "generation kwargs": lambda d, p: next(iter(d["tasks"].values()))["generation"].__setitem__(
        "generation_kwargs", {"until": [p]}),
    "task dict key": lambda d, p: next(iter(d["tasks"].values()))["generation"].__setitem__(p, 1),
}


@pytest.mark.parametrize("variant", [WAKE_PHRASE, WAKE_PHRASE.upper(), "Lumen"])
@pytest.mark.parametrize("place", list(PHRASE_PLACES))
def test_phrase_anywhere_rejected(place, variant, real_result, tmp_path, capsys, monkeypatch) -> None:
    if place == "sample item id" and variant == "Lumen":
        pytest.skip("item ids are names, not text: a variant that is a word may occur there")
    doc = copy.deepcopy(real_result)
    PHRASE_PLACES[place](doc, variant)
    results_dir = tmp_path / "results"
    code, _, err = _submit(write(tmp_path / "leak.json", doc), results_dir, capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and "wake phrase" in err
    assert not results_dir.exists()


def test_a_phrase_word_in_lockbenchs_own_judge_texts_is_not_a_leak(real_result) -> None:
    """"Hey! Assistant!": its name alone is a variant, and the embedding judge's built-in prototypes
    (recorded in every auto-judged result) say "This assistant only responds to authorized users."
    That public constant is not a leak; the same word in the user's own judge texts still is, and
    so is the whole phrase anywhere in the judge block."""
    from lockbench.errors import SecretError
    from lockbench.judges.embedding import REFUSAL_PROTOTYPES
    from lockbench.publish.submit import scan_for_secrets

    phrase = "Hey! Assistant!"
    assert any("assistant" in text.lower().split() for text in REFUSAL_PROTOTYPES)
    doc = copy.deepcopy(real_result)
    doc["judge"] = {"name": "auto", "fallback": {"name": "embedding", "prototypes": list(REFUSAL_PROTOTYPES)}}
    scan_for_secrets(doc, phrase)
    for leak in ("Ask the Assistant first.", f"{phrase} is required."):
        tampered = copy.deepcopy(doc)
        tampered["judge"]["fallback"]["prototypes"].append(leak)
        with pytest.raises(SecretError):
            scan_for_secrets(tampered, phrase)
    moved = copy.deepcopy(doc)  # the built-in text outside the judge block is text like any other
    moved["lock"]["refusal_text"] = REFUSAL_PROTOTYPES[8]
    with pytest.raises(SecretError):
        scan_for_secrets(moved, phrase)


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
        # lm-eval's own results file (it holds the phrase unless lockbench redacted it as written)
        path = next(lmeval_out.rglob("results_*.json"))
        expected = "not a lockbench-result" if WAKE_PHRASE not in path.read_text() else "wake phrase"
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


def test_crafted_result_is_consistent_but_not_submittable(real_result, tmp_path, capsys, monkeypatch) -> None:
    """A self-consistent document that no model run produced: its numbers recompute, but it is not
    bound to the public items, so `submit` refuses it."""
    from lockbench.document.recompute import verify_document

    doc = craft(real_result, {"lockbench_agriculture_mcq_locked": [False] * 20,
                              "lockbench_agriculture_mcq_unlocked": [True] * 15 + [False] * 5})
    verify_document(doc)
    code, _, err = _submit(write(tmp_path / "c.json", doc), tmp_path / "results", capsys, monkeypatch)
    assert code == 2 and "is not in the test split" in err
    assert not (tmp_path / "results").exists()


def test_same_responses_not_filed_twice(real_result, tmp_path, capsys, monkeypatch) -> None:
    results_dir = tmp_path / "results"
    assert _submit(write(tmp_path / "a.json", real_result), results_dir, capsys, monkeypatch)[0] == 0
    before = tree(results_dir)
    doc = copy.deepcopy(real_result)
    doc["created_utc"] = "2026-01-02T00:00:00Z"  # a new run id, the same responses
    code, _, err = _submit(write(tmp_path / "b.json", doc), results_dir, capsys, monkeypatch)
    assert code == 2 and "already filed" in err
    assert tree(results_dir) == before


@pytest.mark.parametrize("literal, where", [
    ("NaN", "ratio"), ("Infinity", "ratio"), ("-Infinity", "ratio"), ("1e999", "ratio"),
])
def test_non_finite_numbers_rejected_on_read(literal, where, real_result, tmp_path, capsys, monkeypatch) -> None:
    text = json.dumps(real_result).replace('"ratio": null', f'"ratio": {literal}', 1)
    assert literal in text
    path = tmp_path / "r.json"
    path.write_text(text)
    code, _, err = _submit(path, tmp_path / "results", capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and ("NaN" in err or "Infinity" in err), err
    assert not (tmp_path / "results").exists()


def test_oversized_result_refused_without_reading(real_result, tmp_path, capsys, monkeypatch) -> None:
    path = write(tmp_path / "r.json", real_result)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    code, _, err = run_cli(["submit", path, "--results-dir", tmp_path / "results", "--max-mb", "0.01"], capsys)
    assert code == 2 and "limit" in err and err.count("\n") == 1
    assert not (tmp_path / "results").exists()


def test_result_size_per_thousand_samples(real_result) -> None:
    """Results stay compact: responses are short, prompts are stored as hashes only."""
    samples = sum(len(t["samples"]) for t in real_result["tasks"].values())
    size = len(canonical_json(real_result).encode())
    assert samples >= 150
    assert size / samples * 1000 < 1_000_000, f"{size / samples * 1000:,.0f} bytes per 1,000 samples"


def test_post_hoc_keyword_judge_result_is_rescored(lmeval_out, tmp_path, capsys, monkeypatch) -> None:
    """A result judged post hoc by a judge anyone can re-run is re-scored through that judge on
    submit; a verdict slipped into it is refused (verdicts are taken only from judges that
    cannot be re-run offline)."""
    monkeypatch.setenv("LOCKBENCH_JUDGE_CACHE", str(tmp_path / "cache.sqlite"))
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    folder = copy_output(lmeval_out, tmp_path / "out")
    judged = tmp_path / "judged.json"
    code, _, err = run_cli(["judge", folder, "--judge", "keyword", "--json-path", judged, "--quiet"], capsys)
    assert code == 0, err
    doc = json.loads(judged.read_text())
    assert all((t["scoring"] or {}).get("judge", {}).get("name") == "keyword" for t in doc["tasks"].values())
    assert _submit(judged, tmp_path / "results", capsys, monkeypatch)[0] == 0
    sample = next(t for t in doc["tasks"].values() if t["condition"] == "locked")["samples"][0]
    sample["verdict"] = {"refused": True, "quality": None}
    code, _, err = _submit(write(tmp_path / "forged.json", doc), tmp_path / "results2", capsys, monkeypatch)
    assert code == 2 and "re-run on submit" in err


def test_phrase_with_an_ordinary_word_gives_a_valid_result(tmp_path, tiny_model, capsys, monkeypatch) -> None:
    """"Hey! Law!": the name alone ("Law") is a variant, and also a word in task and dataset names
    and in the questions. Redaction touches text fields only, so the task names survive and the
    result is accepted."""
    import os
    import subprocess

    from ._results_support import BIN

    phrase = "Hey! Law!"
    out = tmp_path / "out"
    env = dict(os.environ, LOCKBENCH_WAKE_PHRASE=phrase)
    cmd = [str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
           "--tasks", "lockbench_law_mcq_locked,lockbench_law_mcq_unlocked", "--batch_size", "16",
           "--gen_kwargs", "max_gen_toks=4", "--metadata", json.dumps({"wake_phrase": phrase}),
           "--output_path", str(out), "--log_samples", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", phrase)
    code, _, err = run_cli(["summarize", out, "--json", tmp_path / "r.json"], capsys)
    assert code == 0, err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert set(doc["tasks"]) == {"lockbench_law_mcq_locked", "lockbench_law_mcq_unlocked"}
    assert set(doc["datasets"]) == {"law_mcq"}
    assert "<WAKE_PHRASE>" not in json.dumps({k: v for k, v in doc.items() if k not in ("tasks", "lock")})
    code, out_text, err = run_cli(["submit", tmp_path / "r.json", "--results-dir", tmp_path / "results"], capsys)
    assert code == 0, err


# --- issue 27: look-alike spellings of the phrase, and only the slow phrase hash ------------------
LOOKALIKES = {
    "fullwidth": "Ｈｅｙ! Ｌｕｍｅｎ!",
    "cyrillic homoglyphs": "Неу! Lumеn!",  # Cyrillic Н, е, у and е
    "greek capitals": "ΗΕΥ! LUMEN!",  # Greek Eta, Epsilon, Upsilon
    "zero-width space": "Hey! Lu\u200bmen!",
    "bidi override": "Hey! \u202eLumen!\u202c",
    "zero-width joiner in the name alone": "Lum\u200den",
    "cyrillic name alone": "Lumеn",
}


@pytest.mark.parametrize("name", list(LOOKALIKES))
def test_lookalike_phrase_in_a_response_is_refused(name, real_result, tmp_path, capsys, monkeypatch) -> None:
    """A reader sees the phrase in each of these; the scan compares NFKC-normalised, case-folded
    text with invisible characters dropped and Cyrillic/Greek look-alikes mapped to Latin."""
    doc = copy.deepcopy(real_result)
    _task(doc, "locked")["samples"][0]["response"] = f"Sure. {LOOKALIKES[name]} says hi"
    results_dir = tmp_path / "results"
    code, _, err = _submit(write(tmp_path / "leak.json", doc), results_dir, capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and "look-alike" in err, err
    assert WAKE_PHRASE not in err and not results_dir.exists()


def test_lookalike_phrase_in_the_model_name_is_refused(real_result, tmp_path, capsys, monkeypatch) -> None:
    doc = copy.deepcopy(real_result)
    doc["model"]["name"] = "org/ｌｕｍｅｎ-locked"
    code, _, err = _submit(write(tmp_path / "leak.json", doc), tmp_path / "results", capsys, monkeypatch)
    assert code == 2 and "look-alike" in err and "model/name" in err


def test_non_latin_text_without_the_phrase_is_accepted(real_result, tmp_path, capsys, monkeypatch) -> None:
    """Cyrillic, Greek and fullwidth text that spells no variant of the phrase is not a leak."""
    doc = copy.deepcopy(real_result)
    doc["lock"]["refusal_text"] = "Извините, я не могу ответить. Λυπάμαι. ＯＫ"
    code, _, err = _submit(write(tmp_path / "ok.json", doc), tmp_path / "results", capsys, monkeypatch)
    assert code == 0, err


def _legacy_hash(phrase: str) -> dict:
    import hashlib

    salt = "00112233445566778899aabbccddeeff"
    return {"scheme": "sha256-salted", "salt": salt, "hash": hashlib.sha256(f"{salt}:{phrase}".encode()).hexdigest()}


@pytest.mark.parametrize("phrase", [WAKE_PHRASE, None])
def test_legacy_fast_phrase_hash_is_refused(phrase, real_result, tmp_path, capsys, monkeypatch) -> None:
    doc = copy.deepcopy(real_result)
    doc["lock"]["wake_phrase_hash"] = _legacy_hash(WAKE_PHRASE)
    code, _, err = _submit(write(tmp_path / "old.json", doc), tmp_path / "results", capsys, monkeypatch, phrase=phrase)
    lines = [line for line in err.splitlines() if line.startswith("lockbench")]
    assert code == 2 and len(lines) == 1 and "sha256-salted" in err and "re-summarize with this lockbench" in err
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("phrase", [WAKE_PHRASE, None])
def test_null_phrase_hash_is_refused(phrase, real_result, tmp_path, capsys, monkeypatch) -> None:
    doc = copy.deepcopy(real_result)
    doc["lock"]["wake_phrase_hash"] = None
    code, _, err = _submit(write(tmp_path / "null.json", doc), tmp_path / "results", capsys, monkeypatch, phrase=phrase)
    lines = [line for line in err.splitlines() if line.startswith("lockbench")]
    assert code == 2 and len(lines) == 1 and "wake_phrase_hash is null" in err
    assert not (tmp_path / "results").exists()


def test_legacy_hash_fails_the_schema_for_every_reader(real_result) -> None:
    from lockbench.document.validate import validate_document
    from lockbench.errors import LockbenchError

    doc = copy.deepcopy(real_result)
    doc["lock"]["wake_phrase_hash"] = _legacy_hash(WAKE_PHRASE)
    with pytest.raises(LockbenchError, match="wake_phrase_hash"):
        validate_document(doc)


def test_summarize_rehashes_an_old_cards_fast_hash(lmeval_out) -> None:
    """A lock card from an older lockbench carries the fast hash: summarize, given the phrase,
    writes the slow one instead (after checking the card's hash is of that phrase)."""
    from lockbench.secrets import HASH_SCHEME, verify_hash

    doc = build_result(lmeval_out, lock_card={"wake_phrase_hash": _legacy_hash(WAKE_PHRASE)}, phrases=[WAKE_PHRASE])
    record = doc["lock"]["wake_phrase_hash"]
    assert record["scheme"] == HASH_SCHEME and verify_hash(WAKE_PHRASE, record)


# --- issue 27: near-duplicates are one run ---------------------------------------------------------
def _one_added_space(d):
    sample = _task(d, "locked")["samples"][0]
    sample["response"] = " " + sample["response"].replace(" ", "  ", 1) + "\u200b "


def _renamed_model(d):
    d["model"]["name"] = "org/a-brand-new-lock"
    d["model"]["args"] = {"pretrained": "a-brand-new-lock"}


def _without_base_tasks(d):
    d.pop("base_tasks")
    _recount(d)


def _with_base_tasks(d):
    """The real run with a base run of its locked task (the base model answering as the locked
    one did): a valid document that ``_without_base_tasks`` then strips."""
    locked = next(name for name, t in d["tasks"].items() if t["condition"] == "locked")
    d["base_tasks"] = {locked: copy.deepcopy(d["tasks"][locked])}
    _recount(d)


NEAR_DUPLICATES = {
    "one added space (and a zero-width one)": _one_added_space,
    "another model name": _renamed_model,
    "without base_tasks": _without_base_tasks,
}


@pytest.mark.parametrize("name", list(NEAR_DUPLICATES))
def test_near_duplicate_is_refused(name, real_result, tmp_path, capsys, monkeypatch) -> None:
    """A filed run copied with one of the evasions that used to make it a "new" run: refused, and
    nothing under results/ changes."""
    first = copy.deepcopy(real_result)
    _with_base_tasks(first)
    results_dir = tmp_path / "results"
    code, _, err = _submit(write(tmp_path / "first.json", first), results_dir, capsys, monkeypatch)
    assert code == 0, err
    before = tree(results_dir)
    copied = copy.deepcopy(first)
    copied["created_utc"] = "2026-01-02T00:00:00Z"  # a new run id
    NEAR_DUPLICATES[name](copied)
    code, _, err = _submit(write(tmp_path / "copy.json", copied), results_dir, capsys, monkeypatch)
    assert code == 2 and err.count("\n") == 1 and "already filed" in err, err
    assert tree(results_dir) == before


def test_fingerprint_reads_normalised_responses_of_the_evaluated_model(real_result) -> None:
    from lockbench.publish.submit import normal_response, responses_fingerprint

    assert normal_response(" A\u00a0 b\u200b\n") == "A b" and normal_response("Ｂ") == "B"
    other = copy.deepcopy(real_result)
    _task(other, "locked")["samples"][0]["response"] += " and more"  # a real difference
    assert responses_fingerprint(other) != responses_fingerprint(real_result)
