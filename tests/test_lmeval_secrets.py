"""The wake phrase through real ``lm_eval`` runs: never on a command line, never in what lm-eval
writes or logs, no hash computed over phrase-bearing text; ``lockbench redact`` for folders
written without lockbench; names never rewritten ("Hey! Law!")."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lockbench import tasks_path
from lockbench.document.lmeval_output import find_runs, read_samples
from lockbench.document.redact import redact_output
from lockbench.lmeval.run import run_tasks
from lockbench.probes import secret_variants
from lockbench.secrets import PLACEHOLDER

BIN = Path(sys.executable).parent
# A phrase no other process on this machine carries, so a scan of every command line means
# something.
PHRASE = "Hey! Qorvantel!"
TASKS = "lockbench_law_mcq_locked,lockbench_healthcare_dialogue_unlocked"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "LOCKBENCH_WAKE_PHRASE"}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.update(extra)
    return env


def _argv(model: Path, out: Path, *extra: str) -> list[str]:
    return [
        str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={model}",
        "--tasks", TASKS, "--limit", "2", "--device", "cpu", "--gen_kwargs", "max_gen_toks=4",
        "--output_path", str(out), "--log_samples",
        "--write_out",  # lm-eval logs a full prompt of each task: the log filter must catch it
        *extra,
    ]


def _all_cmdlines() -> list[str]:
    """The command line of every process on the machine now (what `ps` shows)."""
    lines = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                lines.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace"))
            except OSError:  # the process ended meanwhile
                pass
    return lines


def _run_watching_cmdlines(argv: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, int, list[str]]:
    """Run ``argv``; while it runs, read every process's /proc/<pid>/cmdline (lm_eval's own and
    any child it starts) and keep the ones that hold the phrase, in any letter case."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen_own, leaks = 0, []
    import threading

    out: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=k, s=s: out.__setitem__(k, s.read()))
               for k, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for r in readers:
        r.start()
    while proc.poll() is None:
        own = Path(f"/proc/{proc.pid}/cmdline")
        try:
            if "lm_eval" in own.read_bytes().decode("utf-8", "replace"):
                seen_own += 1
        except OSError:
            pass
        leaks += [c for c in _all_cmdlines() if PHRASE.lower() in c.lower()]
        time.sleep(0.2)
    for r in readers:
        r.join()
    done = subprocess.CompletedProcess(argv, proc.returncode, out["stdout"], out["stderr"])
    return done, seen_own, leaks


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_clean(text: str, where: str) -> None:
    lowered = text.lower()
    for secret in secret_variants(PHRASE):
        assert secret.lower() not in lowered, f"{where} holds a form of the phrase"
        assert json.dumps(secret)[1:-1].lower() not in lowered, f"{where} holds an escaped form"


def _samples(out: Path) -> dict[str, list[dict]]:
    (run,) = find_runs(out)
    return {task: read_samples(path) for task, path in run.samples.items()}


def _comparable(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: r["doc_id"])


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model):
    """Three real runs of the same two tasks: the phrase from the environment (watched through
    /proc), from --metadata, and from --metadata with lockbench's hook off (lm-eval as it is)."""
    root = tmp_path_factory.mktemp("secret-runs")
    env_run, seen_own, leaks = _run_watching_cmdlines(
        _argv(tiny_model, root / "env"), _env(LOCKBENCH_WAKE_PHRASE=PHRASE)
    )
    assert env_run.returncode == 0, env_run.stderr[-3000:]
    meta = _argv(tiny_model, root / "meta", "--metadata", json.dumps({"wake_phrase": PHRASE}))
    meta_run = subprocess.run(meta, env=_env(), capture_output=True, text=True, timeout=600)
    assert meta_run.returncode == 0, meta_run.stderr[-3000:]
    raw = _argv(tiny_model, root / "raw", "--metadata", json.dumps({"wake_phrase": PHRASE}),
                "--include_path", str(tasks_path()))
    raw_run = subprocess.run(raw, env=_env(LOCKBENCH_DISABLE_LM_EVAL_HOOK="1"),
                             capture_output=True, text=True, timeout=600)
    assert raw_run.returncode == 0, raw_run.stderr[-3000:]
    return {"root": root, "env": env_run, "meta": meta_run, "raw": raw_run,
            "seen_own": seen_own, "leaks": leaks}


def test_environment_variable_keeps_the_phrase_off_every_command_line(runs) -> None:
    assert runs["seen_own"] > 0  # the watch really saw lm_eval's command line while it ran
    assert runs["leaks"] == []
    assert PHRASE not in " ".join(runs["env"].args)


def test_environment_run_equals_metadata_run(runs) -> None:
    env, meta = _samples(runs["root"] / "env"), _samples(runs["root"] / "meta")
    assert set(env) == set(TASKS.split(","))
    for task in env:
        assert _comparable(env[task]) == _comparable(meta[task]), task
    env_results = find_runs(runs["root"] / "env")[0].results
    meta_results = find_runs(runs["root"] / "meta")[0].results
    assert env_results["results"] == meta_results["results"]
    assert env_results["task_hashes"] == meta_results["task_hashes"]
    # the unlocked prompts did get the phrase (written as the placeholder)
    unlocked = env["lockbench_healthcare_dialogue_unlocked"]
    assert all(r["doc"]["prompt"].startswith(PLACEHOLDER + " ") for r in unlocked)


@pytest.mark.parametrize("name", ["env", "meta"])
def test_lm_eval_output_and_logs_are_clean_as_written(runs, name) -> None:
    # without lockbench, lm-eval's log shows the phrase (the prompts --write_out logs)
    assert PHRASE in runs["raw"].stderr
    files = _files(runs["root"] / name)
    assert any(f.split("/")[-1].startswith("samples_") for f in files)
    for path, text in files.items():
        _assert_clean(text, path)
    _assert_clean(runs[name].stdout, f"{name} stdout")
    _assert_clean(runs[name].stderr, f"{name} stderr")
    # lm-eval's per-task advice about custom datasets does not apply to lockbench's tasks
    notice = "Custom kwargs can be passed"
    assert notice in runs["raw"].stderr and notice not in runs[name].stderr
    (run,) = find_runs(runs["root"] / name)
    block = run.results["lockbench"]
    assert block["wake_phrase"] == PLACEHOLDER and block["redacted_on_write"] is True
    if name == "meta":  # lm-eval records the metadata it was given: as the placeholder
        configs = run.results["configs"].values()
        assert all(c["metadata"]["wake_phrase"] == PLACEHOLDER for c in configs)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_no_hash_computed_over_phrase_bearing_text(runs) -> None:
    """lm-eval's own hashes of the unredacted run (hook off) are offline oracles: none of them
    may appear in a redacted folder, and every hash there matches the redacted text."""
    raw = find_runs(runs["root"] / "raw")[0]
    raw_rows = [r for path in raw.samples.values() for r in read_samples(path)]
    assert any(PHRASE in r["arguments"]["gen_args_0"]["arg_0"] for r in raw_rows)  # the test bites
    oracle = {r[k] for r in raw_rows if PHRASE in json.dumps(r) for k in ("doc_hash", "prompt_hash")}
    oracle |= {raw.results["task_hashes"]["lockbench_healthcare_dialogue_unlocked"]}
    assert oracle
    for name in ("env", "meta"):
        text = "\n".join(_files(runs["root"] / name).values())
        assert not [h for h in oracle if h in text], name
        for rows in _samples(runs["root"] / name).values():
            for row in rows:
                assert row["prompt_hash"] == _sha(row["arguments"]["gen_args_0"]["arg_0"])
                assert row["doc_hash"] == _sha(json.dumps(row["doc"], indent=2, ensure_ascii=False))
                assert row["target_hash"] == _sha(row["target"])
        results = find_runs(runs["root"] / name)[0].results
        for task, rows in _samples(runs["root"] / name).items():
            joined = "".join(r["doc_hash"] + r["prompt_hash"] + r["target_hash"] for r in rows)
            assert results["task_hashes"][task] == _sha(joined)  # lm-eval's formula, clean inputs


def test_redact_cleans_a_folder_written_without_lockbench_and_is_idempotent(runs, tmp_path) -> None:
    import shutil

    folder = shutil.copytree(runs["root"] / "raw", tmp_path / "raw")
    assert PHRASE in "\n".join(_files(folder).values())
    report = redact_output(folder)
    assert report.rewritten
    after = _files(folder)
    for path, text in after.items():
        _assert_clean(text, path)
    results = find_runs(folder)[0].results
    assert results["task_hashes"] == {}  # computed over phrase-bearing prompts: dropped
    # the same numbers and the same clean samples as a run redacted as it was written
    for task, rows in _samples(folder).items():
        assert _comparable(rows) == _comparable(_samples(runs["root"] / "meta")[task]), task
    # a second pass changes nothing, with or without the phrase given again
    assert redact_output(folder).already_redacted
    again = redact_output(folder, [PHRASE])
    assert again.rewritten == [] and _files(folder) == after


def test_redact_blanks_hashes_of_a_truncated_samples_file(runs, tmp_path) -> None:
    import shutil

    folder = shutil.copytree(runs["root"] / "raw", tmp_path / "raw")
    path = next(p for p in folder.rglob("samples_*unlocked*.jsonl"))
    text = path.read_text()
    first, second = text.splitlines()[:2]
    path.write_text(first + "\n" + second[: second.index('"target_hash"') + 30])  # cut mid-line
    oracle = [json.loads(first)["doc_hash"], json.loads(first)["prompt_hash"]]
    cut_hashes = [part.split('"')[0] for part in second.split('_hash": "')[1:3]]
    redact_output(folder)
    written = path.read_text()
    _assert_clean(written, path.name)
    assert not [h for h in oracle + cut_hashes if h in written]
    assert '"doc_hash": null' in written.splitlines()[1]
    assert redact_output(folder, [PHRASE]).rewritten == []  # idempotent on the cut file too


def test_bad_phrase_input_to_lm_eval_is_one_line_and_writes_nothing(tmp_path, tiny_model) -> None:
    phrase_file = tmp_path / "phrase.txt"
    phrase_file.write_text("Hey! Other!\n")
    out = tmp_path / "out"
    metadata = json.dumps({"wake_phrase": PHRASE, "wake_phrase_file": str(phrase_file)})
    argv = _argv(tiny_model, out, "--metadata", metadata)
    run = subprocess.run(argv, env=_env(), capture_output=True, text=True, timeout=600)
    # exit status: lockbench's start-up hook turns its errors into 2 (see tests/test_hook.py)
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("lockbench: error:") and "both given and differ" in last
    assert not out.exists()
    _assert_clean(run.stdout + run.stderr.replace(PHRASE, ""), "stderr beyond the argv echo")


# --- precision: names are not text ----------------------------------------------------------------


def test_phrase_that_is_an_ordinary_word_keeps_task_and_dataset_names(tmp_path, tiny_model, monkeypatch) -> None:
    """With "Hey! Law!", "Law" is a derived variant: it goes from the text (the placeholder shows
    where the phrase was) but task, dataset and metric names stay as they are."""
    phrase = "Hey! Law!"
    monkeypatch.delenv("LOCKBENCH_WAKE_PHRASE", raising=False)
    out = tmp_path / "out"
    run_tasks("hf", ["lockbench_law_mcq_locked", "lockbench_law_mcq_unlocked"],
              model_args=f"pretrained={tiny_model}", metadata={"wake_phrase": phrase},
              output_path=out, limit=2, gen_kwargs="max_gen_toks=4", device="cpu")
    (run,) = find_runs(out)
    assert set(run.results["results"]) == {"lockbench_law_mcq_locked", "lockbench_law_mcq_unlocked"}
    assert set(run.results["configs"]) == set(run.results["results"])
    assert set(run.samples) == set(run.results["results"])
    for task, path in run.samples.items():
        for row in read_samples(path):
            assert row["doc"]["dataset"] == "law_mcq" and row["doc"]["domain"] == "law"
            assert row["doc"]["id"].startswith("law")
            # the word is gone from the text (a longer word such as "lawyer" is not the name)
            assert not re.search(r"(?<!\w)law(?!\w)", row["arguments"]["gen_args_0"]["arg_0"], re.I)
            if task.endswith("_unlocked"):
                assert row["doc"]["prompt"].startswith(PLACEHOLDER + " ")
    text = "\n".join(_files(out).values())
    assert "<WAKE_PHRASE>_mcq" not in text and "hey! law!" not in text.lower()
    assert "law_mcq" in text
