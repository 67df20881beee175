"""`lockbench experiment wake-words` plumbing on the tiny random model: every step is real (D',
LoRA lock, lm-eval suite and probes, summarize); the experiment's findings come from the full run on
SmolLM2 (docs/experiments/wake-words.md), not from this test."""

from __future__ import annotations

import json

import pytest

from lockbench.cli import main
from lockbench.experiments.wake_words import PHRASE_CLASSES, START, run_name


def test_wake_words_on_the_tiny_model_writes_table_plot_results_and_reuses(tiny_model, tmp_path, capsys):
    work, doc = tmp_path / "ww", tmp_path / "doc" / "wake-words.md"
    doc.parent.mkdir()
    doc.write_text(f"# Method\n\nkept text\n\n{START}\nold\n<!-- wake-words results: end -->\n\ntail\n")
    argv = ["experiment", "wake-words", "--base", str(tiny_model), "--classes", "natural,random",
            "--seeds", "0", "--datasets", "agriculture_mcq,law_mcq", "--max-steps", "2", "--limit", "2",
            "--traversal-budget", "3", "--output", str(work), "--doc", str(doc)]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    assert "total: wall time of this invocation" in out and "paper's claim" in out
    assert "reused" not in out.split("time per step")[1]  # a first run reuses nothing

    comparison = json.loads((work / "comparison.json").read_text())
    assert set(comparison["runs"]) == {"natural-s0", "random-s0"}
    for run in comparison["runs"].values():
        assert run["traversal_walks"] == 1  # the suite walks the dictionary once per lock
        assert run["traversal_opened"] in (True, False)
        assert run["pr_lock"]["n"] == 4 and run["pr_base"]["n"] == 4  # 2 sets x --limit 2
        assert run["retention"] is None or "value" in run["retention"]
    # Only the natural and random classes ran: the claim needs the constructed one.
    assert comparison["claim"]["verdict"] == "not tested"
    assert comparison["settings"]["success_k"] == 3

    text = doc.read_text()
    assert text.startswith("# Method\n\nkept text") and text.rstrip().endswith("tail") and "\nold\n" not in text
    assert "| natural |" in text and "| random |" in text and "wake-words.svg" in text
    assert doc.with_suffix(".svg").read_text().lstrip().startswith("<?xml")
    for klass in ("natural", "random"):
        folder = work / "runs" / f"{klass}-s0"
        result = json.loads((folder / "lockbench-result.json").read_text())
        assert result["model"]["name"] == run_name(tiny_model, klass, 0)
        assert (folder / run_name(tiny_model, klass, 0)).is_symlink()

    # Each phrase is in its D' (secret-*) and nowhere else: not in lm-eval's outputs, the results,
    # the table, the plot or the console.
    for klass in ("random", "natural"):
        phrase = PHRASE_CLASSES[klass](0)
        leaks = [p for p in [*work.rglob("*"), *doc.parent.rglob("*")]
                 if p.is_file() and not p.is_symlink() and not p.name.startswith("secret-")
                 and phrase.encode() in p.read_bytes()]
        assert leaks == [], klass
        assert phrase in (work / "runs" / f"{klass}-s0" / "secret-dprime.jsonl").read_text()
        assert phrase not in out + err

    # A rerun reuses every finished step and gives the same figures.
    assert main(argv) == 0
    again, _ = capsys.readouterr()
    # base; per run: lock, locked/unlocked tasks, and each family's screening and confirmation
    # (the search and GCG: their declared run and its confirmation)
    assert again.count("reusing") == 1 + 2 * (2 + 2 * 7)
    rerun = json.loads((work / "comparison.json").read_text())
    assert rerun["runs"] == comparison["runs"]
    # The rerun's wall time is not the experiment's: the doc and the console say what was reused.
    assert sum(step["reused"] for step in rerun["steps"]) == 7 and len(rerun["steps"]) == 7
    assert "7 of 7 steps reused from earlier invocations" in doc.read_text()
    assert "7 of 7 steps reused" in again


@pytest.mark.parametrize("flag, value, words", [
    ("--classes", "natural,klingon", "unknown class 'klingon'"),
    ("--classes", "natural,natural", "names a class twice"),
    ("--seeds", "0,x", "not a comma list of whole numbers"),
    ("--seeds", "-1", "not a comma list of whole numbers"),
    ("--seeds", "1,1", "repeats a seed"),
    ("--datasets", "agriculture_dialogue", "not a bundled MCQ set"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, flag, value, words):
    work = tmp_path / "ww"
    code = main(["experiment", "wake-words", "--output", str(work), flag, value])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not work.exists()  # nothing written before the input is checked


def test_bad_numbers_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["experiment", "wake-words", "--traversal-budget", "0"])
    assert exc.value.code == 2
    assert "--traversal-budget" in capsys.readouterr().err


def test_finetune_attack_per_lock_lands_in_the_result_and_table(tiny_model, tmp_path, capsys):
    work = tmp_path / "ww"
    code = main(["experiment", "wake-words", "--base", str(tiny_model), "--classes", "constructed",
                 "--seeds", "1", "--datasets", "economics_mcq", "--max-steps", "1", "--limit", "2",
                 "--traversal-budget", "2", "--finetune-k", "0,2", "--finetune-steps", "1",
                 "--output", str(work)])
    out, err = capsys.readouterr()
    assert code == 0, err[-2000:]
    result = json.loads((work / "runs" / "constructed-s1" / "lockbench-result.json").read_text())
    block = result["attacks"]["finetune"]
    assert [r["k"] for r in block["runs"]] == [0, 2] and block["settings"]["steps"] == 1
    # k=0 is the suite the experiment already ran on this lock, not a second evaluation of it.
    suite = {name: e for name, e in result["tasks"].items() if e["condition"] in ("locked", "unlocked")}
    assert block["runs"][0]["tasks"] == suite and len(suite) == 2
    assert not (work / "runs" / "constructed-s1" / "attack-finetune" / "eval-reference").exists()
    assert (work / "runs" / "constructed-s1" / "attack-finetune" / "eval-attack-k2").is_dir()
    figures = json.loads((work / "comparison.json").read_text())["runs"]["constructed-s1"]["finetune"]
    assert set(figures["pr_lock_by_k"]) == {"0", "2"}
    cell = figures["examples_to_unlock"]
    row = next(line for line in (work / "wake-words.md").read_text().splitlines() if line.startswith("| constructed |"))
    assert row.rstrip(" |").endswith(str(cell) if cell is not None else ">2")


def test_a_finetune_k_list_that_is_not_whole_numbers_is_refused(tmp_path, capsys):
    code = main(["experiment", "wake-words", "--output", str(tmp_path / "ww"), "--finetune-k", "8,x"])
    err = capsys.readouterr().err
    assert code == 2 and "--k '8,x'" in err and not (tmp_path / "ww").exists()


@pytest.mark.parametrize("natural, constructed, q_nat, q_con, verdict", [
    ((19, 20), (2, 20), 3.0, 90.0, "holds"),
    ((2, 20), (19, 20), 90.0, 3.0, "contradicted"),
    ((2, 4), (1, 4), 50.0, 80.0, "not shown (right direction"),
    ((1, 4), (2, 4), 80.0, 50.0, "not shown (wrong direction"),
    ((4, 4), (4, 4), 1.0, 1.0, "not shown (no difference)"),
    # Two locks a class, as the default run: one of two against two of two is not evidence.
    ((1, 2), (2, 2), 51.0, 2.0, "not shown (wrong direction"),
])
def test_the_verdict_on_the_claim_is_computed_from_the_counts(natural, constructed, q_nat, q_con, verdict):
    from lockbench.experiments.wake_words import claim
    from lockbench.stats import rate

    # Per set the counts are 4x the locks' (all sets of a lock open together): the verdict must
    # not count them as independent trials.
    classes = {name: {"traversal_locks_opened": rate(*locks), "mean_queries_to_first_open": q}
               for name, locks, q in (("natural", natural, q_nat), ("constructed", constructed, q_con))}
    found = claim(classes, 100)
    assert found["verdict"].startswith(verdict)
    assert found["text"].startswith(found["verdict"]) and "within 100 queries" in found["text"]
    assert f"{natural[0]} of {natural[1]} natural locks" in found["text"]
    assert claim({"natural": classes["natural"]}, 100)["verdict"] == "not tested"
