"""Verify a result against the model it claims: re-generate a seeded sample of its items with the
recorded generation settings and compare the responses.

Greedy decoding is deterministic on one machine; across machines (CPU vs GPU kernels, batch
padding) a response can differ in the last tokens, so the record keeps the match rate and the
mismatches, and the leaderboard marks a row verified only at or above the match threshold.
Responses are compared after redaction and whitespace normalisation; latent samples compare
the chosen option and the log-likelihoods (to 1e-3 relative).
"""

from __future__ import annotations

import math
import random
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockbench import __version__
from lockbench.errors import LockbenchError
from lockbench.vocab import LATENT, LOCKED

VERIFY_SCHEMA = "lockbench-verification"
DEFAULT_SAMPLES = 24
DEFAULT_MIN_MATCH = 0.9


def pick_samples(doc: dict[str, Any], n: int, seed: int) -> dict[str, list[int]]:
    """``{task: [doc_id, ...]}``: ``n`` samples spread round-robin over the tasks (seeded)."""
    if n < 1:
        raise LockbenchError(f"--samples must be at least 1, got {n}")
    rng = random.Random(seed)
    pools = {}
    for task, entry in sorted(doc["tasks"].items()):
        ids = [s["doc_id"] for s in entry["samples"]]
        rng.shuffle(ids)
        pools[task] = ids
    picked: dict[str, list[int]] = {task: [] for task in pools}
    while n > 0 and any(pools.values()):
        for task in sorted(pools):
            if n and pools[task]:
                picked[task].append(pools[task].pop())
                n -= 1
    return {task: sorted(ids) for task, ids in picked.items() if ids}


def _normalise(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _settings(doc: dict[str, Any]) -> dict[str, Any]:
    """The run-wide generation settings (the same for every task of one lm-eval run)."""
    gens = [entry.get("generation") or {} for entry in doc["tasks"].values()]
    first = gens[0] if gens else {}
    options: dict[str, Any] = {}
    for gen in gens:
        options.update(gen.get("options") or {})
    return {
        "apply_chat_template": bool(first.get("apply_chat_template")),
        "batch_size": first.get("batch_size") or 1,
        "gen_kwargs": first.get("gen_kwargs_override"),
        "options": options,
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


def verify_result(
    doc: dict[str, Any],
    *,
    model: str,
    model_args: str,
    phrase: str | None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    data_dir: str | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Re-generate the picked samples and return the verification record."""
    from lockbench.lmeval.run import run_tasks
    from lockbench.results.summarize import _loglikelihoods, secrets_of
    from lockbench.secrets import redact_text

    picked = pick_samples(doc, samples, seed)
    needs_phrase = [t for t in picked if doc["tasks"][t]["condition"] not in (LOCKED, LATENT)]
    if needs_phrase and phrase is None:
        raise LockbenchError(
            f"task {needs_phrase[0]} needs the wake phrase; export it in LOCKBENCH_WAKE_PHRASE"
        )
    settings = _settings(doc)
    metadata = dict(settings["options"])
    if phrase is not None:
        metadata["wake_phrase"] = phrase
    if data_dir is not None:
        metadata["data_dir"] = data_dir
    out = run_tasks(
        model,
        list(picked),
        model_args=model_args,
        metadata=metadata,
        apply_chat_template=settings["apply_chat_template"],
        batch_size=settings["batch_size"],
        gen_kwargs=settings["gen_kwargs"],
        samples=picked,
        device=device,
        extra_paths=_custom_task_paths(data_dir),
    )
    secrets = secrets_of([], extra=[phrase] if phrase else None)
    stored = {
        (task, s["doc_id"]): s for task, entry in doc["tasks"].items() for s in entry["samples"]
    }
    mismatches = []
    checked = 0
    for task, rows in out["samples"].items():
        for row in rows:
            key = (task, int(row["doc_id"]))
            if key not in stored:
                continue
            checked += 1
            want = stored[key]
            if doc["tasks"][task]["condition"] == LATENT:
                same = _same_loglikelihoods(want.get("loglikelihoods"), _loglikelihoods(row))
                got_text = None
            else:
                from lockbench.results.lmeval_output import response_of

                got_text = redact_text(response_of(row), secrets)
                same = _normalise(got_text) == _normalise(want.get("response"))
            if not same:
                mismatches.append({
                    "task": task,
                    "doc_id": key[1],
                    "stated": (want.get("response") or "")[:200] if got_text is not None else None,
                    "regenerated": got_text[:200] if got_text is not None else None,
                })
    wanted = sum(len(ids) for ids in picked.values())
    if checked != wanted:
        raise LockbenchError(
            f"lm-eval returned {checked} of the {wanted} picked samples; check --data-dir and the "
            "model arguments"
        )
    return {
        "schema": VERIFY_SCHEMA,
        "schema_version": 1,
        "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "lockbench_version": __version__,
        "seed": seed,
        "samples": picked,
        "checked": checked,
        "matched": checked - len(mismatches),
        "match_rate": (checked - len(mismatches)) / checked,
        "mismatches": mismatches,
    }


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
