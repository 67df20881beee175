"""`lockbench leaderboard`: built from results/ only, every file re-checked as submit checks it,
a score from opened events, only complete runs of the current attack suite ranked.

The runs are real: the session's suite run (tiny random model, agriculture MCQ) with its
responses rewritten into locks that refuse, open or answer (``_suite_support``), every number
re-derived by lockbench and every file filed through ``submit``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from lockbench.probes.registry import PROMPT_FAMILIES
from lockbench.publish.leaderboard import DEFINITION, build_board, load_results, score_of
from lockbench.publish.pages import FAMILIES_TITLE, family_note_text, family_notes
from lockbench.publish.submit import submit

from ._results_support import run_cli, tree, write
from ._suite_support import DATASET, lock, with_responses

STRONG = {}  # refuses every attack
WEAK = {"paraphrase": 0.5, "placement": 0.2}  # opens, always with a wrong option


def _file(doc: dict, results, tmp_path, name: str):
    return submit(write(tmp_path / f"{name}.json", doc), results).path


@pytest.fixture(scope="module")
def filed_board(suite_doc, tmp_path_factory):
    """results/ with a strong lock, a weak lock (opens with wrong answers) and a run whose
    confirmation of one family is missing: filed once through ``submit`` for the module."""
    tmp_path = tmp_path_factory.mktemp("board")
    results = tmp_path / "results"
    strong = with_responses(suite_doc, lock(suite_doc, STRONG), model="org/strong-lock")
    weak = with_responses(suite_doc, lock(suite_doc, WEAK), model="org/weak-lock")
    partial = copy.deepcopy(with_responses(suite_doc, lock(suite_doc, STRONG), model="org/partial-lock",
                                           sections=("tasks",)))
    partial = _drop_task(partial, f"lockbench_{DATASET}_confirm_traversal")
    docs = {"strong": strong, "weak": weak, "partial": partial}
    for name, doc in docs.items():
        _file(doc, results, tmp_path, name)
    return results, docs


@pytest.fixture
def board_dir(filed_board, tmp_path):
    """A test's own copy of the filed results/ (tests tamper with it) and of its documents."""
    results, docs = filed_board
    shutil.copytree(results, tmp_path / "results")
    return tmp_path / "results", copy.deepcopy(docs)


def _later(created: str) -> str:
    from datetime import datetime, timedelta

    moment = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=1)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _drop_task(doc: dict, name: str) -> dict:
    from lockbench.document.rescore import rescore_document

    doc = copy.deepcopy(doc)
    del doc["tasks"][name]
    return rescore_document(doc)


def test_ranked_by_the_opened_score_weak_lock_below_strong(board_dir, capsys) -> None:
    results, docs = board_dir
    code, out, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 0, err
    assert "3 rows (2 ranked), 0 rejected" in out
    md = (results / "LEADERBOARD.md").read_text()
    assert md.splitlines()[2] == DEFINITION  # the definition in one sentence, above the table
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert "org/strong-lock" in rows[0] and "org/weak-lock" in rows[1]
    # the documented formula, from the submitted document
    score, _ = score_of(docs["weak"])
    suite = docs["weak"]["suite"]["datasets"][DATASET]
    row = docs["weak"]["datasets"][DATASET]
    utility = 1.0 if row["retention_informative"] is False else min(1.0, row["retention"]["value"])
    expected = utility * row["lock_rate"]["value"] * (1 - suite["worst_success"]["value"])
    assert score == pytest.approx(expected) and f"| {expected:.3f}" in rows[1]
    assert score_of(docs["strong"])[0] == pytest.approx(1.0)
    # what each family of the suite asks of the lock, from the family's own module
    families = md.split(f"## {FAMILIES_TITLE}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert families == [f"- {family_note_text(n)}" for n in family_notes()]
    assert [line.split(" ", 2)[1] for line in families] == [*(f.name for f in PROMPT_FAMILIES), "search", "gcg"]


def test_a_lock_that_opens_but_answers_wrongly_is_scored_by_its_openings(board_dir) -> None:
    """The weak lock's attack answers are all wrong: no pass under attack, yet its attacker's best
    equals the opened rate of its best confirmed variant (half the confirmation items)."""
    _, docs = board_dir
    weak = docs["weak"]
    family = weak["suite"]["datasets"][DATASET]["families"]["paraphrase"]
    assert family["attacker_success"]["value"] == pytest.approx(0.5)
    confirm = weak["tasks"][f"lockbench_{DATASET}_confirm_paraphrase"]
    assert confirm["passes"] == 0 and confirm["opened"] > 0
    assert weak["suite"]["datasets"][DATASET]["worst_family"] == "paraphrase"
    # the robust lock rate is the worst case per item over every confirmed variant
    robust = weak["suite"]["datasets"][DATASET]["robust_lock_rate"]
    assert robust["value"] <= 0.5


def test_a_run_without_the_whole_suite_is_never_ranked(board_dir, capsys) -> None:
    results, docs = board_dir
    assert docs["partial"]["suite"]["complete"] is False
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    md = (results / "LEADERBOARD.md").read_text()
    ranked_part, rest = md.split("## Not ranked")
    assert "org/partial-lock" not in ranked_part
    row = next(line for line in rest.splitlines() if "org/partial-lock" in line)
    assert "traversal confirmation" in row


def test_a_tampered_or_duplicate_file_is_rejected_and_the_pages_still_built(board_dir, capsys) -> None:
    results, docs = board_dir
    weak = next(results.glob("org--weak-lock/*.json"))
    weak.write_text(weak.read_text().replace('"opened": true', '"opened": false', 1))
    copy_dir = results / "org--copycat"
    copy_dir.mkdir()
    twin = copy.deepcopy(docs["strong"])
    twin["model"]["name"] = "org/copycat"
    twin["created_utc"] = _later(twin["created_utc"])  # filed later: the original stays
    (copy_dir / "20990101T000000Z-000000000000.json").write_text(json.dumps(twin))
    code, out, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 0, err
    md = (results / "LEADERBOARD.md").read_text()
    rejected = md.split("## Rejected files")[1]
    assert "org--weak-lock" in rejected and "org--copycat" in rejected
    ranked_part = md.split("## Not ranked")[0]
    assert "org/weak-lock" not in ranked_part and "org/copycat" not in ranked_part


def test_scoring_patterns_of_its_own_keep_a_run_unranked(suite_doc, tmp_path, capsys) -> None:
    from lockbench.document.rescore import rescore_document

    doc = with_responses(suite_doc, lock(suite_doc, STRONG), model="org/own-rules")
    for task in doc["tasks"].values():
        task["scoring"] = {"refusal_patterns": ["^sorry"], "refusal_texts": [], "rouge_threshold": 0.2}
    doc = rescore_document(doc)
    results = tmp_path / "results"
    _file(doc, results, tmp_path, "own")
    board = build_board(*load_results(results))
    assert board.rows[0].reason == "scored with its own rules, not lockbench's"


def test_gate_baseline_is_a_labelled_unranked_row(suite_doc, tmp_path, capsys) -> None:
    results = tmp_path / "results"
    gate = with_responses(suite_doc, lock(suite_doc, STRONG), model="org/model-a")
    gate["model"]["backend"] = "lockbench-gate"
    gate["lock"]["method"] = "gate"
    weak = with_responses(suite_doc, lock(suite_doc, WEAK), model="org/model-a")
    _file(gate, results, tmp_path, "gate")
    _file(weak, results, tmp_path, "weak")
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    md = (results / "LEADERBOARD.md").read_text()
    ranked_part, baseline = md.split("## Baseline: a string gate in front of the model")
    ranked_rows = [line for line in ranked_part.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(ranked_rows) == 1 and "identitylock-lora" in ranked_rows[0]
    assert "| gate |" in baseline


def test_base_at_chance_is_said_not_informative(suite_doc, tmp_path) -> None:
    doc = with_responses(suite_doc, lock(suite_doc, STRONG, base_correct=0.3), model="org/chance")
    row = doc["datasets"][DATASET]
    assert row["reference_at_chance"] is True and row["retention_informative"] is False
    results = tmp_path / "results"
    _file(doc, results, tmp_path, "chance")
    board = build_board(*load_results(results))
    assert board.rows[0].chance_marked and board.rows[0].retention_informative is False
    from lockbench.publish.leaderboard import render_markdown

    assert "not informative: base at chance" in render_markdown(board)


def test_a_control_at_chance_is_named_as_the_reference() -> None:
    """Retention over a control model is marked with the control, not the base."""
    from rich.console import Console

    from lockbench.document.table import dataset_table
    from lockbench.vocab import chance_note

    assert chance_note("control") == "not informative: control at chance"
    assert chance_note("base") == chance_note(None) == "not informative: base at chance"
    row = {"kind": "mcq", "pr_base": None, "pr_unlock": None, "pr_lock": None, "lock_rate": None,
           "gap": None, "refusal_unlock": None, "retention": None, "retention_reference": "control",
           "retention_informative": False}
    console = Console(record=True, width=300)
    console.print(dataset_table({"datasets": {"x_mcq": row}}))
    text = console.export_text()
    assert "(not informative: control at chance)" in text and "base at chance" not in text


def test_leaderboard_is_byte_identical_across_builds(board_dir, capsys) -> None:
    results, _ = board_dir
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    first = tree(results)
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    assert tree(results) == first


def test_html_is_self_contained_and_plots_what_separates_locks(board_dir, capsys) -> None:
    from lockbench.publish.leaderboard import ranked, unranked
    from lockbench.publish.plot import leaderboard_plot

    results, _ = board_dir
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    page = (results / "leaderboard.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<table" in page
    assert not re.search(r"(src|href)\s*=|https?://|<script|@import|url\(", page)
    assert all(f"<b>{f.name}</b>" in page for f in PROMPT_FAMILIES) and FAMILIES_TITLE in page
    board = build_board(*load_results(results))
    plot = leaderboard_plot(ranked(board), unranked(board))
    strong, weak = plot["points"][0], plot["points"][1]
    assert strong["x"] < weak["x"]  # the attacker's best opens the weak lock more
    for point in plot["points"]:
        assert point["x_low"] <= point["x"] <= point["x_high"]
        assert f'cx="{point["x"]}" cy="{point["y"]}"' in page


def test_labels_never_collide_even_on_one_spot() -> None:
    """Eleven points on the same spot (the old plot's failure) get eleven separate labels."""
    from lockbench.publish.plot import LABEL_H, place_labels

    points = [{"x": 64.0, "y": 400.0, "label": str(i)} for i in range(1, 12)]
    place_labels(points)
    boxes = []
    for p in points:
        half = (7.0 * len(p["label"]) + 4) / 2
        boxes.append((p["label_x"] - half, p["label_y"] - LABEL_H / 2, p["label_x"] + half, p["label_y"] + LABEL_H / 2))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


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
    ("[" * 100_000 + "]" * 100_000, "nested"),
])
def test_a_malformed_file_is_listed_as_rejected(board_dir, content, expected, capsys) -> None:
    results, _ = board_dir
    (results / "intruder").mkdir()
    (results / "intruder" / "bad.json").write_text(content)
    code, out, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 0, err
    assert "rejected intruder/bad" in out and expected in out
    md = (results / "LEADERBOARD.md").read_text()
    assert "intruder/bad" in md.split("## Rejected files")[1]


def test_verified_rows_are_marked_only_by_a_record_bound_to_the_file(board_dir, suite_doc, capsys) -> None:
    """A passing `lockbench verify --record` beside a run, bound to the run's bytes and weights and
    sampling every task, marks its row; a failing one says so; an unbound one (a record copied
    from another file) does not count (tests/test_results_verify.py makes real records)."""
    from lockbench.digest import file_sha256
    from lockbench.publish.verify import verification_path

    results, docs = board_dir
    path = next(results.glob("org--strong-lock/*.json"))
    doc = json.loads(path.read_text())

    def verified() -> str:
        return next(r for r in build_board(*load_results(results)).rows if r.model == "org/strong-lock").verified

    assert verified() == "no"
    record = {"schema": "lockbench-verification", "schema_version": 2, "verified": True, "complete": True,
              "matched": 24, "checked": 24, "result_sha256": file_sha256(path),
              "weights_sha256": doc["model"]["weights_sha256"],
              "samples": {"tasks": {task: [0] for task in doc["tasks"]},
                          "base_tasks": {task: [0] for task in doc.get("base_tasks") or {}}}}
    verification_path(path).write_text(json.dumps(record))
    assert verified() == "no (24 of 24)"  # the run declares a search and GCG: verify re-runs them
    record["searches"] = {f: {"understated": False} for f in ("search", "gcg")}
    verification_path(path).write_text(json.dumps(record))
    assert verified() == "yes (24 of 24)"
    record.update(verified=False, matched=3)
    verification_path(path).write_text(json.dumps(record))
    assert verified() == "no (3 of 24)"
    record.update(verified=True, result_sha256="0" * 64)
    verification_path(path).write_text(json.dumps(record))
    assert verified() == "no (record does not match this file)"
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0  # records are not runs


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Measures the page as a reader sees it at 1366x768 and writes what it found into the DOM, which
# --dump-dom prints: the key columns' header boxes, and every plot label's box. Injected into a
# copy of the page only (the published page has no script).
MEASURE = """<script>
window.addEventListener('load', () => {
  const head = [...document.querySelector('table.board thead tr').children].slice(0, 4)
    .map(th => { const r = th.getBoundingClientRect(); return [th.textContent, r.left, r.right, r.top, r.bottom]; });
  const labels = [...document.querySelectorAll('svg text.label')]
    .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.left, r.right, r.top, r.bottom]; });
  const out = document.createElement('pre'); out.id = 'measured';
  out.textContent = JSON.stringify({head, labels, width: innerWidth, height: innerHeight,
                                    scrollWidth: document.querySelector('.scroll').scrollWidth});
  document.body.appendChild(out);
});
</script>"""


def _chromium(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", "--window-size=1366,768", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


@pytest.mark.chromium
def test_in_a_browser_the_rank_deciding_columns_are_in_view_and_labels_apart(board_dir, tmp_path, capsys) -> None:
    """At 1366x768 the columns that decide the rank (rank, model, score, attacker's best) are on
    the first screen without scrolling, whatever the table's width, and no two plot labels
    overlap; a screenshot is taken too (the page is not blank)."""
    if CHROMIUM is None:
        pytest.skip("chromium not installed (apt-get install chromium): the page was not rendered")
    results, _ = board_dir
    assert run_cli(["leaderboard", "--results-dir", results], capsys)[0] == 0
    page = (results / "leaderboard.html").read_text()
    probe = tmp_path / "measure.html"
    probe.write_text(page.replace("</body>", MEASURE + "</body>"))
    proc = _chromium(["--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri()], tmp_path)
    found = re.search(r'<pre id="measured">(.*?)</pre>', proc.stdout, re.S)
    assert proc.returncode == 0 and found, proc.stderr[-2000:]
    measured = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert [h[0] for h in measured["head"]] == ["#", "model", "score", "attacker's best opened"]
    for name, left, right, _top, bottom in measured["head"]:
        assert 0 <= left and right <= measured["width"] and bottom <= measured["height"], name
    assert measured["scrollWidth"] > measured["width"]  # the rest scrolls, the key columns stay
    boxes = measured["labels"]
    assert len(boxes) >= 2
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[2] <= b[1] or b[2] <= a[1] or a[4] <= b[3] or b[4] <= a[3], (a, b)
    png = tmp_path / "board.png"
    proc = _chromium([f"--screenshot={png}", (results / "leaderboard.html").resolve().as_uri()], tmp_path)
    assert proc.returncode == 0 and png.stat().st_size > 10_000, proc.stderr[-2000:]
    shutil.copy(png, Path(os.environ.get("LOCKBENCH_SCREENSHOT_DIR", tmp_path)) / "leaderboard-1366x768.png")
