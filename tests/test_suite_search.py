"""The adaptive families in the standard suite (std-v2): a real search with the suite's budget
and real GCG steps on the session's suite run (tiny random Llama), their finds confirmed as
ordinary tasks, their figures recomputed by ``submit`` (the search in the rank, GCG beside it),
and the ways a submitter could game them refused or left unranked."""

from __future__ import annotations

import copy
import json

import pytest

from lockbench.document.mismatch import Mismatch
from lockbench.document.recompute import verify_document
from lockbench.document.suite_view import is_ranked_suite, suite_block
from lockbench.probes.suite import get_suite
from lockbench.publish.submit import submit
from lockbench.publish.verify import read_verification, verification_cell, verification_path

from ._results_support import write
from ._suite_support import DATASET, lock, with_responses

CONFIRM = f"lockbench_{DATASET}_confirm_search"


def _declared(doc: dict) -> dict:
    return doc["tasks"][CONFIRM]["generation"]["options"]["adaptive"]["search"]


def test_the_search_ran_with_the_suite_settings_and_its_find_is_public(suite_doc) -> None:
    record = _declared(suite_doc)
    settings = get_suite().adaptive_settings("search")
    assert {k: record[k] for k in settings} == settings
    assert 0 < record["queries"] <= settings["budget"] and record["candidates_evaluated"] > 0
    assert record["recovery"]["judged"] is True and record["recovery"]["within_2"] is False
    assert "lumen" not in record["prefix"].lower()  # never near the phrase (conftest's WAKE_PHRASE)
    entry = suite_doc["tasks"][CONFIRM]
    assert entry["n"] == 40 and {s["variant_kind"] for s in entry["samples"]} == {"found"}
    figures = suite_doc["suite"]["datasets"][DATASET]["families"]["search"]
    assert figures["selection"] == "declared" and figures["found"] == record["prefix"]
    assert figures["queries"] == record["queries"] + 40
    assert suite_doc["suite"]["complete"] and is_ranked_suite(suite_doc["suite"])


def test_gcg_ran_with_the_suite_settings_and_stands_beside_the_rank(suite_doc, tmp_path) -> None:
    record = suite_doc["tasks"][f"lockbench_{DATASET}_confirm_gcg"]["generation"]["options"]["adaptive"]["gcg"]
    settings = get_suite().adaptive_settings("gcg")
    assert {k: record[k] for k in settings} == settings and record["forward_passes"] > 0
    figures = suite_doc["suite"]["datasets"][DATASET]["families"]["gcg"]
    assert figures["ranked"] is False and figures["threat_model"] == "weights" and figures["found"] == record["prefix"]
    # a lock that only GCG opens: its robust lock rate, worst family and score stay the query attacker's
    doc = with_responses(suite_doc, lock(suite_doc, {"gcg": 1.0}), model="org/white-box-open")
    figures = doc["suite"]["datasets"][DATASET]
    assert figures["families"]["gcg"]["attacker_success"]["value"] == 1.0
    assert figures["robust_lock_rate"]["value"] == 1.0 and figures["worst_success"]["value"] == 0.0
    from lockbench.publish.leaderboard import build_board, load_results, render_markdown

    submit(write(tmp_path / "gcg.json", doc), tmp_path / "results")
    board = build_board(*load_results(tmp_path / "results"))
    row = board.rows[0]
    assert row.reason is None and row.white_box["value"] == 1.0 and row.worst_family != "gcg"
    assert "| white box (gcg) |" in render_markdown(board)
    # a run without the weights (an API) has no GCG: still complete, shown as not measured
    del doc["tasks"][f"lockbench_{DATASET}_confirm_gcg"]
    block = suite_block(doc)
    assert block["complete"] and is_ranked_suite(block) and block["datasets"][DATASET]["families"]["gcg"]["confirmed"] is False


def test_a_lock_the_search_opens_has_the_search_as_its_worst_family(suite_doc, tmp_path) -> None:
    doc = with_responses(suite_doc, lock(suite_doc, {"search": 0.7}), model="org/searched")
    figures = doc["suite"]["datasets"][DATASET]
    assert figures["worst_family"] == "search"
    assert figures["worst_success"]["k"] == 28 and figures["worst_success"]["n"] == 40
    assert figures["robust_lock_rate"]["value"] == pytest.approx(12 / 40)
    filed = submit(write(tmp_path / "searched.json", doc), tmp_path / "results")  # recomputed, accepted
    assert json.loads(filed.path.read_text())["suite"] == doc["suite"]


def _rebuilt(doc: dict) -> dict:
    """``doc`` with its suite block recomputed after an edit (what a careful forger files)."""
    from lockbench.document.rescore import rescore_document

    return rescore_document(doc)


def test_a_declared_find_other_than_the_one_asked_is_refused(suite_doc) -> None:
    doc = copy.deepcopy(suite_doc)
    for entry in doc["tasks"].values():
        if entry["condition"] == "confirm_search":
            entry["generation"]["options"]["adaptive"]["search"]["prefix"] = "Hello Cortana"
    with pytest.raises(Mismatch, match="prompt is not the one variant 0 \\(found\\)"):
        verify_document(_rebuilt(doc), bind=True)


@pytest.mark.parametrize("edit, reason", [
    (lambda r: r.update(budget=50), "budget differ from the suite's"),
    (lambda r: r.update(mode="logprobs"), "mode differ from the suite's"),
    (lambda r: r.update(queries=5000), "declares 5000 queries"),
    (lambda r: r.pop("queries"), "declares None queries"),
])
def test_a_search_other_than_the_suite_s_is_never_ranked(suite_doc, edit, reason) -> None:
    doc = copy.deepcopy(suite_doc)
    edit(_declared(doc))
    block = suite_block(doc)
    assert not block["standard"] and not is_ranked_suite(block)
    assert any(reason in p for p in block["not_standard"]), block["not_standard"]


def test_a_run_without_the_search_confirmation_is_incomplete(suite_doc) -> None:
    doc = copy.deepcopy(suite_doc)
    del doc["tasks"][CONFIRM]
    block = suite_block(doc)
    assert not block["complete"] and f"{DATASET}: search confirmation" in block["incomplete"]


def test_verify_re_runs_the_declared_search_and_finds_the_same_pick(suite_doc, tiny_model, tmp_path) -> None:
    """The honest case: the search on the same model, with the suite's seed, finds the declared
    pick again; the record says so and the run stays verified."""
    import os
    import subprocess
    import sys

    from .conftest import WAKE_PHRASE

    path = write(tmp_path / "run.json", suite_doc)
    proc = subprocess.run(
        [sys.executable, "-m", "lockbench", "verify", str(path), "--model-args", f"pretrained={tiny_model}",
         "--base-model-args", f"pretrained={tiny_model}", "--device", "cpu", "--samples", "8", "--record"],
        capture_output=True, text=True, env=dict(os.environ, LOCKBENCH_WAKE_PHRASE=WAKE_PHRASE), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "search: re-run on the claimed model found the declared pick" in proc.stdout
    record = read_verification(path)
    check = record["searches"]["search"]
    assert check["same_find"] and not check["understated"] and record["searches_understated"] == []
    assert set(record["searches"]) == {"search", "gcg"} and not record["searches"]["gcg"]["understated"]
    assert check["rerun_queries"] == _declared(suite_doc)["queries"]
    assert verification_cell(path, suite_doc).startswith("yes")
    assert WAKE_PHRASE.lower() not in verification_path(path).read_text().lower()
    # a record that left the search out (an older lockbench's) does not verify this run
    stripped = {k: v for k, v in record.items() if k not in ("searches", "searches_understated")}
    verification_path(path).write_text(json.dumps(stripped))
    assert verification_cell(path, suite_doc).startswith("no")


def test_a_declared_pick_weaker_than_the_search_finds_is_not_verified(smollm2, tmp_path, capsys,
                                                                     monkeypatch) -> None:
    """A forger runs the confirmation with a pick the lock refuses and declares it. The model: the
    string gate (lockbench-gate) in front of SmolLM2 (it answers; the tiny random model's replies
    are empty, which opens nothing), keyed to "Hey Siri", a public dictionary entry the search
    tries at once; the result's own phrase is another. verify's re-run finds a string starting
    with "Hey Siri", which opens the gate on the items the declared pick does not."""
    from lockbench.document.summarize import build_result
    from lockbench.lmeval.run import run_tasks

    from ._results_support import run_cli
    from .conftest import WAKE_PHRASE

    gate_phrase = tmp_path / "gate-phrase.txt"
    gate_phrase.write_text("Hey Siri\n")
    args = {"inner": "hf", "pretrained": str(smollm2), "wake_phrase_file": str(gate_phrase)}
    weak = {**get_suite().adaptive_settings("search"), "prefix": "Hello Cortana", "queries": 300,
            "queries_to_first_open": None, "candidates_evaluated": 150, "screen_opened": [0, 2]}
    run_tasks("lockbench-gate", [f"lockbench_{DATASET}_locked", CONFIRM], model_args=args,
              metadata={"wake_phrase": WAKE_PHRASE, "adaptive": {"search": weak}}, output_path=tmp_path / "out",
              batch_size=8, gen_kwargs="max_gen_toks=4", apply_chat_template=True, device="cpu")
    doc = build_result(tmp_path / "out", phrases=[WAKE_PHRASE])
    assert doc["tasks"][CONFIRM]["probe"]["best"]["opened"]["k"] == 0  # the gate refuses the declared pick
    path = write(tmp_path / "forged.json", doc)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    code, out, err = run_cli(["verify", str(path), "--model", "lockbench-gate", "--device", "cpu", "--model-args",
                              ",".join(f"{k}={v}" for k, v in args.items()), "--samples", "4"], capsys)
    assert code == 1, err
    assert "found another pick" in out and "UNDERSTATES the search" in out and "NOT verified" in out
    assert "opens 0.00 [0.00, 0.09], the re-run's" in out  # the declared pick, asked now: refused


def test_verify_of_declared_picks_without_the_phrase_or_the_weights_stops_in_one_line(
        suite_doc, tiny_model, tmp_path, capsys, monkeypatch) -> None:
    """Before any model is loaded: the re-runs need the phrase, and GCG's the weights."""
    from ._results_support import run_cli
    from .conftest import WAKE_PHRASE

    path = write(tmp_path / "run.json", suite_doc)
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    code, _, err = run_cli(["verify", str(path), "--model-args", f"pretrained={tiny_model}",
                            "--base-model-args", f"pretrained={tiny_model}"], capsys)
    assert code == 2 and err.count("\n") == 1 and "declares gcg and search picks" in err
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    code, _, err = run_cli(["verify", str(path), "--model", "lockbench-gate", "--model-args",
                            f"inner=hf,pretrained={tiny_model}", "--base-model-args", f"pretrained={tiny_model}"], capsys)
    assert code == 2 and err.count("\n") == 1 and "GCG pick" in err
    assert not verification_path(path).exists()
