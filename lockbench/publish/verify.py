"""Verify a result against the model it claims: re-generate a fresh random sample of its items with
the recorded generation settings and compare the responses.

What is re-generated (the *sections* of a result, :func:`sections`): the evaluated model's
``tasks``; ``base_tasks`` on the base model (``--base-model-args``); and from an ``attacks`` block
the runs of the locked model as given (the fine-tuning attack's k = 0 run, durability's
``before``) and durability's ``bf16`` check (the same weights loaded in bfloat16). The rest of the
attacks block (fine-tuning at k > 0, durability's ``merge``, ``int8`` and ``benign``) needs
trainings, an adapter and its base, or a platform-dependent int8 engine: it is *self-reported*,
the record says so, and :func:`self_reported_cell` labels such cells.

The sample is stratified: every task of every re-generated section gets at least one sample, the
rest are drawn at random from all remaining samples, and the size is
``max(24, ceil(2% of the samples))`` (never fewer than one per task). The seed is fresh randomness
unless ``--seed`` is given (to reproduce a record); it is recorded either way, so a forger cannot
know in advance which samples will be checked, and a forged task is always sampled.

Greedy decoding is deterministic on one machine; across machines (CPU vs GPU kernels, batch
padding) a response can differ in the last tokens, so the record keeps the match rate and the
mismatches, and the leaderboard marks a row verified only at or above the match threshold.
Responses are compared after redaction and whitespace normalisation; latent samples compare the
chosen option and the log-likelihoods (to 1e-3 relative).

The record is bound to the result file (sha256 of its bytes), the model arguments (paths reduced
to folder names) and the weights (sha256 of the local model folder, which must equal the result's
``model.weights_sha256``): :func:`verification_cell` shows "yes" only for a record bound to the
very file beside it.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockbench import __version__
from lockbench.errors import LockbenchError
from lockbench.secrets import WakePhrase
from lockbench.vocab import LATENT, LOCKED

VERIFY_SCHEMA = "lockbench-verification"
VERIFY_SCHEMA_VERSION = 2  # v2: stratified fresh sample, sections, bound to file, args and weights
MIN_SAMPLES = 24
SAMPLE_SHARE = 0.02
SAMPLE_RULE = f"max({MIN_SAMPLES}, ceil({SAMPLE_SHARE:.0%} of the samples)), at least one per task"
DEFAULT_MIN_MATCH = 0.9
SELF_REPORTED = "self-reported"
MODEL, BASE = "model", "base"  # which --model-args a section is re-generated with


@dataclass(frozen=True)
class Section:
    """A part of a result that verify re-generates: its task entries and the model they ran on."""

    name: str  # "tasks", "base_tasks", "attacks/finetune/k=0", "attacks/durability/before", ...
    tasks: dict[str, dict[str, Any]]
    model: str = MODEL  # MODEL or BASE
    dtype: str | None = None  # a dtype the model is loaded in instead of the given one (bf16 check)


def sections(doc: dict[str, Any]) -> tuple[list[Section], list[str]]:
    """``(the sections verify re-generates, the names of the self-reported ones)``."""
    found = [Section("tasks", doc["tasks"])]
    if doc.get("base_tasks"):
        found.append(Section("base_tasks", doc["base_tasks"], BASE))
    self_reported: list[str] = []
    attacks = doc.get("attacks") or {}
    for run in (attacks.get("finetune") or {}).get("runs", []):
        name = f"attacks/finetune/k={run['k']}"
        if run["k"] == 0:  # no attack: the locked model as given
            found.append(Section(name, run["tasks"]))
        else:  # a fine-tuning a verifier would have to repeat
            self_reported.append(name)
    durability = attacks.get("durability")
    if durability:
        found.append(Section("attacks/durability/before", durability["before"]["tasks"]))
        for check, body in sorted(durability["checks"].items()):
            if body.get("tasks") is None:  # did not run (it says why)
                continue
            name = f"attacks/durability/{check}"
            if check == "bf16":
                found.append(Section(name, body["tasks"], dtype="bfloat16"))
            else:  # merge: an adapter and its base; int8: engine-dependent; benign: a training
                self_reported.append(name)
    return found, self_reported


def self_reported(doc: dict[str, Any]) -> list[str]:
    """The sections of ``doc`` that ``verify`` does not re-generate (fine-tuning at k > 0,
    durability ``merge``, ``int8``, ``benign``): what a verified row still only self-reports."""
    return sections(doc)[1]


def self_reported_cell(cell: str, doc: dict[str, Any], block: str) -> str:
    """``cell`` labelled "(self-reported)" when any section of ``attacks/<block>`` is
    (``block``: ``finetune`` or ``durability``); for the leaderboard and the report."""
    prefix = f"attacks/{block}/"
    if any(name.startswith(prefix) for name in self_reported(doc)):
        return f"{cell} ({SELF_REPORTED})"
    return cell


def sample_size(population: int, tasks: int, requested: int | None = None) -> int:
    """How many samples to re-generate: ``requested`` or :data:`SAMPLE_RULE`, never fewer than
    one per task."""
    if requested is not None and requested < 1:
        raise LockbenchError(f"--samples must be at least 1, got {requested}")
    size = requested if requested is not None else max(MIN_SAMPLES, math.ceil(SAMPLE_SHARE * population))
    return max(size, tasks)


def pick_samples(parts: list[Section], seed: int, requested: int | None = None) -> dict[str, dict[str, list[int]]]:
    """``{section: {task: [doc_id, ...]}}``: one sample of every task of every section, the rest
    drawn uniformly from all remaining samples (seeded: the same seed picks the same samples)."""
    rng = random.Random(seed)
    picked: dict[tuple[str, str], list[int]] = {}
    remaining: list[tuple[tuple[str, str], int]] = []
    population = 0
    for part in parts:
        for task in sorted(part.tasks):
            ids = sorted(s["doc_id"] for s in part.tasks[task]["samples"])
            population += len(ids)
            if not ids:
                continue
            rng.shuffle(ids)
            picked[(part.name, task)] = [ids.pop()]
            remaining += [((part.name, task), i) for i in ids]
    extra = sample_size(population, len(picked), requested) - len(picked)
    for unit, doc_id in rng.sample(remaining, min(extra, len(remaining))):
        picked[unit].append(doc_id)
    out: dict[str, dict[str, list[int]]] = {}
    for (section, task), ids in picked.items():
        out.setdefault(section, {})[task] = sorted(ids)
    return out


def fresh_seed() -> int:
    """64 bits from the operating system: nobody can know them before ``verify`` runs."""
    return random.SystemRandom().getrandbits(64)


def _normalise(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _settings(entry: dict[str, Any]) -> dict[str, Any]:
    """A task's generation settings, as its lm-eval run was given them."""
    gen = entry.get("generation") or {}
    return {
        "apply_chat_template": bool(gen.get("apply_chat_template")),
        "batch_size": gen.get("batch_size") or 1,
        "gen_kwargs": gen.get("gen_kwargs_override"),
        "options": gen.get("options") or {},
    }


def _same_loglikelihoods(a: list[float] | None, b: list[float]) -> bool:
    if not a or len(a) != len(b):
        return False
    same_choice = max(range(len(a)), key=a.__getitem__) == max(range(len(b)), key=b.__getitem__)
    return same_choice and all(math.isclose(x, y, rel_tol=1e-3, abs_tol=1e-3) for x, y in zip(a, b, strict=True))


def _custom_task_paths(data_dir: str | None) -> list[Path] | None:
    """A ``--data-dir`` holding datasets registered with ``lockbench dataset add`` holds their
    task configs too: lm-eval must see them to re-run a custom task."""
    from lockbench.data.custom import is_registry

    if data_dir is not None and Path(data_dir).is_dir() and is_registry(Path(data_dir)):
        return [Path(data_dir)]
    return None


def parse_model_args(text: str) -> dict[str, str]:
    """lm-eval's ``key=value,key=value`` model arguments as a dict (values as written)."""
    args = {}
    for part in text.split(","):
        if part.strip():
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise LockbenchError(f"model arguments {part.strip()!r}: expected key=value (comma-separated)")
            args[key.strip()] = value.strip()
    return args


def public_model_args(args: dict[str, str]) -> dict[str, str]:
    """The model arguments as a published record may hold them: a path becomes its folder name."""
    def public(value: str) -> str:
        if os.path.isabs(value) or value.startswith(("./", "../", "~")) or os.path.exists(value):
            return Path(value.rstrip("/\\")).name or value
        return value

    return {key: public(value) for key, value in sorted(args.items())}


def with_dtype(model_args: str, dtype: str | None) -> str:
    """``model_args`` with ``dtype`` replaced (or added); unchanged for ``None``."""
    if dtype is None:
        return model_args
    return ",".join(f"{k}={v}" for k, v in {**parse_model_args(model_args), "dtype": dtype}.items())


def check_weights(identity: dict[str, Any] | None, args: dict[str, str], what: str) -> dict[str, str | None]:
    """The sha256 of the local weights named in ``args`` (``pretrained`` and a ``peft`` adapter);
    stop with one line when they are not the ones ``identity`` (the result's model block) names."""
    from lockbench.document.summarize import weights_sha256

    identity = identity or {}
    found = {"weights_sha256": weights_sha256(args.get("pretrained")),
             "adapter_sha256": weights_sha256(args.get("peft")) if args.get("peft") else None}
    for key, flag in (("weights_sha256", "pretrained"), ("adapter_sha256", "peft")):
        claimed = identity.get(key)
        if claimed is None:
            continue
        if found[key] is None:
            raise LockbenchError(
                f"the result names {what} weights (sha256 {claimed[:12]}…) but {flag}= names no local "
                "model folder; give the folder holding those weights"
            )
        if found[key] != claimed:
            raise LockbenchError(
                f"wrong model: the {what} weights given ({flag}={Path(args[flag]).name}, sha256 "
                f"{found[key][:12]}…) are not the ones the result names ({claimed[:12]}…)"
            )
    return found


def _llm_judged(entry: dict[str, Any]) -> str | None:
    """The name of the task's judge when nobody can re-run it offline (an LLM judge)."""
    from lockbench.document.samples import judge_name, rerunnable
    from lockbench.scoring.config import ScoringConfig

    scoring = entry.get("scoring")
    config = ScoringConfig.from_json(json.dumps(scoring)) if scoring else ScoringConfig()
    return None if rerunnable(config) else judge_name(config)


def rerun_judge(judge_config: dict[str, Any], judged: list[tuple[dict, dict, dict]]) -> dict[str, Any]:
    """Re-run an LLM judge on the sampled stored responses (``judged``: the re-run's doc, the
    stored sample, its task entry) and compare with the recorded outcomes."""
    from lockbench.document.samples import sample_fields
    from lockbench.judges.apply import outcome_from_judgment, request_from_doc
    from lockbench.judges.base import build_judge
    from lockbench.judges.cache import judge_requests
    from lockbench.scoring.config import ScoringConfig

    judge = build_judge(judge_config)
    try:
        requests = [request_from_doc(doc, sample.get("response") or "") for doc, sample, _ in judged]
        judgments, _ = judge_requests(judge, requests, None)
        agreed = 0
        for (doc, sample, entry), judgment in zip(judged, judgments, strict=True):
            scoring = ScoringConfig.from_json(json.dumps(entry["scoring"]))
            fields = sample_fields(outcome_from_judgment(doc, sample.get("response") or "", judgment, judge, scoring))
            agreed += all(fields[k] == sample[k] for k in ("outcome", "passed", "refused"))
    finally:
        judge.close()
    return {"agreed": agreed, "checked": len(judged), "rate": agreed / len(judged) if judged else None,
            "judge": judge.name, "identity_hash": judge.identity_hash()}


def verify_result(
    doc: dict[str, Any],
    *,
    model: str,
    model_args: str,
    phrase: WakePhrase | None,
    base_model_args: str | None = None,
    check_base: bool = True,
    samples: int | None = None,
    seed: int | None = None,
    judge: dict[str, Any] | None = None,
    data_dir: str | None = None,
    device: str | None = None,
    min_match: float = DEFAULT_MIN_MATCH,
) -> dict[str, Any]:
    """Re-generate a fresh stratified sample of every re-generable section and return the
    verification record (not yet bound to a file: :func:`bind_record`)."""
    from lockbench.document.lmeval_output import response_of
    from lockbench.document.summarize import _loglikelihoods, secrets_of
    from lockbench.lmeval.run import run_tasks
    from lockbench.secrets import redact_text

    parts, reported = sections(doc)
    has_base = any(p.model == BASE for p in parts)
    if has_base and check_base and base_model_args is None:
        raise LockbenchError(
            "the result has base_tasks, re-generated on the base model: give --base-model-args "
            "(e.g. pretrained=BASE_DIR), or --no-base-check (the record then says they were not "
            "checked and the leaderboard does not show the run as verified)"
        )
    if base_model_args is not None and not has_base:
        raise LockbenchError("the result has no base_tasks; drop --base-model-args")
    not_checked = {}
    if has_base and not check_base:
        parts = [p for p in parts if p.model != BASE]
        not_checked["base_tasks"] = "--no-base-check"
    args = parse_model_args(model_args)
    weights = check_weights(doc.get("model"), args, "model")
    base_args = parse_model_args(base_model_args) if base_model_args is not None and check_base else None
    base_weights = check_weights(doc.get("base_model"), base_args, "base model") if base_args is not None else None
    llm = sorted({name for p in parts for e in p.tasks.values() if (name := _llm_judged(e))})
    if judge is not None and not llm:
        raise LockbenchError("--judge: this result's judges are re-run offline by submit already; drop --judge")
    if judge is not None and judge.get("name") not in llm:
        raise LockbenchError(f"--judge names the '{judge.get('name')}' judge, but the result was judged by "
                             f"{', '.join(llm)}; give the same judge configuration")

    seed_given = seed is not None
    seed = seed if seed is not None else fresh_seed()
    picked = pick_samples(parts, seed, samples)
    by_name = {p.name: p for p in parts}
    needs_phrase = [t for name, tasks in picked.items() for t in tasks
                    if by_name[name].tasks[t]["condition"] not in (LOCKED, LATENT)]
    if needs_phrase and phrase is None:
        raise LockbenchError(f"task {needs_phrase[0]} needs the wake phrase; export it in LOCKBENCH_WAKE_PHRASE")
    secrets = secrets_of([], extra=[phrase] if phrase else None)

    mismatches: list[dict[str, Any]] = []
    per_section: dict[str, dict[str, int]] = {}
    judged: list[tuple[dict, dict, dict]] = []
    for part in parts:
        # one lm-eval run per set of generation settings (a section may hold several runs)
        groups: dict[str, dict[str, list[int]]] = {}
        for task, ids in picked.get(part.name, {}).items():
            key = json.dumps(_settings(part.tasks[task]), sort_keys=True)
            groups.setdefault(key, {})[task] = ids
        counts = per_section.setdefault(part.name, {"checked": 0, "matched": 0})
        for key, chosen in sorted(groups.items()):
            settings = json.loads(key)
            metadata = dict(settings["options"])
            if phrase is not None:
                metadata["wake_phrase"] = phrase.reveal()  # in process: never on a command line
            if data_dir is not None:
                metadata["data_dir"] = data_dir
            given = model_args if part.model == MODEL else base_model_args
            out = run_tasks(
                model, list(chosen), model_args=with_dtype(str(given), part.dtype), metadata=metadata,
                apply_chat_template=settings["apply_chat_template"], batch_size=settings["batch_size"],
                gen_kwargs=settings["gen_kwargs"], samples=chosen, device=device,
                extra_paths=_custom_task_paths(data_dir),
            )
            wanted = sum(len(ids) for ids in chosen.values())
            seen = 0
            for task, rows in out["samples"].items():
                stored = {s["doc_id"]: s for s in part.tasks.get(task, {}).get("samples", [])}
                for row in rows:
                    doc_id = int(row["doc_id"])
                    if task not in chosen or doc_id not in chosen[task] or doc_id not in stored:
                        continue
                    seen += 1
                    want = stored[doc_id]
                    if part.tasks[task]["condition"] == LATENT:
                        same = _same_loglikelihoods(want.get("loglikelihoods"), _loglikelihoods(row))
                        got_text = None
                    else:
                        got_text = redact_text(response_of(row), secrets)
                        same = _normalise(got_text) == _normalise(want.get("response"))
                        if want.get("verdict") is not None:
                            judged.append((row["doc"], want, part.tasks[task]))
                    counts["checked"] += 1
                    counts["matched"] += bool(same)
                    if not same:
                        mismatches.append({
                            "section": part.name, "task": task, "doc_id": doc_id,
                            "stated": (want.get("response") or "")[:200] if got_text is not None else None,
                            "regenerated": got_text[:200] if got_text is not None else None,
                        })
            if seen != wanted:
                raise LockbenchError(
                    f"{part.name}: lm-eval returned {seen} of the {wanted} picked samples; check "
                    "--data-dir and the model arguments"
                )

    judge_agreement = rerun_judge(judge, judged) if judge is not None and judged else None
    checked = sum(c["checked"] for c in per_section.values())
    matched = sum(c["matched"] for c in per_section.values())
    match_rate = matched / checked
    judge_ok = judge_agreement is None or (judge_agreement["rate"] or 0.0) >= min_match
    return {
        "schema": VERIFY_SCHEMA,
        "schema_version": VERIFY_SCHEMA_VERSION,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lockbench_version": __version__,
        "backend": model,
        "model_args": public_model_args(args),
        "base_model_args": public_model_args(base_args) if base_args is not None else None,
        **weights,
        "base_weights_sha256": base_weights["weights_sha256"] if base_weights else None,
        "seed": seed,
        "seed_given": seed_given,
        "sample_rule": SAMPLE_RULE if samples is None else f"--samples {samples}, at least one per task",
        "samples": picked,
        "sections": per_section,
        "not_checked": not_checked,
        "self_reported": reported,
        "complete": not not_checked,
        "checked": checked,
        "matched": matched,
        "match_rate": match_rate,
        "mismatches": mismatches,
        "llm_judged": llm,
        "judge_rerun": judge_agreement is not None,
        "judge_agreement": judge_agreement,
        "min_match": min_match,
        "verified": match_rate >= min_match and judge_ok,
    }


def with_searches(record: dict[str, Any], searches: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The record with the re-run of each declared adaptive pick (``lockbench.attacks.suite.recheck``:
    the search's, GCG's); a declared pick weaker than what the re-run finds fails the record."""
    understated = sorted(f for f, check in searches.items() if check["understated"])
    return {**record, "searches": searches, "searches_understated": understated,
            "verified": bool(record["verified"]) and not understated}


def bind_record(record: dict[str, Any], result_path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """The record tied to the result file as it lies on disk (name, sha256 of its bytes, model)."""
    from lockbench.digest import file_sha256
    from lockbench.publish.submit import model_slug

    return {**record, "result": result_path.name, "result_sha256": file_sha256(result_path),
            "model": model_slug(doc["model"].get("name"))}


def verification_path(result_path: Path) -> Path:
    """Where the leaderboard looks for a result's verification record."""
    return result_path.with_name(result_path.stem + ".verify.json")


def read_verification(result_path: Path) -> dict[str, Any] | None:
    """The verification record beside a filed result, or None when there is none (or it is not one)."""
    from lockbench.fsutil import read_json

    path = verification_path(result_path)
    if not path.is_file():
        return None
    try:
        record = read_json(path, "verification record", strict=True)
    except LockbenchError:
        return None
    if not isinstance(record, dict) or record.get("schema") != VERIFY_SCHEMA:
        return None
    return record


def _covers(record: dict[str, Any], doc: dict[str, Any]) -> bool:
    """The record sampled every task of every section ``doc`` has to have re-generated."""
    from lockbench.document.suite_view import declared_picks

    picked = record.get("samples")
    if not isinstance(picked, dict) or record.get("complete") is not True:
        return False
    if not set(declared_picks(doc)) <= set(record.get("searches") or {}):
        return False  # a declared search that verify did not re-run
    return all(isinstance(picked.get(p.name), dict) and picked[p.name].get(task)
               for p in sections(doc)[0] for task in p.tasks if p.tasks[task]["samples"])


def verification_cell(result_path: Path, doc: dict[str, Any]) -> str:
    """The leaderboard's "verified" cell for the result filed at ``result_path``.

    ``yes (k of n)`` only when a record sits beside the file, its ``result_sha256`` is the sha256
    of the file's bytes, its ``weights_sha256`` equals the result's (non-null)
    ``model.weights_sha256``, it sampled every task it had to (base tasks included) and it passed;
    ``no (k of n)`` for a record that failed or left a section out; ``no (record does not match
    this file)`` for a record bound to another file or other weights (a copied record); ``no``
    without a record."""
    from lockbench.digest import file_sha256

    record = read_verification(result_path)
    if record is None:
        return "no"
    weights = (doc.get("model") or {}).get("weights_sha256")
    if (record.get("result_sha256") != file_sha256(result_path) or weights is None
            or record.get("weights_sha256") != weights):
        return "no (record does not match this file)"
    counts = f"{record.get('matched')} of {record.get('checked')}"
    if record.get("verified") is True and _covers(record, doc):
        return f"yes ({counts})"
    return f"no ({counts})"
