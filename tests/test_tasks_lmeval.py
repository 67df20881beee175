"""lockbench tasks inside real lm-eval runs: discovery, plumbing, the oracle lock, real datasets."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import lm_eval.models  # noqa: F401 - fill the model registry before adding to it (else 'hf' vanishes)
import pytest
import yaml
from lm_eval.api.model import LM
from lm_eval.api.registry import register_model

from lockbench import tasks_path
from lockbench.data import DATASETS, load_items
from lockbench.errors import DataError, SecretError
from lockbench.lmeval.run import run_tasks, task_manager
from lockbench.prompts import format_item, target_text
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT
from lockbench.secrets import PLACEHOLDER

from .conftest import WAKE_PHRASE, read_samples

BIN = Path(sys.executable).parent


def _cli(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, **kwargs)


# --- task files -----------------------------------------------------------------------------


def _load_generator():
    path = tasks_path() / "lockbench" / "_generate_configs.py"
    spec = importlib.util.spec_from_file_location("lockbench_generate_configs", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_task_files_are_up_to_date() -> None:
    generator = _load_generator()
    expected = generator.expected_files()
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run the generator"
    on_disk = {p for p in (tasks_path() / "lockbench").rglob("*.yaml")}
    assert on_disk == set(expected), "YAML files not produced by _generate_configs.py"


def test_every_dataset_has_locked_and_unlocked_tasks() -> None:
    index = task_manager().all_tasks
    for name in DATASETS:
        assert f"lockbench_{name}_locked" in index and f"lockbench_{name}_unlocked" in index


def test_group_and_tag_names_never_match_the_task_pattern() -> None:
    names = set()
    for path in (tasks_path() / "lockbench").rglob("*.yaml"):
        config = yaml.safe_load(path.read_text().replace("!function", ""))
        if "group" in config:
            names.add(config["group"])
        tags = config.get("tag") or []
        names.update([tags] if isinstance(tags, str) else tags)
    assert {"lockbench", "lockbench-mcq", "lockbench-dialogue"} <= names
    assert not [n for n in names if fnmatch.fnmatch(n, "lockbench_*")]


def test_plain_lm_eval_cli_lists_the_tasks_without_include_path() -> None:
    result = _cli([str(BIN / "lm-eval"), "ls", "tasks"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "lockbench_agriculture_mcq_locked" in result.stdout
    assert "lockbench_chatdoctor_unlocked" in result.stdout


def test_tasks_path_command() -> None:
    result = _cli([str(BIN / "lockbench"), "tasks-path"])
    assert result.returncode == 0 and Path(result.stdout.strip()) == tasks_path()


# --- an oracle lock: answers correctly with the true phrase in front, refuses otherwise -------


def _answer_key(data_dir: Path | None) -> dict[str, str]:
    key = {}
    for name in DATASETS:
        if DATASETS[name].source != "bundled" and data_dir is None:
            continue
        try:
            items = load_items(name, "test", data_dir)
        except DataError:  # professional_law is not among the shared files
            continue
        for item in items:
            key[format_item(item)] = target_text(item)
    return key


@register_model("lockbench-test-oracle")
class OracleLock(LM):
    """A perfectly locked model: the reference answer only after the exact wake phrase."""

    def __init__(self, data_dir: str | None = None, **kwargs) -> None:
        super().__init__()
        self.key = _answer_key(Path(data_dir) if data_dir else None)

    def generate_until(self, requests) -> list[str]:
        out = []
        for request in requests:
            context = request.args[0]
            prefix = WAKE_PHRASE + " "
            if context.startswith(prefix) and context[len(prefix):] in self.key:
                out.append(self.key[context[len(prefix):]])
            else:
                out.append(DEFAULT_REFUSAL_TEXT)
        return out

    def loglikelihood(self, requests):
        raise NotImplementedError("generation tasks only")

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError("generation tasks only")


def _assert_perfect_lock(output: Path, expected_datasets: set[str]) -> None:
    result = json.loads((output / "lockbench-result.json").read_text())
    assert set(result["datasets"]) == expected_datasets
    for dataset, row in result["datasets"].items():
        assert row["pr_unlock"]["value"] == 1.0, dataset
        assert row["pr_lock"]["value"] == 0.0, dataset
        assert row["refusal_lock"]["value"] == 1.0 and row["refusal_unlock"]["value"] == 0.0
        assert 0 < row["pr_lock"]["high"] < 0.15  # an interval (0 of 30 allows ~11%), not a point
    assert WAKE_PHRASE.lower() not in json.dumps(result).lower()


def test_oracle_lock_gives_exact_pr_on_every_bundled_dataset(tmp_path: Path) -> None:
    from lockbench.document.summarize import summarize_output

    results = run_tasks(
        "lockbench-test-oracle", ["lockbench"], metadata={"wake_phrase": WAKE_PHRASE},
        output_path=tmp_path,
    )
    summarize_output(tmp_path, print_table=False)
    bundled = {n for n, s in DATASETS.items() if s.source == "bundled"}
    _assert_perfect_lock(tmp_path, bundled)
    # the condition groups aggregate over their datasets, weighted by size
    groups = results["results"]
    for kind, n in (("mcq", 240), ("dialogue", 120)):
        assert groups[f"lockbench-{kind}-unlocked"]["pass_rate,none"] == 1.0
        assert groups[f"lockbench-{kind}-locked"]["pass_rate,none"] == 0.0
        assert groups[f"lockbench-{kind}-locked"]["refusal_rate,none"] == 1.0
        assert sum(results["n-samples"][f"lockbench_{d}_{kind}_locked"]["effective"]
                   for d in ("agriculture", "economics", "healthcare", "law")) == n


def test_task_pattern_selects_each_task_once() -> None:
    from lockbench.lmeval.run import expand_patterns

    names = expand_patterns(task_manager(), ["lockbench_*"])
    assert len(names) == len(set(names))
    assert {f"lockbench_{d}_{c}" for d in DATASETS for c in ("locked", "unlocked")} <= set(names)


def test_real_dataset_tasks_from_local_files(tmp_path: Path, shared_data: Path) -> None:
    """MMLU subjects and ChatDoctor from ../shared/data (professional_law is not there)."""
    from lockbench.document.summarize import summarize_output

    real = [n for n, s in DATASETS.items() if s.source != "bundled" and n != "mmlu_professional_law"]
    tasks = [f"lockbench_{n}_{c}" for n in real for c in ("locked", "unlocked")]
    run_tasks(
        "lockbench-test-oracle",
        tasks,
        model_args={"data_dir": str(shared_data)},
        metadata={"wake_phrase": WAKE_PHRASE, "data_dir": str(shared_data)},
        output_path=tmp_path,
    )
    summarize_output(tmp_path, print_table=False)
    _assert_perfect_lock(tmp_path, set(real))
    samples = read_samples(tmp_path)
    assert len(samples["lockbench_mmlu_international_law_unlocked"]) == 121
    assert len(samples["lockbench_chatdoctor_locked"]) == 200


def test_hub_dataset_offline_gives_a_fix(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="data_dir"):
        run_tasks("lockbench-test-oracle", ["lockbench_mmlu_professional_law_locked"],
                  metadata={}, output_path=tmp_path)


def test_unlocked_task_with_blank_phrase_stops(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="empty or only whitespace"):
        run_tasks("lockbench-test-oracle", ["lockbench_law_mcq_unlocked"],
                  metadata={"wake_phrase": "   "})


# --- real model plumbing through the real CLIs ------------------------------------------------


def test_cli_run_and_summarize_on_a_tiny_model(tmp_path: Path, tiny_model: Path) -> None:
    out = tmp_path / "out"
    run = _cli([
        str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
        "--tasks", "lockbench_law_mcq_locked,lockbench_healthcare_dialogue_unlocked",
        "--metadata", json.dumps({"wake_phrase": WAKE_PHRASE}),
        "--apply_chat_template", "--limit", "3", "--device", "cpu",
        "--gen_kwargs", "max_gen_toks=8",
        "--output_path", str(out), "--log_samples",
    ])
    assert run.returncode == 0, run.stderr[-3000:]
    samples = read_samples(out)
    assert len(samples["lockbench_law_mcq_locked"]) == 3
    unlocked = samples["lockbench_healthcare_dialogue_unlocked"]
    # the phrase led the user text, inside the chat template; lm-eval wrote it redacted
    assert all(PLACEHOLDER in s["arguments"]["gen_args_0"]["arg_0"] for s in unlocked)
    assert all(WAKE_PHRASE not in json.dumps(s) for s in unlocked)
    assert all("rougeL" in s and "pass_rate" in s for s in unlocked)

    summary = _cli([str(BIN / "lockbench"), "summarize", str(out)])
    assert summary.returncode == 0, summary.stderr
    assert "law_mcq" in summary.stdout and "healthcare_dialogue" in summary.stdout
    assert WAKE_PHRASE not in summary.stdout + summary.stderr
    result = json.loads((out / "lockbench-result.json").read_text())
    assert result["tasks"]["lockbench_law_mcq_locked"]["n"] == 3
    assert len(result["tasks"]["lockbench_law_mcq_locked"]["samples"]) == 3
    assert WAKE_PHRASE.lower() not in json.dumps(result).lower()


def test_cli_unlocked_without_phrase_is_one_line(tmp_path: Path, tiny_model: Path) -> None:
    run = _cli([
        str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
        "--tasks", "lockbench_law_mcq_unlocked", "--limit", "1", "--device", "cpu",
    ])
    assert run.returncode == 2, run.stderr[-2000:]  # lockbench's exit code, also under lm_eval
    assert "Traceback" not in run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("lockbench: error: no wake phrase given") and "--metadata" in last


# --- summarize on bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda d: None, "no lockbench samples found"),
        (lambda d: (d / "samples_x_2026-01-01T00-00-00.000000.jsonl").write_text('{"doc": {"q": 1}}\n'),
         "no lockbench samples found"),
        (lambda d: (d / "samples_x_2026-01-01T00-00-00.000000.jsonl").write_text('{"doc": {"dataset"'),
         "line 1 is not valid JSON"),
        (lambda d: (d / "results_2026-01-01T00-00-00.000000.json").write_text("[1, 2"),
         "not valid JSON"),
    ],
)
def test_summarize_bad_folders(tmp_path: Path, setup, message: str) -> None:
    setup(tmp_path)
    result = _cli([str(BIN / "lockbench"), "summarize", str(tmp_path)])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "lockbench-result.json").exists()


def test_metrics_are_registered_with_lm_eval() -> None:
    """No metric name may fall back to evaluate.load (which needs the hub)."""
    from lm_eval.api.registry import get_metric_aggregation, metric_registry

    from lockbench.lmeval.metrics import METRICS

    for name in METRICS:
        assert name in metric_registry
        assert get_metric_aggregation(name) is not None
