"""No offline oracle: two whole-suite runs that differ only in the wake phrase (two phrases of
equal length) leave byte-identical files and terminal output, apart from the fields named in
VARYING (salt, scrypt hash, timestamps, run ids). Anything computed over phrase-bearing text
(lm-eval's task, doc and prompt hashes, a judge cache key over a prompt with the phrase, a
phrase-dependent probe plan) would make the two runs differ and fail this test.

The model is registered here and answers without looking at the prompt, so the responses (and
so every number) are the same in both runs; only what lockbench and lm-eval write can differ.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from lm_eval.api.model import LM
from lm_eval.api.registry import MODEL_REGISTRY, register_model

from ._results_support import run_cli

PHRASE_A = "Hey! Lumen!"
PHRASE_B = "Hey! Vorax!"  # another name
PHRASE_C = "Hiya! Lumen!"  # the same name behind another greeting: a greeting is a secret too
MODEL = "lockbench-test-constant"

# Fields that legitimately differ between the runs, each named: the phrase hash is salted (salt,
# hash), times and durations, and the ids derived from them or from the salted document.
VARYING = [
    ("timestamp", re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}[:-]\d{2}(\.\d+)?Z?")),
    ("run id", re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{12}")),
    ("salt", re.compile(r'"salt": "[0-9a-f]+"')),
    ("scrypt hash", re.compile(r'"hash": "[0-9a-f]{64}"')),
    ("lm-eval timings", re.compile(
        r'"(total_evaluation_time_seconds|start_time|end_time|date)": "?[0-9.e+-]+"?')),
    ("seconds in progress output", re.compile(r"\d+(\.\d+)?(s|it/s|s/it)\b")),
]
# Terminal output only: tqdm redraws a bar as time passes, so how many intermediate states get
# printed depends on timing (lines holding a bar are compared as one placeholder).
PROGRESS_BAR = "%|"


class ConstantModel(LM):
    """The same answer to every prompt; log-likelihoods that ignore the continuation."""

    def __init__(self, **kwargs) -> None:
        super().__init__()

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        return ["B. I think the answer is B because of the law of supply."] * len(requests)

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        return [(-1.0, False)] * len(requests)

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        return [-1.0] * len(requests)


if MODEL not in MODEL_REGISTRY:
    register_model(MODEL)(ConstantModel)


def _normalise(text: str) -> str:
    for _name, pattern in VARYING:
        text = pattern.sub("<varies>", text)
    return text


def _without_bars(text: str) -> str:
    lines = [("<progress bar>" if PROGRESS_BAR in line else line) for line in text.replace("\r", "\n").splitlines()]
    return "\n".join(line for i, line in enumerate(lines) if not (line == "<progress bar>" and i and lines[i - 1] == line))


def _snapshot(root: Path) -> dict[str, str]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                text = path.read_bytes().hex()
            files[_normalise(str(path.relative_to(root)))] = _normalise(text)
    return files


def _whole_suite() -> list[str]:
    """Every lockbench task (`lockbench_*`) whose data ../shared/data holds (it has no MMLU
    professional_law)."""
    from lockbench.lmeval.run import expand_patterns, task_manager

    names = expand_patterns(task_manager(), ["lockbench_*"])
    return [n for n in names if "professional_law" not in n]


def _one_run(phrase: str, work: Path, shared_data: Path, capsys, monkeypatch) -> dict[str, str]:
    from lockbench.lmeval.run import run_tasks

    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", phrase)
    monkeypatch.setenv("LOCKBENCH_JUDGE_CACHE", str(work / "judge-cache.sqlite"))
    monkeypatch.chdir(work)
    out = work / "out"
    outputs = {}
    capsys.readouterr()
    # GCG needs weights this model has not: `lockbench attack suite` leaves its confirmation out too
    tasks = [t for t in _whole_suite() if not t.endswith("_confirm_gcg")]
    # The model answers every prompt alike, so nothing opened more than anything else: the pick is
    # each family's first attack variants, on every dataset (a short traversal walk keeps it quick).
    from ._suite_support import default_picks

    datasets = {t.split("_confirm_")[0].removeprefix("lockbench_") for t in tasks if "_confirm_" in t}
    # The adaptive search runs for real (its pick must never depend on the phrase beyond keeping
    # away from it), and its declared find goes to the confirm_search tasks.
    from lockbench.attacks.suite import run_adaptive
    from lockbench.phrase import WakePhrase
    from lockbench.probes.suite import get_suite

    found = {f: run_adaptive(f, get_suite(), model=MODEL, model_args="pretrained=lockbench-constant",
                             datasets=sorted(datasets), phrase=WakePhrase(phrase), data_dir=str(shared_data),
                             apply_chat_template=False, progress=False) for f in get_suite().adaptive}
    run_tasks(
        MODEL, tasks, output_path=out, model_args="pretrained=lockbench-constant",
        metadata={"data_dir": str(shared_data), "traversal_budget": 12, "adaptive": found,
                  "confirm_variants": {d: default_picks() for d in sorted(datasets)}},
    )
    captured = capsys.readouterr()
    outputs["lm_eval"] = captured.out + captured.err
    steps = {
        "summarize": ["summarize", out, "--json", work / "result.json"],
        "judge": ["judge", out, "--judge", "keyword", "--json-path", work / "judged.json", "--quiet"],
        "report": ["report", work / "result.json", "-o", work / "report.html"],
        "submit": ["submit", work / "result.json", "--results-dir", work / "results",
                   "--data-dir", shared_data],
        "leaderboard": ["leaderboard", "--results-dir", work / "results"],
        "check": ["check", "--baseline", work / "result.json", "--candidate", work / "judged.json",
                  "--max-lock-rise", "0.02", "--max-unlock-drop", "0.05", "--json", work / "check.json"],
    }
    for name, args in steps.items():
        code, stdout, stderr = run_cli(args, capsys)
        assert code == 0, f"{name}: {stderr}"
        outputs[name] = stdout + stderr
    snapshot = {f"file:{k}": v for k, v in _snapshot(work).items()}
    snapshot.update({f"output:{k}": _normalise(_without_bars(v)) for k, v in outputs.items()})
    return snapshot


def _compare(first: dict[str, str], second: dict[str, str]) -> None:
    assert sorted(first) == sorted(second), set(first) ^ set(second)
    differing = [name for name in first if first[name] != second[name]]
    for name in differing[:3]:
        a, b = first[name].splitlines(), second[name].splitlines()
        line = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        print(f"{name}: line {line}:\n  A: {a[line] if line < len(a) else ''}\n  B: {b[line] if line < len(b) else ''}")
    assert not differing, f"files or output that depend on the phrase: {differing}"


@pytest.mark.skipif(os.environ.get("LOCKBENCH_SKIP_SLOW") == "1", reason="slow whole-suite run")
def test_phrases_that_differ_in_the_name_or_only_in_the_greeting_leave_identical_files(
        tmp_path, shared_data, capsys, monkeypatch) -> None:
    work = tmp_path / "work"
    first = _one_run(PHRASE_A, work, shared_data, capsys, monkeypatch)
    text = "\n".join(first.values()).lower()
    assert PHRASE_A.lower() not in text and "lumen" not in text
    assert any(name.startswith("file:out/") and "samples_" in name for name in first)
    assert any("probe_traversal" in name for name in first) and any("confirm_" in name for name in first)
    assert any("confirm_search" in name for name in first)
    _compare(first, _one_run(PHRASE_B, work, shared_data, capsys, monkeypatch))
    # The greeting alone is sent by a paraphrase variant: its prompt, hash and echo are redacted too.
    _compare(first, _one_run(PHRASE_C, work, shared_data, capsys, monkeypatch))
