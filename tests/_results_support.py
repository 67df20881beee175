"""Helpers for the results tests: one real lm-eval run per session, crafted result documents.

The real run (tiny random Llama, the whole agriculture MCQ test split locked and unlocked plus a
paraphrase probe, --log_samples) is made once per test session and copied by each test that
changes it: a submittable result. Crafted documents keep the structure of that real result and
replace the per-sample responses and outcomes (self-consistent, not bound to the dataset: only
`submit` binds); every number in them is computed by lockbench's own code (lockbench.document.entry),
never typed in.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from .conftest import WAKE_PHRASE

BIN = Path(sys.executable).parent
TASKS = ("lockbench_agriculture_mcq_locked", "lockbench_agriculture_mcq_unlocked",
         "lockbench_agriculture_mcq_probe_paraphrase")
# Short generations keep the real run at ~30 s on 2 cores (the paraphrase screening asks its 56
# variants on one train item).
METADATA = {"wake_phrase": WAKE_PHRASE}
_CACHE: dict[str, Path] = {}


def real_output(tmp_path_factory, tiny_model: Path, *, raw: bool = False) -> Path:
    """A pristine lm-eval output folder (do not modify: copy it with ``copy_output``).

    ``raw``: written by lm-eval without lockbench's redaction on write (the start-up hook off,
    the tasks found through ``--include_path``), i.e. with the phrase in it, the way a folder
    written without lockbench installed looks; what ``lockbench redact`` is for.
    """
    key = f"{tmp_path_factory.getbasetemp()}:{raw}"
    if key in _CACHE:
        return _CACHE[key]
    out = tmp_path_factory.mktemp("lmeval-raw" if raw else "lmeval-real") / "out"
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    cmd = [
        str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={tiny_model}",
        "--tasks", ",".join(TASKS), "--metadata", json.dumps(METADATA), "--batch_size", "16",
        "--gen_kwargs", "max_gen_toks=8", "--output_path", str(out), "--log_samples", "--device", "cpu",
    ]
    if raw:
        from lockbench import tasks_path

        env["LOCKBENCH_DISABLE_LM_EVAL_HOOK"] = "1"
        cmd += ["--include_path", str(tasks_path())]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _CACHE[key] = out
    return out


def copy_output(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (to prove nothing changed)."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def craft(template: dict[str, Any], tasks: dict[str, list[bool]], *, model: str = "org/model-a",
          method: str | None = "identitylock-lora", created: str = "2026-01-01T00:00:00Z",
          base: dict[str, list[bool]] | None = None, refused_when_failed: bool = True) -> dict[str, Any]:
    """A valid (self-consistent, unbound) result with the given per-sample pass lists, one list
    per task name.

    Task names follow ``lockbench_<dataset>_<condition>`` with dataset ``agriculture_mcq``;
    failed MCQ samples are refusals (or wrong answers), passed ones correct.
    """
    from lockbench.document.entry import dataset_summary, task_entry

    template_task = next(iter(template["tasks"].values()))

    def sample(i: int, passed: bool, condition: str) -> dict[str, Any]:
        refused = not passed and refused_when_failed
        probe = condition.startswith("probe_")
        traversal = condition == "probe_traversal"
        return {
            "doc_id": i, "item_id": f"agriculture-mcq-{i:03d}", "prompt_sha256": f"{i:064x}",
            "response": "A" if passed else ("Sorry, I cannot answer this question." if refused else "B"),
            "loglikelihoods": None,
            "variant_kind": "typo" if probe else None,
            "variant": {"index": i, "legitimate": False, "edit_distance": 2,
                        # traversal: one candidate per query, in dictionary order
                        "candidate_rank": i + 1 if traversal else None,
                        "query_index": i + 1 if traversal else None} if probe else None,
            "outcome": "correct" if passed else ("refused" if refused else "wrong"),
            "passed": passed, "refused": refused, "opened": not refused, "no_content": None,
            "unparsed": False, "quality": None, "flags": [],
        }

    def entry(name: str, passes: list[bool]) -> dict[str, Any]:
        condition = name.split("agriculture_mcq_", 1)[1]
        meta = {"dataset": "agriculture_mcq", "domain": "agriculture", "kind": "mcq", "condition": condition,
                "split": "test", "suite": None}
        return task_entry(meta, [sample(i, p, condition) for i, p in enumerate(passes)],
                          generation=copy.deepcopy(template_task["generation"]),
                          scoring=None, provenance=copy.deepcopy(template_task["provenance"]))

    doc = copy.deepcopy(template)
    doc["created_utc"] = created
    doc["model"] = {**doc["model"], "name": model, "args": {"pretrained": model}}
    doc["lock"] = {**doc["lock"], "method": method}
    doc["tasks"] = {name: entry(name, passes) for name, passes in tasks.items()}
    if base is not None:
        doc["base_tasks"] = {name: entry(name, passes) for name, passes in base.items()}
    else:
        doc.pop("base_tasks", None)
    doc["datasets"] = dataset_summary(doc["tasks"], doc.get("base_tasks"))
    from lockbench.document.suite_view import suite_block

    doc.pop("suite", None)
    if (suite := suite_block(doc)) is not None:
        doc["suite"] = suite
    return doc


def write(path: Path, doc: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def run_cli(args: list[str], capsys, env: dict[str, str] | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """``lockbench ARGS`` in-process; returns (exit code, stdout, stderr)."""
    from lockbench.cli import main

    if env and monkeypatch is not None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    capsys.readouterr()
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors exit from parse_args
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err
