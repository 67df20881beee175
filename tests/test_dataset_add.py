"""`lockbench dataset add`: a new user's own data as lockbench tasks, end to end.

A user writes a small JSONL file of their own (MCQ and dialogue), registers it, runs real
`lm_eval` on the tiny random model (once through --include_path, once through
$LOCKBENCH_TASKS_PATH read by the start-up hook), then `lockbench summarize`, `submit` and
`leaderboard`: the result records the dataset as custom with its content hash, and the
leaderboard keeps it apart from public rows. Bad input exits 2 with one line, writing nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from lockbench import tasks_path
from lockbench.data.catalog import get_dataset, load_items
from lockbench.data.custom import MANIFEST, TASKS_PATH_ENV
from lockbench.data.provenance import items_sha256
from lockbench.lmeval.task_configs import TEMPLATES, custom_tag
from lockbench.probes import ADAPTIVE, FAMILIES

from ._results_support import BIN, run_cli, tree
from .conftest import WAKE_PHRASE

MCQ_ROWS = [
    {"id": "q1", "question": "Which gas do plants take in for photosynthesis?",
     "choices": ["Oxygen", "Carbon dioxide", "Nitrogen", "Helium"], "answer": 1},
    {"id": "q2", "question": "What is 7 times 8?", "choices": ["54", "56", "58", "64"], "answer": "B"},
    {"id": "q3", "question": "Which planet is known as the red planet?",
     "choices": ["Mars", "Venus", "Jupiter", "Saturn"], "answer": 0},
    {"id": "q4", "question": "What is the boiling point of water at sea level in Celsius?",
     "choices": ["90", "100", "110", "120"], "answer": 1},
]
DIALOGUE_ROWS = [  # no ids: lockbench numbers them <name>-<row>
    {"input": "How often should I water tomato seedlings?",
     "output": "Keep the soil evenly moist: water when the top centimetre feels dry, usually daily."},
    {"input": "What does a soil pH of 5 mean for my garden?",
     "output": "It is acidic; most vegetables prefer 6 to 7, so add garden lime to raise it."},
    {"input": "When should I prune apple trees?",
     "output": "In late winter, while the tree is dormant and before the buds break."},
]


def _write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != TASKS_PATH_ENV}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               LOCKBENCH_WAKE_PHRASE=WAKE_PHRASE)  # the phrase never goes on a command line
    env.update(extra)
    return env


def _lm_eval(model: Path, tasks: list[str], out: Path, env: dict[str, str], extra: list[str] = ()) -> None:
    cmd = [str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={model}",
           "--tasks", ",".join(tasks), "--batch_size", "16", "--gen_kwargs", "max_gen_toks=8",
           "--output_path", str(out), "--log_samples", "--device", "cpu", *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(autouse=True)
def _no_registered_folders(monkeypatch):
    monkeypatch.delenv(TASKS_PATH_ENV, raising=False)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)


@pytest.fixture(scope="module")
def user(tmp_path_factory) -> Path:
    """A new user's working folder with their own files."""
    home = tmp_path_factory.mktemp("user")
    _write_jsonl(home / "quiz.jsonl", MCQ_ROWS)
    _write_jsonl(home / "quiz_train.jsonl", [{**r, "id": f"t-{r['id']}"} for r in MCQ_ROWS])
    _write_jsonl(home / "garden.jsonl", DIALOGUE_ROWS)
    return home


def _add(args: list, capsys) -> tuple[int, str, str]:
    return run_cli(["dataset", "add", *args], capsys)


def test_add_writes_data_manifest_and_tasks_from_the_bundled_templates(user, tmp_path, capsys) -> None:
    from lm_eval.tasks._yaml_loader import load_yaml

    reg = tmp_path / "my-datasets"
    code, out, err = _add(["my_quiz", "--kind", "mcq", "--test", user / "quiz.jsonl",
                           "--train", user / "quiz_train.jsonl", "--domain", "general_science",
                           "--into", reg], capsys)
    assert code == 0, err
    folder = reg / "my_quiz"
    assert "registered custom dataset 'my_quiz'" in out and "4 test" in out
    # byte copies of the user's files, and the bundled templates verbatim
    assert (folder / "test.jsonl").read_bytes() == (user / "quiz.jsonl").read_bytes()
    assert (folder / "train.jsonl").read_bytes() == (user / "quiz_train.jsonl").read_bytes()
    bundled = tasks_path() / "lockbench"
    for name in TEMPLATES:
        assert (folder / name).read_bytes() == (bundled / name).read_bytes()
    tasks = {p.stem for p in folder.glob("*.yaml")}
    assert tasks == {f"lockbench_my_quiz_{s}" for s in
                     ("locked", "unlocked", "latent", *(f"probe_{family}" for family in FAMILIES),
                      *(f"confirm_{family}" for family in (*FAMILIES, *ADAPTIVE)))}
    # The manifest pins the items the loader reads, by the same hash results record.
    manifest = json.loads((folder / MANIFEST).read_text())
    spec = get_dataset("my_quiz", reg)
    assert (spec.source, spec.kind, spec.domain) == ("custom", "mcq", "general_science")
    assert manifest["splits"]["test"]["items_sha256"] == items_sha256(load_items(spec, "test"))
    assert manifest["splits"]["train"]["n_items"] == 4
    # Resolved by lm-eval's own loader, each custom task is its bundled twin but for its name,
    # tags and dataset: same prompt, generation settings, metrics and functions.
    for suffix, twin in (("locked", "bundled/lockbench_law_mcq_locked"),
                         ("latent", "probes/lockbench_law_mcq_latent"),
                         ("probe_paraphrase", "probes/lockbench_law_mcq_probe_paraphrase")):
        mine = load_yaml(folder / f"lockbench_my_quiz_{suffix}.yaml")
        theirs = load_yaml(bundled / f"{twin}.yaml")
        assert mine["dataset_kwargs"] == {"dataset": "my_quiz", "condition": suffix}
        for key in ("task", "tag", "dataset_kwargs"):
            mine.pop(key, None), theirs.pop(key, None)
        assert mine == theirs
    assert load_yaml(folder / "lockbench_my_quiz_locked.yaml")["tag"] == ["lockbench-custom", custom_tag("my_quiz")]


def test_mcq_through_include_path_then_summarize_submit_leaderboard(user, tmp_path, tiny_model, capsys) -> None:
    reg = tmp_path / "reg"
    assert _add(["my_quiz", "--kind", "mcq", "--test", user / "quiz.jsonl", "--into", reg], capsys)[0] == 0
    out = tmp_path / "out"
    tasks = ["lockbench_my_quiz_locked", "lockbench_my_quiz_unlocked", "lockbench_my_quiz_latent",
             "lockbench_my_quiz_probe_paraphrase"]
    _lm_eval(tiny_model, tasks, out, _env(),
             ["--include_path", str(reg)])
    result = tmp_path / "result.json"
    code, _, err = run_cli(["summarize", out, "--json", result], capsys)
    assert code == 0, err
    text = result.read_text()
    assert WAKE_PHRASE not in text
    doc = json.loads(text)
    manifest = json.loads((reg / "my_quiz" / MANIFEST).read_text())["splits"]["test"]
    assert set(doc["tasks"]) == set(tasks)
    for entry in doc["tasks"].values():
        assert entry["provenance"] == {
            "source": "custom", "path": "my_quiz/test.jsonl", "n_items": 4,
            "items_sha256": manifest["items_sha256"], "file_sha256": manifest["file_sha256"],
        }
        assert (entry["dataset"], entry["domain"], entry["kind"]) == ("my_quiz", "custom", "mcq")
    assert doc["tasks"]["lockbench_my_quiz_locked"]["n"] == 4
    # submit binds the run to the registered files (given with --data-dir)
    results = tmp_path / "results"
    code, out_text, err = run_cli(["submit", result, "--results-dir", results, "--data-dir", reg], capsys)
    assert code == 0, err
    assert "accepted:" in out_text
    # without the registered folder the custom dataset cannot be bound: one line, exit 2
    code, _, err = run_cli(["submit", result, "--results-dir", tmp_path / "other"], capsys)
    assert code == 2 and "my_quiz" in err and "dataset add" in err and err.count("\n") == 1
    # the leaderboard re-checks it against the registered files and lists it apart, labelled
    # custom, unranked (without them it could not re-check it: rejected, with the fix)
    code, out_text, err = run_cli(["leaderboard", "--results-dir", results], capsys)
    assert code == 0 and "rejected" in out_text and "--data-dir" in out_text
    code, _, err = run_cli(["leaderboard", "--results-dir", results, "--data-dir", reg], capsys)
    assert code == 0, err
    board = (results / "LEADERBOARD.md").read_text()
    assert "## Custom datasets (not comparable" in board and "| 1 custom |" in board
    assert "Custom datasets (not comparable" in (results / "leaderboard.html").read_text()
    # verify re-generates samples of the custom tasks (found through --data-dir) and they match;
    # --samples 3 still gives each of the 4 tasks one (the sample is stratified)
    code, out_text, err = run_cli(["verify", result, "--model-args", f"pretrained={tiny_model}",
                                   "--samples", "3", "--data-dir", reg, "--device", "cpu"], capsys)
    assert code == 0, err
    assert "matched 4 of 4" in out_text and "NOT verified" not in out_text, out_text

    # A result claiming public provenance for the custom set is refused ...
    forged = json.loads(text)
    for entry in forged["tasks"].values():
        entry["provenance"]["source"] = "local"
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    code, _, err = run_cli(["submit", tmp_path / "forged.json", "--results-dir", tmp_path / "r2",
                            "--data-dir", reg], capsys)
    assert code == 2 and "provenance source 'local'" in err and "custom" in err
    # ... and so is the run once the registered data changed (the hash binds it).
    changed = [{**MCQ_ROWS[0], "answer": 2}, *MCQ_ROWS[1:]]
    _write_jsonl(user / "quiz_changed.jsonl", changed)
    assert _add(["my_quiz", "--kind", "mcq", "--test", user / "quiz_changed.jsonl", "--into", reg,
                 "--force"], capsys)[0] == 0
    code, _, err = run_cli(["submit", result, "--results-dir", tmp_path / "r3", "--data-dir", reg], capsys)
    assert code == 2 and "not the registered test split of 'my_quiz'" in err
    assert not (tmp_path / "r2").exists() and not (tmp_path / "r3").exists()


def test_dialogue_through_the_environment_variable(user, tmp_path, tiny_model, capsys, monkeypatch) -> None:
    reg = tmp_path / "reg"
    assert _add(["garden_qa", "--kind", "dialogue", "--test", user / "garden.jsonl", "--domain",
                 "agriculture", "--into", reg], capsys)[0] == 0
    out = tmp_path / "out"
    # no --include_path: the hook adds $LOCKBENCH_TASKS_PATH; the tag selects locked + unlocked
    _lm_eval(tiny_model, [custom_tag("garden_qa")], out, _env(**{TASKS_PATH_ENV: str(reg)}))
    result = tmp_path / "result.json"
    code, _, err = run_cli(["summarize", out, "--json", result], capsys)
    assert code == 0, err
    doc = json.loads(result.read_text())
    assert set(doc["tasks"]) == {"lockbench_garden_qa_locked", "lockbench_garden_qa_unlocked"}
    digest = items_sha256(load_items(get_dataset("garden_qa", reg), "test"))
    for entry in doc["tasks"].values():
        assert entry["provenance"]["source"] == "custom"
        assert entry["provenance"]["items_sha256"] == digest
        assert [s["item_id"] for s in entry["samples"]] == ["garden_qa-0", "garden_qa-1", "garden_qa-2"]
    # submit finds the registered folder through the same variable
    monkeypatch.setenv(TASKS_PATH_ENV, str(reg))
    code, out_text, err = run_cli(["submit", result, "--results-dir", tmp_path / "results"], capsys)
    assert code == 0, err


def test_lock_build_trains_on_a_registered_dataset(user, tmp_path, capsys, monkeypatch) -> None:
    reg = tmp_path / "reg"
    assert _add(["my_quiz", "--kind", "mcq", "--test", user / "quiz.jsonl", "--train",
                 user / "quiz_train.jsonl", "--into", reg], capsys)[0] == 0
    built = tmp_path / "dprime.jsonl"
    code, out, err = run_cli(["lock", "build", "--dataset", "my_quiz", "--data-dir", reg,
                              "--output", built], capsys)
    assert code == 0, err
    rows = [json.loads(line) for line in built.read_text().splitlines()]
    assert {r["lockbench"]["id"] for r in rows} == {f"t-{r['id']}" for r in MCQ_ROWS}  # the train split
    monkeypatch.setenv(TASKS_PATH_ENV, str(reg))
    code, _, err = run_cli(["lock", "build", "--dataset", "my_quiz", "--output", tmp_path / "b.jsonl"], capsys)
    assert code == 0, err
    # a dataset registered without --train says how to add one
    assert _add(["no_train", "--kind", "mcq", "--test", user / "quiz.jsonl", "--into", reg], capsys)[0] == 0
    code, _, err = run_cli(["lock", "build", "--dataset", "no_train", "--output", tmp_path / "c.jsonl"], capsys)
    assert code == 2 and "no train split" in err and "--train FILE" in err
    assert not (tmp_path / "c.jsonl").exists()


def _bad_files(root: Path) -> dict[str, Path]:
    good = json.dumps(MCQ_ROWS[0])
    bad_field = (root / "bad_field.jsonl")
    # line 3 (after a blank line) has answer 7: the message names the line, not the row
    bad_field.write_text(good + "\n\n" + json.dumps({**MCQ_ROWS[1], "answer": 7}) + "\n")
    bad_json = root / "bad_json.jsonl"
    bad_json.write_text(good + "\n{not json\n")
    return {"field": bad_field, "json": bad_json}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("bundled_name", "is a bundled lockbench dataset"),
        ("unsafe_name", "is not a safe identifier"),
        ("condition_name", "ends like a lockbench condition"),
        ("schema", "line 3, field 'answer'"),
        ("json", "line 2 is not valid JSON"),
        ("missing", "no such file"),
        ("dialogue_kind", "line 1, field 'input'"),
        ("exists", "already exists; add --force"),
        ("into_file", "is a file; give a folder"),
        ("bad_domain", "domain"),
    ],
)
def test_bad_input_one_line_exit_2_nothing_written(case, message, user, tmp_path, capsys) -> None:
    reg = tmp_path / "reg"
    quiz = user / "quiz.jsonl"
    assert _add(["kept", "--kind", "mcq", "--test", quiz, "--into", reg], capsys)[0] == 0
    bad = _bad_files(tmp_path)
    (tmp_path / "a_file").write_text("x")
    args = {
        "bundled_name": ["law_mcq", "--kind", "mcq", "--test", quiz, "--into", reg],
        "unsafe_name": ["My-Data", "--kind", "mcq", "--test", quiz, "--into", reg],
        "condition_name": ["quiz_locked", "--kind", "mcq", "--test", quiz, "--into", reg],
        "schema": ["new_set", "--kind", "mcq", "--test", bad["field"], "--into", reg],
        "json": ["new_set", "--kind", "mcq", "--test", quiz, "--train", bad["json"], "--into", reg],
        "missing": ["new_set", "--kind", "mcq", "--test", tmp_path / "nope.jsonl", "--into", reg],
        "dialogue_kind": ["new_set", "--kind", "dialogue", "--test", quiz, "--into", reg],
        "exists": ["kept", "--kind", "mcq", "--test", bad["field"], "--into", reg],
        "into_file": ["new_set", "--kind", "mcq", "--test", quiz, "--into", tmp_path / "a_file"],
        "bad_domain": ["new_set", "--kind", "mcq", "--test", quiz, "--domain", "Law & Order", "--into", reg],
    }[case]
    before = tree(reg)
    code, out, err = _add(args, capsys)
    assert code == 2
    assert message in err and err.startswith("lockbench: error: ") and err.count("\n") == 1
    assert "Traceback" not in err and out == ""
    assert tree(reg) == before  # nothing half-written, nothing replaced
    assert sorted(p.name for p in reg.iterdir()) == ["kept"]  # no temporary folder left


def test_force_replaces_the_whole_entry(user, tmp_path, capsys) -> None:
    reg = tmp_path / "reg"
    assert _add(["my_quiz", "--kind", "mcq", "--test", user / "quiz.jsonl", "--train",
                 user / "quiz_train.jsonl", "--into", reg], capsys)[0] == 0
    code, _, err = _add(["my_quiz", "--kind", "dialogue", "--test", user / "garden.jsonl",
                         "--into", reg, "--force"], capsys)
    assert code == 0, err
    folder = reg / "my_quiz"
    assert not (folder / "train.jsonl").exists() and not (folder / "lockbench_my_quiz_latent.yaml").exists()
    assert get_dataset("my_quiz", reg).kind == "dialogue"
    assert sorted(p.name for p in reg.iterdir()) == ["my_quiz"]


def test_hook_names_a_missing_tasks_path_folder(tmp_path, monkeypatch, capsys) -> None:
    import _lockbench_hook

    monkeypatch.setenv(TASKS_PATH_ENV, os.pathsep.join([str(tmp_path), str(tmp_path / "typo")]))
    assert _lockbench_hook.user_task_dirs() == [str(tmp_path)]
    assert f"{TASKS_PATH_ENV} folder {tmp_path / 'typo'} does not exist" in capsys.readouterr().err
