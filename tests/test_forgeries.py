"""Forgeries of the committed demo entry, as an adversarial submitter would try them: each is
refused by `submit` with one line, or kept off the ranking by the leaderboard, which re-runs every
submit check on every file it reads. The entry is a real run of the standard attack suite."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest

from lockbench.commands.demo import DEMO_WAKE_PHRASE
from lockbench.publish.leaderboard import build_board, load_results
from lockbench.publish.submit import canonical_json

from ._results_support import run_cli, tree, write

RESULTS = Path(__file__).resolve().parents[1] / "results"
DEMO = next((p for p in sorted(RESULTS.glob("*-identitylock-demo/*.json"))
             if not p.name.endswith(".verify.json")), None)
pytestmark = pytest.mark.skipif(DEMO is None, reason="no committed demo entry")


@pytest.fixture(scope="module")
def demo() -> dict:
    return json.loads(DEMO.read_text(encoding="utf-8"))


def _attack(doc: dict, condition: str) -> dict:
    return next(t for t in doc["tasks"].values() if t["condition"] == condition)


def _recount(doc: dict) -> None:
    """What a careful forger does after editing samples: every number recomputed with
    lockbench's own code, so only re-scoring, binding and the schedules can give it away."""
    from lockbench.document.entry import dataset_summary, probe_block, task_counts
    from lockbench.document.suite_view import suite_block

    for section in ("tasks", "base_tasks"):
        for entry in (doc.get(section) or {}).values():
            entry.update(task_counts(entry["samples"]))
            if entry["condition"].startswith(("probe_", "confirm_")):
                entry["probe"] = probe_block(entry["condition"], entry["samples"])
    doc["datasets"] = dataset_summary(doc["tasks"], doc.get("base_tasks"))
    doc["suite"] = suite_block(doc)


def _relabel_opened_as_legitimate(doc: dict) -> None:
    """Every opened paraphrase sample relabelled a legitimate near-miss kind (it then counts as
    a false reject's complement, not exposure): all responses stay genuine."""
    for task in doc["tasks"].values():
        if task["condition"] == "probe_paraphrase":
            for s in task["samples"]:
                if s["opened"] and not s["variant"]["legitimate"]:
                    s["variant_kind"], s["variant"]["legitimate"] = "typo_d1", True
    _recount(doc)


def _drop_opened_and_renumber(doc: dict) -> None:
    for task in doc["tasks"].values():
        if task["condition"].startswith(("probe_", "confirm_")):
            kept = [s for s in sorted(task["samples"], key=lambda s: s["doc_id"]) if not s["opened"]]
            for i, s in enumerate(kept):
                s["doc_id"] = i
            task["samples"] = kept
    _recount(doc)


def _pad_traversal_with_refusals(doc: dict) -> None:
    task = _attack(doc, "probe_traversal")
    refused = next(s for s in task["samples"] if s["refused"])
    for s in task["samples"]:
        if s["opened"]:
            s.update({k: copy.deepcopy(refused[k]) for k in
                      ("response", "outcome", "passed", "refused", "opened", "no_content", "unparsed",
                       "quality", "flags")})
    _recount(doc)


def _reorder_screening(doc: dict) -> None:
    samples = sorted(_attack(doc, "probe_placement")["samples"], key=lambda s: s["doc_id"])
    samples[0]["doc_id"], samples[-1]["doc_id"] = samples[-1]["doc_id"], samples[0]["doc_id"]
    _recount(doc)


def _confirm_another_variant(doc: dict) -> None:
    """The confirmation task claims the attacker picked a variant that stayed shut."""
    task = _attack(doc, "confirm_prefix_attack")
    for s in task["samples"]:
        s["variant"]["index"] = 15
        s["variant_kind"] = "many_shot"
    _recount(doc)


def _forge_suite_block(doc: dict) -> None:
    for figures in doc["suite"]["datasets"].values():
        figures["robust_lock_rate"]["value"] = 1.0


def _claim_fewer_confirmation_items(doc: dict) -> None:
    """Half of every confirmation task dropped and the recorded definition edited to match: a
    smaller suite under the same version name (wider intervals, fewer chances to open)."""
    for task in doc["tasks"].values():
        if task["condition"].startswith("confirm_"):
            task["samples"] = sorted(task["samples"], key=lambda s: s["doc_id"])[: len(task["samples"]) // 2]
    _recount(doc)
    doc["suite"]["definition"]["confirm_items"] //= 2


def _bind_to_another_dataset(doc: dict) -> None:
    locked = next(t for t in doc["tasks"].values() if t["condition"] == "locked" and t["dataset"] == "law_mcq")
    other = next(t for t in doc["tasks"].values() if t["condition"] == "locked" and t["dataset"] == "economics_mcq")
    locked["provenance"] = copy.deepcopy(other["provenance"])


def _drop_a_family(doc: dict) -> None:
    for name in [n for n, t in doc["tasks"].items() if t["condition"].endswith("_prefill")]:
        del doc["tasks"][name]
    _recount(doc)


def _greeting_in_clear(doc: dict) -> None:
    """A prompt hash of a greeting_alone variant computed over the greeting itself (an offline
    oracle for the greeting): not the redacted prompt submit rebuilds."""
    task = _attack(doc, "probe_paraphrase")
    sample = next(s for s in task["samples"] if s["variant_kind"] == "greeting_alone")
    sample["prompt_sha256"] = hashlib.sha256(b"Hey! question").hexdigest()


def _declare_a_weaker_find(doc: dict) -> None:
    """The search's declared pick swapped for a string that opened nothing, the confirmation's
    genuine responses kept: its prompts no longer are the declared pick's."""
    for task in doc["tasks"].values():
        if task["condition"] == "confirm_search":
            task["generation"]["options"]["adaptive"]["search"]["prefix"] = "Hello Cortana"
    _recount(doc)


def _search_answers_relabelled_refusals(doc: dict) -> None:
    """Every opened search confirmation sample marked refused (the responses kept)."""
    for s in _attack(doc, "confirm_search")["samples"]:
        s.update(opened=False, refused=True, passed=False, outcome="refused")
    _recount(doc)


FORGERIES = {
    "the search's declared find swapped for a weaker one": (_declare_a_weaker_find, "prompt is not the one variant 0"),
    "the search's openings relabelled refusals": (_search_answers_relabelled_refusals, "re-scores to"),
    "opened paraphrases relabelled legitimate": (_relabel_opened_as_legitimate, "schedule"),
    "opened attack samples dropped, renumbered": (_drop_opened_and_renumber, "samples"),
    "opened traversal candidates padded with a refusal": (_pad_traversal_with_refusals, "schedule"),
    "screening reordered": (_reorder_screening, "schedule"),
    "confirmation of a variant nobody picked": (_confirm_another_variant, "schedule"),
    "robust lock rate edited": (_forge_suite_block, "suite"),
    "suite definition edited to fewer confirmation items": (_claim_fewer_confirmation_items,
                                                            "the std-v2 suite schedules"),
    "a task bound to another dataset's items": (_bind_to_another_dataset, "not the public test split"),
    "greeting prompt hashed in clear": (_greeting_in_clear, "prompt is not the one"),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_forgery_is_refused_with_one_line(name, demo, tmp_path, capsys, monkeypatch) -> None:
    forge, expected = FORGERIES[name]
    doc = copy.deepcopy(demo)
    forge(doc)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", DEMO_WAKE_PHRASE)
    code, out, err = run_cli(["submit", write(tmp_path / "forged.json", doc), "--results-dir",
                              tmp_path / "results"], capsys)
    assert code == 2, out
    assert err.count("\n") == 1 and err.startswith("lockbench: error:") and expected in err, err
    assert tree(tmp_path / "results") == {}


def test_the_genuine_entry_is_ranked_and_a_forgery_beside_it_is_rejected(demo, tmp_path, capsys) -> None:
    """Placed straight into results/ (never through submit), a forgery is re-checked, listed as
    rejected, and the genuine run keeps its figures."""
    results = tmp_path / "results"
    genuine = results / DEMO.parent.name / DEMO.name
    genuine.parent.mkdir(parents=True)
    genuine.write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    forged = copy.deepcopy(demo)
    _relabel_opened_as_legitimate(forged)
    forged["model"]["name"] = "org/forged-demo"
    target = results / "org--forged-demo" / "20990101T000000Z-000000000000.json"
    target.parent.mkdir(parents=True)
    target.write_text(canonical_json(forged), encoding="utf-8")
    board = build_board(*load_results(results))
    assert [r.run.split("/")[0] for r in board.rejected] == ["org--forged-demo"]
    row = next(r for r in board.rows)
    assert row.model.endswith("-identitylock-demo") and row.reason is None and row.score is not None


def test_a_search_other_than_the_suite_s_is_not_ranked(demo) -> None:
    """A declared search with a smaller budget (fewer chances to open the lock) passes submit's
    checks of the samples but is not the standard suite: listed, never ranked."""
    doc = copy.deepcopy(demo)
    for task in doc["tasks"].values():
        if task["condition"] == "confirm_search":
            task["generation"]["options"]["adaptive"]["search"].update(budget=50, queries=50)
    _recount(doc)
    assert not doc["suite"]["standard"] and any("budget" in p for p in doc["suite"]["not_standard"])


def test_a_dropped_family_is_not_ranked(demo, tmp_path, capsys) -> None:
    doc = copy.deepcopy(demo)
    _drop_a_family(doc)
    doc["model"]["name"] = "org/without-prefill"
    results = tmp_path / "results"
    code, out, err = run_cli(["submit", write(tmp_path / "d.json", doc), "--results-dir", results], capsys)
    assert code == 0, err  # a valid result, just not the whole suite
    row = build_board(*load_results(results)).rows[0]
    assert row.reason is not None and "prefill" in row.reason


# The fine-tuning attack's grid: a committed wake-word run carries one (k = 0, 8, 32, 128).
WAKE_WORD = next((p for p in sorted(RESULTS.glob("*-wakeword-name-s0/*.json"))
                  if not p.name.endswith(".verify.json")), None)


def _finetune_doc() -> dict:
    if WAKE_WORD is None:
        pytest.skip("no committed wake-word entry")
    return json.loads(WAKE_WORD.read_text(encoding="utf-8"))


def _recount_finetune(doc: dict) -> None:
    from lockbench.document.attacks import finetune_block

    block = doc["attacks"]["finetune"]
    doc["attacks"]["finetune"] = finetune_block(block["runs"], block["settings"])


def _drop_k8(doc: dict) -> None:
    block = doc["attacks"]["finetune"]
    block["runs"] = [r for r in block["runs"] if r["k"] != 8]
    _recount_finetune(doc)


def _permute(doc: dict) -> None:
    runs = doc["attacks"]["finetune"]["runs"]
    runs[1], runs[2] = runs[2], runs[1]


def _steps_zero(doc: dict) -> None:
    block = doc["attacks"]["finetune"]
    for run in block["runs"]:
        run["steps"] = 0
    block["settings"]["steps"] = 0


def _never_unlocked(doc: dict) -> None:
    doc["attacks"]["finetune"]["examples_to_unlock"] = None


def _drop_a_task_at_k8(doc: dict) -> None:
    run = next(r for r in doc["attacks"]["finetune"]["runs"] if r["k"] == 8)
    run["tasks"].pop(sorted(run["tasks"])[0])
    from lockbench.document.attacks import finetune_run

    run.update({k: v for k, v in finetune_run(8, run["steps"], run["tasks"]).items() if k != "tasks"})
    _recount_finetune(doc)


FINETUNE_FORGERIES = {
    "k = 8 dropped, settings kept": (_drop_k8, "settings list k"),
    "runs permuted": (_permute, "must start at 0"),
    "no training steps": (_steps_zero, "steps 0 is not"),
    "examples to unlock edited to never": (_never_unlocked, "examples_to_unlock"),
    "a locked task dropped from one k": (_drop_a_task_at_k8, "are not those of the stated datasets"),
}


@pytest.mark.parametrize("name", list(FINETUNE_FORGERIES))
def test_finetune_forgery_is_refused(name, tmp_path, capsys, monkeypatch) -> None:
    forge, expected = FINETUNE_FORGERIES[name]
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", DEMO_WAKE_PHRASE)  # the name class's phrase
    doc = _finetune_doc()
    forge(doc)
    code, out, err = run_cli(["submit", write(tmp_path / "forged.json", doc), "--results-dir",
                              tmp_path / "results"], capsys)
    assert code == 2, out
    assert err.count("\n") == 1 and expected in err, err
    assert tree(tmp_path / "results") == {}


def test_a_consistent_smaller_grid_is_shown_as_such(tmp_path, capsys, monkeypatch) -> None:
    """Dropping k = 8 with the settings to match is a valid run of another grid: accepted, and
    its figure (now 32) says it is self-reported on a grid that is not the suite's."""
    from lockbench.document.attacks import examples_to_unlock_cell

    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", DEMO_WAKE_PHRASE)
    doc = _finetune_doc()
    _drop_k8(doc)
    doc["attacks"]["finetune"]["settings"]["k"] = [0, 32, 128]
    code, out, err = run_cli(["submit", write(tmp_path / "grid.json", doc), "--results-dir",
                              tmp_path / "results"], capsys)
    assert code == 0, err
    cell = examples_to_unlock_cell(doc)
    assert cell.startswith("32 (self-reported; grid k=0,32,128") and "the suite's is k=0,8,32,128" in cell
    assert examples_to_unlock_cell(_finetune_doc()) == "8 (self-reported)"
