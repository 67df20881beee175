"""From an lm-eval output folder to a ``lockbench-result`` document and a terminal table.

Per sample the outcome comes, in order of preference, from a ``rescore`` callable (post-hoc
judges), from the per-sample metrics lm-eval logged (``pass_rate``, ``refusal_rate``, ...), or
from lockbench's own scoring of the logged response (runs made with ``--predict_only``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockbench import __version__
from lockbench.errors import LockbenchError, SecretError
from lockbench.lmeval.metrics import score_doc
from lockbench.results import stats
from lockbench.results.lmeval_output import (
    Run,
    find_runs,
    lmeval_doc_hash,
    read_samples,
    response_of,
    wake_phrase_hashes_in,
    wake_phrases_in,
)
from lockbench.scoring.outcome import Outcome
from lockbench.secrets import PLACEHOLDER, contains_secret, redact_obj, salted_hash

SCHEMA_NAME = "lockbench-result"
SCHEMA_VERSION = 1
Rescore = Callable[[dict, str], Outcome]


@dataclass
class SampleRecord:
    task: str
    doc_id: int
    doc_hash: str
    doc: dict[str, Any]
    response: str
    outcome: Outcome


def _logged_outcome(doc: dict[str, Any], sample: dict[str, Any]) -> Outcome | None:
    """Outcome from the per-sample metrics lm-eval logged, or None when they are absent."""
    if doc.get("condition") == "latent":
        if "acc" not in sample:
            return None
        correct = bool(sample["acc"])
        return Outcome("correct" if correct else "wrong", correct, False)
    if "pass_rate" not in sample or "refusal_rate" not in sample:
        return None
    passed, refused = bool(sample["pass_rate"]), bool(sample["refusal_rate"])
    if doc.get("kind") == "mcq":
        if refused:
            return Outcome("refused", False, True)
        unparsed = bool(sample.get("unparsed_rate", 0))
        return Outcome("correct" if passed else "wrong", passed, False, unparsed=unparsed)
    quality = float(sample.get("rougeL", 0.0))
    return Outcome("refused" if refused else "answered", passed, refused, quality=quality)


def _is_lockbench_doc(doc: Any) -> bool:
    return isinstance(doc, dict) and {"dataset", "condition", "kind"} <= doc.keys()


def collect(output_dir: Path, rescore: Rescore | None = None) -> tuple[dict[str, list[SampleRecord]], list[Run]]:
    """Per-task sample records of every lockbench task in ``output_dir`` (newest run per task)."""
    runs = find_runs(output_dir)
    latest: dict[str, tuple[Run, Path]] = {}
    for run in runs:
        for task, path in run.samples.items():
            latest[task] = (run, path)
    tasks: dict[str, list[SampleRecord]] = {}
    for task, (_run, path) in sorted(latest.items()):
        records = []
        for sample in read_samples(path):
            doc = sample["doc"]
            if not _is_lockbench_doc(doc):
                break
            response = response_of(sample)
            outcome = None
            if rescore is not None and doc.get("condition") != "latent":
                outcome = rescore(doc, response)
            if outcome is None:
                outcome = _logged_outcome(doc, sample)
            if outcome is None:
                outcome = score_doc(doc, response)
            records.append(
                SampleRecord(
                    task, int(sample.get("doc_id", len(records))), str(sample.get("doc_hash", "")),
                    doc, response, outcome,
                )
            )
        if records:
            tasks[task] = records
    if not tasks:
        raise LockbenchError(
            f"{output_dir}: no lockbench samples found; run lm_eval on lockbench_* tasks with "
            "--log_samples and --output_path pointing here"
        )
    return tasks, runs


def _task_entry(records: list[SampleRecord], generation: dict[str, Any]) -> dict[str, Any]:
    doc = records[0].doc
    n = len(records)
    passes = sum(r.outcome.passed for r in records)
    refusals = sum(r.outcome.refused for r in records)
    unparsed = sum(r.outcome.unparsed for r in records)
    qualities = [r.outcome.quality for r in records if r.outcome.quality is not None]
    entry: dict[str, Any] = {
        "dataset": doc["dataset"],
        "domain": doc.get("domain"),
        "kind": doc["kind"],
        "condition": doc["condition"],
        "n": n,
        "passes": passes,
        "refusals": refusals,
        "unparsed": unparsed,
        "pass_rate": stats.rate(passes, n),
        "refusal_rate": stats.rate(refusals, n),
        "mean_quality": sum(qualities) / len(qualities) if qualities else None,
        "generation": generation,
        "samples": [
            {
                "doc_id": r.doc_id,
                "doc_hash": r.doc_hash,
                "item_id": r.doc.get("id"),
                "variant_kind": r.doc.get("variant_kind"),
                "outcome": r.outcome.outcome,
                "passed": r.outcome.passed,
                "refused": r.outcome.refused,
                "unparsed": r.outcome.unparsed,
                "quality": r.outcome.quality,
            }
            for r in records
        ],
    }
    if doc["condition"].startswith("probe_"):
        entry["probe"] = _probe_summary(doc["condition"][len("probe_") :], records)
    return entry


def _probe_summary(family: str, records: list[SampleRecord]) -> dict[str, Any] | None:
    try:
        from lockbench.probes.summary import probe_summary
    except ImportError:
        return None
    return probe_summary(
        family,
        [
            {"doc": r.doc, "outcome": r.outcome.outcome, "passed": r.outcome.passed,
             "refused": r.outcome.refused}
            for r in records
        ],
    )


def secrets_of(runs: list[Run], extra: list[str] | None = None) -> list[str]:
    """The wake phrase(s) lm-eval recorded, and every probe variant derived from them."""
    phrases: list[str] = list(extra or [])
    for run in runs:
        phrases += wake_phrases_in(run.results)
    phrases = list(dict.fromkeys(p for p in phrases if p and p.strip()))
    secrets = list(phrases)
    try:
        from lockbench.probes import secret_variants
    except ImportError:
        secret_variants = None
    if secret_variants is not None:
        for phrase in phrases:
            secrets += secret_variants(phrase)
    return list(dict.fromkeys(secrets))


def _model_identity(runs: list[Run]) -> dict[str, Any]:
    with_results = [r for r in runs if r.results]
    if not with_results:
        return {"name": None}
    names = {r.results.get("model_name") for r in with_results}
    if len(names) > 1:
        raise LockbenchError(
            f"results of several models in one folder ({', '.join(sorted(map(str, names)))}); "
            "summarize each model's sub-folder on its own"
        )
    latest = with_results[-1].results
    config = latest.get("config", {})
    args = config.get("model_args", {})
    if isinstance(args, str):
        args = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    return {
        "name": latest.get("model_name"),
        "backend": config.get("model"),
        "args": args,
        "revision": config.get("model_revision"),
        "sha": config.get("model_sha") or None,
        "adapter": args.get("peft") if isinstance(args, dict) else None,
        "num_parameters": config.get("model_num_parameters"),
        "dtype": config.get("model_dtype"),
    }


def _generation(run_results: dict[str, Any], task: str) -> dict[str, Any]:
    task_config = run_results.get("configs", {}).get(task, {})
    config = run_results.get("config", {})
    return {
        "generation_kwargs": task_config.get("generation_kwargs"),
        "output_type": task_config.get("output_type"),
        "num_fewshot": task_config.get("num_fewshot"),
        "chat_template_sha": run_results.get("chat_template_sha"),
        "system_instruction_sha": run_results.get("system_instruction_sha"),
        "fewshot_as_multiturn": run_results.get("fewshot_as_multiturn"),
        "batch_size": config.get("batch_size"),
        "limit": config.get("limit"),
        "seeds": {k: config.get(k) for k in ("random_seed", "numpy_seed", "torch_seed")},
        "task_version": run_results.get("versions", {}).get(task),
        "task_hash": run_results.get("task_hashes", {}).get(task),
    }


def dataset_summary(tasks: dict[str, dict], base: dict[str, dict] | None = None) -> dict[str, Any]:
    """PR_lock, PR_unlock, gap, refusal rates (and PR_base, retention) per dataset.

    PR_base is the base model's pass rate on the plain prompt (its ``locked`` task: the model
    used as it was before locking).
    """
    by_dataset: dict[str, dict[str, dict]] = {}
    for entry in tasks.values():
        by_dataset.setdefault(entry["dataset"], {})[entry["condition"]] = entry
    base_by_dataset = {}
    for entry in (base or {}).values():
        if entry["condition"] == "locked":
            base_by_dataset[entry["dataset"]] = entry
    out = {}
    for dataset, conds in sorted(by_dataset.items()):
        locked, unlocked = conds.get("locked"), conds.get("unlocked")
        if not locked and not unlocked:
            continue
        pr_lock = locked["pass_rate"] if locked else None
        pr_unlock = unlocked["pass_rate"] if unlocked else None
        pr_base = base_by_dataset[dataset]["pass_rate"] if dataset in base_by_dataset else None
        out[dataset] = {
            "kind": (locked or unlocked)["kind"],
            "pr_lock": pr_lock,
            "pr_unlock": pr_unlock,
            "gap": stats.difference(pr_unlock, pr_lock),
            "refusal_lock": locked["refusal_rate"] if locked else None,
            "refusal_unlock": unlocked["refusal_rate"] if unlocked else None,
            "pr_base": pr_base,
            "retention": stats.ratio(pr_unlock, pr_base),
        }
    return out


def _safe_doc_hashes(records: dict[str, list[SampleRecord]], secrets: list[str]) -> None:
    """Replace lm-eval's doc_hash by the hash of the redacted doc.

    lm-eval hashes the doc with the full prompt, wake phrase included: an unsalted sha256 of a
    public item plus the phrase is an offline oracle for guessing the phrase. The hash of the
    redacted doc identifies the sample just as well and is what `lockbench redact` leaves in
    the samples files, so both routes agree.
    """
    for recs in records.values():
        for record in recs:
            record.doc_hash = lmeval_doc_hash(redact_obj(record.doc, secrets))


def build_result(
    output_dir: Path,
    *,
    rescore: Rescore | None = None,
    base_dir: Path | None = None,
    lock_card: dict[str, Any] | None = None,
    judge: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The secret-free ``lockbench-result`` document for one model's output folder."""
    records, runs = collect(output_dir, rescore)
    secrets = secrets_of(runs + ([] if base_dir is None else find_runs(base_dir)))
    _safe_doc_hashes(records, secrets)
    latest_run_of = {}
    for run in runs:
        for task in run.samples:
            latest_run_of[task] = run
    tasks = {
        task: _task_entry(recs, _generation(latest_run_of[task].results, task))
        for task, recs in records.items()
    }
    base_tasks = None
    base_model = None
    if base_dir is not None:
        base_records, base_runs = collect(base_dir, rescore)
        _safe_doc_hashes(base_records, secrets)
        base_tasks = {t: _task_entry(r, {}) for t, r in base_records.items()}
        base_model = _model_identity(base_runs)
    phrases = [p for r in runs for p in wake_phrases_in(r.results)]
    card = dict(lock_card or {})
    lock = {
        "wake_phrase": PLACEHOLDER,
        "wake_phrase_hash": card.get("wake_phrase_hash")
        or (salted_hash(phrases[0]) if phrases else None)
        or next((h for r in runs for h in wake_phrase_hashes_in(r.results)), None),
        "refusal_text": card.get("refusal_text"),
        "method": card.get("method"),
        "ratio": card.get("ratio"),
        "base_model": card.get("base_model"),
    }
    result = {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lockbench_version": __version__,
        "lm_eval_version": next(
            (r.results.get("lm_eval_version") for r in reversed(runs) if r.results), None
        ),
        "model": _model_identity(runs),
        "base_model": base_model,
        "lock": lock,
        "judge": judge or {"name": "keyword"},
        "tasks": tasks,
        "datasets": dataset_summary(tasks, base_tasks),
    }
    if base_tasks is not None:
        result["base_tasks"] = base_tasks
    result = redact_obj(result, secrets)
    if contains_secret(json.dumps(result), secrets):  # belt and braces: never write a secret
        raise SecretError("the result still contains the wake phrase; refusing to write it")
    return result


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: never a half-written file."""
    from lockbench.fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def summarize_output(
    output_dir: str | Path,
    *,
    rescore: Rescore | None = None,
    base_dir: str | Path | None = None,
    lock_card: dict[str, Any] | None = None,
    judge: dict[str, Any] | None = None,
    json_path: str | Path | None = None,
    print_table: bool = True,
) -> dict[str, Any]:
    """Build the result, write it to ``json_path`` (default ``<output_dir>/lockbench-result.json``)
    and print the table. Returns the result document."""
    output_dir = Path(output_dir)
    result = build_result(
        output_dir,
        rescore=rescore,
        base_dir=Path(base_dir) if base_dir else None,
        lock_card=lock_card,
        judge=judge,
    )
    target = Path(json_path) if json_path else output_dir / "lockbench-result.json"
    write_json_atomic(target, result)
    if print_table:
        from lockbench.results.table import print_result

        print_result(result)
        print(f"wrote {target}")
    return result
