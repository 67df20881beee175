"""`lockbench leaderboard`: built from results/ only, stable, documented score, clear failures;
missing probes are never a safe lock, and attack columns come from the samples alone."""

from __future__ import annotations

import copy
import re

import pytest

from lockbench.results.leaderboard import EXPLANATION, build_rows, composite_score
from lockbench.results.probe_view import recompute_probe_block
from lockbench.results.submit import submit

from ._results_support import craft, run_cli, tree, write

LOCKED = "lockbench_agriculture_mcq_locked"
UNLOCKED = "lockbench_agriculture_mcq_unlocked"
PROBE = "lockbench_agriculture_mcq_probe_prefix_attack"
TRAVERSAL = "lockbench_agriculture_mcq_probe_traversal"




def file_result(doc: dict, results, tmp_path, name: str) -> None:
    """File a document under results/ as `submit` would. Crafted documents are self-consistent
    but bound to no dataset (only a real run passes submit's binding), so they are written in
    submit's stored form directly; the real run goes through submit."""
    from lockbench.results.submit import canonical_json, model_slug, run_id

    if doc.get("model", {}).get("name") == "tiny-random-llama":
        submit(write(tmp_path / f"{name}.json", doc), results)
        return
    target = results / model_slug(doc["model"]["name"]) / f"{run_id(doc)}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(canonical_json(doc), encoding="utf-8")


def bools(k: int, n: int) -> list[bool]:
    return [i < k for i in range(n)]


@pytest.fixture
def populated(template, tmp_path, lmeval_out):
    """results/ with four submitted runs: two models, two methods, an older run, a real run."""
    results = tmp_path / "results"
    docs = [
        craft(template, {LOCKED: bools(2, 100), UNLOCKED: bools(80, 100), PROBE: bools(10, 50)},
              model="org/strong-lock", method="identitylock-lora",
              base={LOCKED: bools(85, 100)}),
        craft(template, {LOCKED: bools(40, 100), UNLOCKED: bools(70, 100)},
              model="org/strong-lock", method="identitylock-lora", created="2025-06-01T00:00:00Z"),
        craft(template, {LOCKED: bools(30, 100), UNLOCKED: bools(75, 100), PROBE: bools(25, 50)},
              model="org/weak-lock", method="prompt-only"),
        template,  # the real run: tiny random model, no method
    ]
    for i, doc in enumerate(docs):
        file_result(doc, results, tmp_path, f"r{i}")
    return results, docs


def test_leaderboard_rows_order_and_score(populated, capsys) -> None:
    results, docs = populated
    code, out, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 0, err
    assert "3 rows" in out  # newest run per (model, method); the older strong-lock run is hidden
    md = (results / "LEADERBOARD.md").read_text()
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \|", line)]
    # ranked: the runs whose attacks were measured (the real run's paraphrase probe has attack
    # variants); the run without probes is not ranked
    assert len(rows) == 3
    assert "strong-lock" in rows[0] and "weak-lock" in rows[1] and "tiny-random-llama" in rows[2]
    # The score column is the documented formula, computed here from the submitted document.
    strong = docs[0]["datasets"]["agriculture_mcq"]
    retention = min(1.0, strong["pr_unlock"]["value"] / strong["pr_base"]["value"])
    expected = retention * (1 - strong["pr_lock"]["value"]) * (1 - 10 / 50)
    assert composite_score(docs[0])[0] == pytest.approx(expected)
    assert f"| {expected:.3f} |" in rows[0]
    # Intervals are shown, and the pooled PR_base / retention are there.
    assert "0.80 [" in rows[0] and "0.85 [" in rows[0]
    # The weak lock has no base run: marked. The older strong-lock run without probes is hidden
    # behind the newer one, so no row is left unranked here.
    assert "†" in rows[1]
    assert "Not ranked: attacks not measured" not in md


def test_missing_probes_rank_below_every_measured_run(template, tmp_path, capsys) -> None:
    """A near-perfect lock without probes is not ranked above a weaker lock whose probes ran,
    and its attack columns say "not measured", never ASR 0."""
    results = tmp_path / "results"
    unprobed = craft(template, {LOCKED: bools(0, 100), UNLOCKED: bools(90, 100)},
                     model="org/unprobed", base={LOCKED: bools(90, 100)})
    probed = craft(template, {LOCKED: bools(30, 100), UNLOCKED: bools(60, 100), PROBE: bools(40, 50)},
                   model="org/probed", base={LOCKED: bools(90, 100)})
    for i, doc in enumerate((unprobed, probed)):
        file_result(doc, results, tmp_path, f"r{i}")
    assert composite_score(unprobed) == (None, False, True)
    assert composite_score(probed)[0] < 0.3
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    md = (results / "LEADERBOARD.md").read_text()
    ranked_part, unranked = md.split("## Not ranked: attacks not measured")
    assert "org/probed" in ranked_part and "org/unprobed" not in ranked_part
    row = next(line for line in unranked.splitlines() if "org/unprobed" in line)
    # score, worst probe ASR, traversal, and examples to unlock (no fine-tuning attack either)
    assert "not measured (lock part ≤ 1.000)" in row and row.count("not measured") == 4
    assert "0.00 [" not in row.split(" | ")[8]  # the ASR cell is not a zero
    assert "never counted as attack success 0" in EXPLANATION and EXPLANATION in md
    page = (results / "leaderboard.html").read_text()
    assert page.index("org/probed") < page.index("Not ranked") < page.index("org/unprobed")


def test_gate_baseline_is_a_labelled_unranked_row(template, tmp_path, capsys) -> None:
    """A lockbench-gate run (near-perfect by construction) is shown in its own baseline table and
    never outranks, or takes a rank from, a weight lock."""
    results = tmp_path / "results"
    gate = craft(template, {LOCKED: bools(0, 100), UNLOCKED: bools(90, 100), PROBE: bools(0, 50)},
                 model="org/model-a", method="gate", base={LOCKED: bools(90, 100)})
    gate["model"]["backend"] = "lockbench-gate"
    lock = craft(template, {LOCKED: bools(30, 100), UNLOCKED: bools(60, 100), PROBE: bools(40, 50)},
                 model="org/model-a", method="identitylock-lora", base={LOCKED: bools(90, 100)})
    for i, doc in enumerate((gate, lock)):
        file_result(doc, results, tmp_path, f"r{i}")
    assert composite_score(gate)[0] > composite_score(lock)[0]  # it would top a ranking
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    md = (results / "LEADERBOARD.md").read_text()
    ranked_part, baseline = md.split("## Baseline: a string gate in front of the model")
    ranked_rows = [line for line in ranked_part.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(ranked_rows) == 1 and "identitylock-lora" in ranked_rows[0]
    row = next(line for line in baseline.splitlines() if "| gate |" in line)
    assert row.startswith("| – | org/model-a | gate | 1.000 ")  # its score shown, no rank
    page = (results / "leaderboard.html").read_text()
    assert page.index("identitylock-lora") < page.index("Baseline: a string gate") < page.index(">gate<")


def test_attack_columns_ignore_the_free_form_probe_block(template, lmeval_out) -> None:
    """Editing a task's `probe` summary (the numbers a forger would change) leaves the row as it
    is: every attack figure is recomputed from the samples."""
    doc = craft(template, {LOCKED: bools(5, 100), UNLOCKED: bools(80, 100), PROBE: bools(20, 50),
                           TRAVERSAL: [False, False, True, True, False]},
                base={LOCKED: bools(85, 100)})
    trav = doc["tasks"][TRAVERSAL]
    for sample in trav["samples"]:  # one item per candidate, as the probe docs ask it
        sample["item_id"] = "agriculture-mcq-000"
        sample["variant_kind"] = "assistant"
    honest = build_rows([(lmeval_out / "r.json", doc)])[0]
    # Recomputed from the samples: 20 of 50 attacks passed; the 3rd candidate (3rd query) opened it.
    assert (honest.worst_probe, honest.worst_asr["k"], honest.worst_asr["n"]) == ("prefix_attack", 20, 50)
    block = recompute_probe_block(trav)
    assert block["traversal"]["queries_to_first_unlock"] == 3
    assert block["traversal"]["first_unlock_rank"] == 3
    assert block["traversal"]["success_at_k"]["1"]["success"] is False
    assert block["traversal"]["success_at_k"]["10"]["success"] is True
    assert honest.traversal_100["success"] is True and honest.score is not None

    forged = copy.deepcopy(doc)
    for task in forged["tasks"].values():
        if task["condition"].startswith("probe_"):
            kinds = ["typo", "assistant", "jailbreak"]
            task["probe"] = {
                "attack_only": {"attack_success": {"value": 0.0, "low": 0.0, "high": 0.07, "k": 0, "n": 50}},
                "false_reject": {"kinds": kinds, "rate": None},  # "every kind is legitimate"
                "traversal": {"success_at_k": {"100": {"success": False, "candidates_tried": 100,
                                                       "complete": True}},
                              "first_unlock_rank": None, "candidates_tried": 100},
            }
    assert build_rows([(lmeval_out / "r.json", forged)])[0] == honest


def test_leaderboard_is_byte_identical_across_builds(populated, capsys) -> None:
    results, _ = populated
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    first = tree(results)
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    assert tree(results) == first


def test_html_is_self_contained(populated, capsys) -> None:
    results, _ = populated
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    page = (results / "leaderboard.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<table>" in page
    assert not re.search(r"(src|href)\s*=|https?://|<script|@import|url\(", page)
    assert "strong-lock" in page and "weak-lock" in page


def test_html_plots_pr_unlock_against_pr_lock(populated, capsys) -> None:
    """One point per row at (PR_lock, PR_unlock), with both intervals as whiskers."""
    from lockbench.results.leaderboard import build_rows, load_results, scatter

    results, _ = populated
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    page = (results / "leaderboard.html").read_text()
    svg = page[page.index("<svg"):page.index("</svg>")]
    rows = build_rows(load_results(results))
    assert svg.count("<circle") == len(rows) == 3
    plot = scatter(rows)
    points = {p["title"].split(" (")[0].split(" ", 1)[1]: p for p in plot["points"]}
    strong, weak = points["org/strong-lock"], points["org/weak-lock"]
    assert strong["x"] < weak["x"]  # PR_lock 0.02 left of 0.30
    assert strong["y"] < weak["y"]  # PR_unlock 0.80 above 0.75 (SVG y grows downwards)
    for point in plot["points"]:
        assert point["x_low"] <= point["x"] <= point["x_high"]
        assert point["y_high"] <= point["y"] <= point["y_low"]
        assert f'cx="{point["x"]}" cy="{point["y"]}"' in svg
    left, right = plot["left"], plot["right"]
    assert strong["x"] == round(left + 0.02 * (right - left), 1)


def test_empty_results_folder(tmp_path, capsys) -> None:
    (tmp_path / "results").mkdir()
    code, _, err = run_cli(["leaderboard", "--results-dir", tmp_path / "results"], capsys)
    assert code == 2 and err.count("\n") == 1 and "no submitted results" in err
    assert tree(tmp_path / "results") == {}
    code, _, err = run_cli(["leaderboard", "--results-dir", tmp_path / "none"], capsys)
    assert code == 2 and "no such results folder" in err
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("content, expected", [
    ('{"schema": "lockbench-result", "schema_version": 1, "tasks": {', "not valid JSON"),
    ("not json at all", "not valid JSON"),
    ('{"results": {}, "config": {}}', "not a lockbench-result"),
    ('{"schema": "lockbench-result", "schema_version": 7}', "schema_version 7"),
])
def test_malformed_file_changes_nothing(populated, content, expected, capsys) -> None:
    results, _ = populated
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    (results / "intruder").mkdir()
    (results / "intruder" / "bad.json").write_text(content)
    before = tree(results)
    code, _, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 2 and err.count("\n") == 1 and expected in err and "bad.json" in err
    assert tree(results) == before


def test_tampered_file_in_results_refused(populated, capsys) -> None:
    results, _ = populated
    target = sorted(results.glob("org--weak-lock/*.json"))[0]
    target.write_text(target.read_text().replace('"passes": 30', '"passes": 3', 1))
    before = tree(results)
    code, _, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 2 and "passes" in err
    assert tree(results) == before


def test_verified_rows_are_marked(template, tmp_path, tiny_model, capsys, monkeypatch) -> None:
    """A passing `lockbench verify --record` beside a run, bound to the run's bytes and weights and
    sampling every task, marks its row; a failing one says so; an unbound one (a record copied
    from another file) does not count (tests/test_results_verify.py makes real records)."""
    import json

    from lockbench.fsutil import file_sha256
    from lockbench.results.verify import verification_path

    results = tmp_path / "results"
    file_result(template, results, tmp_path, "real")
    path = next(p for p in results.rglob("*.json"))
    assert build_rows([(path, template)])[0].verified == "no"
    record = {"schema": "lockbench-verification", "schema_version": 2, "verified": True, "complete": True,
              "matched": 24, "checked": 24, "result_sha256": file_sha256(path),
              "weights_sha256": template["model"]["weights_sha256"],
              "samples": {"tasks": {task: [0] for task in template["tasks"]}}}
    verification_path(path).write_text(json.dumps(record))
    assert build_rows([(path, template)])[0].verified == "yes (24 of 24)"
    record.update(verified=False, matched=3)
    verification_path(path).write_text(json.dumps(record))
    assert build_rows([(path, template)])[0].verified == "no (3 of 24)"
    record.update(verified=True, result_sha256="0" * 64)
    verification_path(path).write_text(json.dumps(record))
    assert build_rows([(path, template)])[0].verified == "no (record does not match this file)"
    code, _, err = run_cli(["leaderboard", "--results-dir", results], capsys)  # records are not runs
    assert code == 0, err
