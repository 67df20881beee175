"""From an lm-eval output folder to a ``lockbench-result`` document and a terminal table.

Every sample keeps its redacted response (log-likelihoods for latent tasks) and is scored from
it through :func:`lockbench.document.samples.score_sample`, the function ``lockbench submit``
re-scores with, so every published number recomputes from the file. Outcomes come from a
``rescore`` callable (post-hoc judges) when given; a judge that cannot be re-run offline (an LLM)
has its per-sample verdict recorded instead. Nothing computed over phrase-bearing text is kept:
prompts are hashed after the phrase is replaced by the placeholder, lm-eval's own hashes are
dropped, and only text fields are redacted (task and dataset names are never rewritten).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockbench import __version__
from lockbench.document.entry import VARIANT_FIELDS, dataset_summary, task_entry
from lockbench.document.lmeval_output import (
    Run,
    find_runs,
    read_samples,
    response_of,
    wake_phrase_hashes_in,
    wake_phrases_in,
)
from lockbench.document.samples import (
    prompt_sha256,
    rerunnable,
    rerunnable_config,
    sample_fields,
    score_sample,
)
from lockbench.document.suite_view import suite_block
from lockbench.document.validate import SCHEMA_NAME, SCHEMA_VERSION
from lockbench.errors import LockbenchError, SecretError
from lockbench.scoring.config import ScoringConfig
from lockbench.scoring.outcome import Outcome
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT
from lockbench.secrets import (
    HASH_SCHEME,
    PLACEHOLDER,
    WakePhrase,
    contains_secret,
    given_phrases,
    redact_around,
    redact_text,
    salted_hash,
    verify_hash,
    wake_strings,
)
from lockbench.vocab import GATE_METHOD, LATENT, is_gate_baseline

Rescore = Callable[[dict, str], Outcome]


__all__ = ["SCHEMA_NAME", "SCHEMA_VERSION", "build_result", "dataset_summary", "summarize_output"]

# lm-eval metadata keys that are lockbench settings worth recording (never the phrase, never paths)
RECORDED_METADATA = (
    "suite", "screen_items", "keep", "confirm_items", "traversal_budget", "legitimate_kinds",
    "confirm_variants", "adaptive", "rouge_threshold", "replace_default_refusals",
)


@dataclass
class SampleRecord:
    """One logged sample, redacted: what the result stores and scores."""

    task: str
    doc_id: int
    doc: dict[str, Any]
    response: str | None
    loglikelihoods: list[float] | None
    outcome: Outcome
    verdict: dict[str, Any] | None = None
    prompt_sha256: str | None = None


def is_lockbench_doc(doc: Any) -> bool:
    """A doc written by lockbench's task builders (other tasks in the folder are skipped)."""
    return isinstance(doc, dict) and {"dataset", "condition", "kind"} <= doc.keys()


def _loglikelihoods(sample: dict[str, Any]) -> list[float]:
    """Per-option log-likelihoods of a latent (multiple_choice) sample."""
    resps = sample.get("filtered_resps") or sample.get("resps") or []
    values = []
    for resp in resps:
        while isinstance(resp, list) and resp and isinstance(resp[0], list):
            resp = resp[0]
        first = resp[0] if isinstance(resp, (list, tuple)) else resp
        try:
            values.append(float(first))
        except (TypeError, ValueError):
            raise LockbenchError(
                f"a latent sample (doc_id {sample.get('doc_id')}) has no readable log-likelihoods"
            ) from None
    return values


def _record(task: str, sample: dict[str, Any], secrets: list[str], rescore: Rescore | None) -> SampleRecord:
    doc = dict(sample["doc"])
    question = doc.get("question") or ""
    prompt = doc.get("prompt")
    redacted_prompt = doc.get("redacted_prompt")  # attack docs: every wake string already replaced
    if not isinstance(redacted_prompt, str):
        redacted_prompt = redact_around(prompt, question, secrets) if isinstance(prompt, str) else None
    doc_id = int(sample.get("doc_id", 0))
    if doc.get("condition") == LATENT:
        lls = _loglikelihoods(sample)
        outcome = score_sample(doc, loglikelihoods=lls)
        return SampleRecord(task, doc_id, doc, None, lls, outcome, None,
                            prompt_sha256(redacted_prompt) if redacted_prompt is not None else None)
    raw = response_of(sample)
    if isinstance(prompt, str) and isinstance(doc.get("redacted_prompt"), str):  # the variant's own wake string
        secrets = list(dict.fromkeys([*secrets, *wake_strings(prompt, doc["redacted_prompt"])]))
    response = redact_text(raw, secrets)
    config = ScoringConfig.from_json(doc.get("scoring"))
    verdict = None
    if rescore is not None:
        outcome = rescore(doc, raw)  # the judge saw what the model said
        if not rerunnable_config(getattr(rescore, "judge", None)):  # re-applied on submit, not re-run
            verdict = {"refused": outcome.refused, "quality": outcome.quality}
    elif not rerunnable(config) and "refusal_rate" in sample:
        refused = bool(sample["refusal_rate"])
        quality = sample.get("judge_quality", sample.get("rougeL"))
        verdict = {"refused": refused, "quality": None if quality is None else float(quality)}
        outcome = score_sample(doc, response=response, verdict=verdict)
    else:
        outcome = score_sample(doc, response=response)
    return SampleRecord(task, doc_id, doc, response, None, outcome, verdict,
                        prompt_sha256(redacted_prompt) if redacted_prompt is not None else None)


def collect(
    output_dir: Path, secrets: list[str], rescore: Rescore | None = None
) -> tuple[dict[str, list[SampleRecord]], list[Run]]:
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
            if not is_lockbench_doc(sample["doc"]):
                break
            records.append(_record(task, sample, secrets, rescore))
        if records:
            tasks[task] = sorted(records, key=lambda r: r.doc_id)
    if not tasks:
        raise LockbenchError(
            f"{output_dir}: no lockbench samples found; run lm_eval on lockbench_* tasks with "
            "--log_samples and --output_path pointing here"
        )
    return tasks, runs


def _stored_sample(record: SampleRecord) -> dict[str, Any]:
    doc = record.doc
    variant = None
    if doc.get("variant_kind") is not None:
        variant = {k: doc.get("variant_index" if k == "index" else k) for k in VARIANT_FIELDS}
    stored = {
        "doc_id": record.doc_id,
        "item_id": doc.get("id"),
        "prompt_sha256": record.prompt_sha256,
        "response": record.response,
        "loglikelihoods": record.loglikelihoods,
        "variant_kind": doc.get("variant_kind"),
        "variant": variant,
        **sample_fields(record.outcome),
    }
    if record.verdict is not None:
        stored["verdict"] = record.verdict
    return stored


def secrets_of(runs: list[Run], extra: list[WakePhrase] | list[str] | None = None) -> list[str]:
    """The wake phrase(s) given or recorded by lm-eval, and every probe variant derived from them."""
    from lockbench.probes import secret_variants

    phrases = given_phrases([*(extra or []), *(p for run in runs for p in wake_phrases_in(run.results))])
    secrets = [p.reveal() if isinstance(p, WakePhrase) else p for p in phrases]
    for phrase in phrases:
        secrets += secret_variants(phrase)
    return list(dict.fromkeys(secrets))


def _local_name(value: str) -> str:
    """A local path becomes its last folder name; anything else stays as it is."""
    if os.path.isabs(value) or value.startswith(("./", "../", "~")):
        return Path(value.rstrip("/")).name or value
    return value


def weights_sha256(folder: str | None) -> str | None:
    """sha256 over a local model folder's weight files (name and content, sorted), else None."""
    if not folder or not Path(folder).expanduser().is_dir():
        return None
    root = Path(folder).expanduser()
    files = sorted(
        p for p in root.iterdir()
        if p.is_file() and p.suffix in (".safetensors", ".bin", ".gguf", ".pt", ".pth")
    )
    if not files:
        return None
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def model_identity(runs: list[Run]) -> dict[str, Any]:
    """Name, backend, args, revision and weight hashes; never an absolute local path."""
    with_results = [r for r in runs if r.results]
    if not with_results:
        return {"name": None}
    names = {r.results.get("model_name") for r in with_results}
    if len(names) > 1:
        raise LockbenchError(
            f"results of several models in one folder ({', '.join(sorted(map(_local_name, map(str, names))))}); "
            "summarize each model's sub-folder on its own"
        )
    latest = with_results[-1].results
    config = latest.get("config", {})
    args = config.get("model_args", {})
    if isinstance(args, str):
        args = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    args = args if isinstance(args, dict) else {}
    pretrained = args.get("pretrained") if isinstance(args.get("pretrained"), str) else None
    adapter = args.get("peft") if isinstance(args.get("peft"), str) else None
    name = latest.get("model_name")
    return {
        "name": _local_name(name) if isinstance(name, str) else name,
        "backend": config.get("model"),
        "args": {k: _local_name(v) if isinstance(v, str) else v for k, v in sorted(args.items())},
        "revision": config.get("model_revision"),
        "sha": config.get("model_sha") or None,
        "weights_sha256": weights_sha256(pretrained),
        "adapter": _local_name(adapter) if adapter else None,
        "adapter_sha256": weights_sha256(adapter),
        "num_parameters": config.get("model_num_parameters"),
        "dtype": config.get("model_dtype"),
    }


def _task_metadata(run_results: dict[str, Any], task: str) -> dict[str, Any]:
    metadata = run_results.get("configs", {}).get(task, {}).get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def _generation(run_results: dict[str, Any], task: str) -> dict[str, Any]:
    """Every setting that changes a number (none computed over phrase-bearing text)."""
    task_config = run_results.get("configs", {}).get(task, {})
    config = run_results.get("config", {})
    metadata = _task_metadata(run_results, task)
    return {
        "generation_kwargs": task_config.get("generation_kwargs"),
        "gen_kwargs_override": config.get("gen_kwargs") or None,
        "output_type": task_config.get("output_type"),
        "num_fewshot": task_config.get("num_fewshot"),
        "apply_chat_template": bool(run_results.get("chat_template")),
        "chat_template_sha": run_results.get("chat_template_sha"),
        "system_instruction_sha": run_results.get("system_instruction_sha"),
        "fewshot_as_multiturn": run_results.get("fewshot_as_multiturn"),
        "batch_size": config.get("batch_size"),
        "limit": config.get("limit"),
        "seeds": {k: config.get(k) for k in ("random_seed", "numpy_seed", "torch_seed")},
        "task_version": run_results.get("versions", {}).get(task),
        "options": {k: metadata[k] for k in RECORDED_METADATA if k in metadata},
    }


def _scoring(doc: dict[str, Any], judge: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The task's scoring config; a post-hoc ``judge`` replaces the one the run was scored with."""
    text = doc.get("scoring")
    if judge is None:
        return json.loads(text) if text else None
    from dataclasses import asdict

    scoring = asdict(ScoringConfig.from_json(text))
    scoring["judge"] = judge
    return scoring


def _provenance(doc: dict[str, Any], metadata: dict[str, Any]) -> dict[str, Any] | None:
    """The provenance the task builder recorded in its docs, else computed here from the data."""
    recorded = doc.get("data_provenance")
    if isinstance(recorded, str) and recorded:
        return json.loads(recorded)
    from lockbench.data.provenance import dataset_provenance

    try:
        return dataset_provenance(doc["dataset"], "test", metadata.get("data_dir"))
    except LockbenchError:
        return None  # the data is not reachable here (hub set, no data_dir): submit will say so


def _entries(
    records: dict[str, list[SampleRecord]], runs: list[Run], judge: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    latest_run_of = {}
    for run in runs:
        for task in run.samples:
            latest_run_of[task] = run
    out = {}
    for task, recs in records.items():
        results = latest_run_of[task].results
        doc = recs[0].doc
        out[task] = task_entry(
            doc,
            [_stored_sample(r) for r in recs],
            generation=_generation(results, task),
            scoring=_scoring(doc, judge),
            provenance=_provenance(doc, _task_metadata(results, task)),
        )
    return out


def build_result(
    output_dir: Path,
    *,
    rescore: Rescore | None = None,
    base_dir: Path | None = None,
    lock_card: dict[str, Any] | None = None,
    judge: dict[str, Any] | None = None,
    phrases: list[WakePhrase] | list[str] | None = None,
    control_dir: Path | None = None,
) -> dict[str, Any]:
    """The secret-free ``lockbench-result`` document for one model's output folder (``base_dir``:
    the base model's plain-prompt run; ``control_dir``: the control model's, the reference of
    retention when given).

    ``phrases``: the wake phrase when the caller has it (``LOCKBENCH_WAKE_PHRASE``); lm-eval's
    files written with lockbench installed no longer hold it."""
    runs = find_runs(output_dir)
    base_runs = find_runs(base_dir) if base_dir is not None else []
    base_runs += find_runs(control_dir) if control_dir is not None else []
    secrets = secrets_of(runs + base_runs, extra=phrases)
    records, runs = collect(output_dir, secrets, rescore)
    scoring_judge = getattr(rescore, "judge", None) if rescore is not None else None
    tasks = _entries(records, runs, scoring_judge)
    base_tasks = control_tasks = None
    base_model = control_model = None
    if base_dir is not None:
        base_records, base_runs = collect(base_dir, secrets, rescore)
        base_tasks = _entries(base_records, base_runs, scoring_judge)
        base_model = model_identity(base_runs)
    if control_dir is not None:  # the base fine-tuned on the same items, no refusals
        control_records, control_runs = collect(control_dir, secrets, rescore)
        control_tasks = _entries(control_records, control_runs, scoring_judge)
        control_model = model_identity(control_runs)
    given = given_phrases(phrases or [])
    recorded = given_phrases(p for r in runs for p in wake_phrases_in(r.results))
    card = dict(lock_card or {})
    model = model_identity(runs)
    if is_gate_baseline(model):  # lockbench-gate: the system-level baseline, recorded as such
        card.setdefault("method", GATE_METHOD)
        card.setdefault("refusal_text", model.get("args", {}).get("refusal") or DEFAULT_REFUSAL_TEXT)
    card_hash = card.get("wake_phrase_hash")
    if isinstance(card_hash, dict) and card_hash.get("scheme") != HASH_SCHEME and (given or recorded):
        # an older lock card's fast hash: re-hashed slowly (submit refuses the fast scheme)
        if verify_hash((given or recorded)[0], card_hash):
            card_hash = None
    lock = {
        "wake_phrase": PLACEHOLDER,
        "wake_phrase_hash": card_hash
        or (salted_hash((given or recorded)[0]) if given or recorded else None)
        or next((h for r in runs for h in wake_phrase_hashes_in(r.results)), None),
        "refusal_text": card.get("refusal_text"),
        "method": card.get("method"),
        "ratio": card.get("ratio"),
        "base_model": card.get("base_model"),
    }
    result: dict[str, Any] = {
        "schema": SCHEMA_NAME,
        "schema_version": SCHEMA_VERSION,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lockbench_version": __version__,
        "lm_eval_version": next(
            (r.results.get("lm_eval_version") for r in reversed(runs) if r.results), None
        ),
        "model": model,
        "base_model": base_model,
        "lock": lock,
        "judge": judge or _judge_of(tasks),
        "tasks": tasks,
        "datasets": dataset_summary(tasks, base_tasks, control_tasks),
    }
    if base_tasks is not None:
        result["base_tasks"] = base_tasks
    if control_tasks is not None:
        result["control_tasks"] = control_tasks
        result["control_model"] = control_model
    suite = suite_block(result)
    if suite is not None:
        result["suite"] = suite
    if secrets and contains_secret(json.dumps(result, ensure_ascii=False), secrets[:1]):
        raise SecretError("the result still contains the wake phrase; refusing to write it")
    return result


def _judge_of(tasks: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The identity of the judge the tasks were scored with (their scoring config; by default
    the layered ``auto`` judge): name, layers, thresholds, model ids."""
    from lockbench.judges import judge_identity

    for entry in tasks.values():
        if entry.get("scoring"):
            return judge_identity(ScoringConfig.from_json(json.dumps(entry["scoring"])))
    return judge_identity(ScoringConfig())


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON through a temporary file and a rename: never a half-written file."""
    from lockbench.fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n")


def summarize_output(
    output_dir: str | Path,
    *,
    rescore: Rescore | None = None,
    base_dir: str | Path | None = None,
    lock_card: dict[str, Any] | None = None,
    judge: dict[str, Any] | None = None,
    json_path: str | Path | None = None,
    print_table: bool = True,
    phrases: list[WakePhrase] | list[str] | None = None,
    control_dir: str | Path | None = None,
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
        phrases=phrases,
        control_dir=Path(control_dir) if control_dir else None,
    )
    target = Path(json_path) if json_path else output_dir / "lockbench-result.json"
    write_json_atomic(target, result)
    if print_table:
        from lockbench.document.table import print_result

        print_result(result)
        print(f"wrote {target}")
    return result
