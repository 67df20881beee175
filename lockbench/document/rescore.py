"""Re-derive a result from the responses it stores: every outcome re-scored with this lockbench's
rules (the opened event, ``no_content``, the judges), every count, rate, block and row rebuilt.

Where only scoring changed, nothing needs to run again: ``lockbench rescore OLD.json -o NEW.json``
turns a schema v2/v3 result (or a v4 one scored by older rules) into a current v4 document. Items
are bound to the public dataset as ``submit`` binds them (the judges read the question; an echo
of it is no content). Attack tasks written before the attack suite existed keep their samples and
stay ``suite: null``: a verifier cannot rebuild their schedule, so such a run is never ranked.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockbench.document.entry import dataset_summary, task_entry
from lockbench.document.recompute import Binding, _legacy_prefill, _rescore_doc
from lockbench.document.samples import sample_fields, score_sample
from lockbench.document.suite_view import suite_block
from lockbench.document.validate import SCHEMA_VERSION
from lockbench.vocab import LATENT

SECTIONS = ("tasks", "base_tasks", "control_tasks")
SAMPLE_KEYS = ("doc_id", "item_id", "prompt_sha256", "response", "loglikelihoods", "variant_kind", "variant")


def _rescore_task(entry: dict[str, Any], binding: Binding, where: str) -> dict[str, Any]:
    split = entry.get("split") or "test"
    spec, items, _ = binding.items(entry["dataset"], where, split)
    samples = []
    for old in sorted(entry["samples"], key=lambda s: int(s["doc_id"])):
        item = items.get(old["item_id"])
        if item is None:
            from lockbench.document.mismatch import Mismatch

            raise Mismatch(f"{where}: item {old['item_id']!r} is not in the {split} split of '{entry['dataset']}'")
        slot = _legacy_prefill(entry, old)
        if slot is None and entry.get("suite"):
            from lockbench.probes.suite import family_slots, get_suite

            family = entry["condition"].split("_", 1)[1]
            index = (old.get("variant") or {}).get("index")
            slots = family_slots(family, get_suite(entry["suite"]))
            slot = slots[index] if isinstance(index, int) and 0 <= index < len(slots) else None
        doc = _rescore_doc(entry, spec, item, slot)
        outcome = score_sample(doc, response=old.get("response"), loglikelihoods=old.get("loglikelihoods"),
                               verdict=old.get("verdict"))
        sample = {k: old.get(k) for k in SAMPLE_KEYS}
        sample.update(sample_fields(outcome))
        if old.get("verdict") is not None:
            sample["verdict"] = old["verdict"]
        if entry["condition"] == LATENT:
            sample["response"] = None
        samples.append(sample)
    meta = {k: entry.get(k) for k in ("dataset", "domain", "kind", "condition", "split", "suite")}
    return task_entry(meta, samples, generation=entry["generation"], scoring=entry.get("scoring"),
                      provenance=entry.get("provenance"))


def _rescore_tasks(tasks: dict[str, dict], binding: Binding, where: str) -> dict[str, dict]:
    return {name: _rescore_task(entry, binding, f"{where}/{name}") for name, entry in tasks.items()}


def _rescore_attacks(attacks: dict[str, Any], binding: Binding) -> dict[str, Any]:
    from lockbench.document.attacks import (
        durability_block,
        durability_check,
        finetune_block,
        finetune_run,
    )

    out: dict[str, Any] = {}
    if (block := attacks.get("finetune")) is not None:
        runs = [finetune_run(r["k"], r["steps"], _rescore_tasks(r["tasks"], binding, f"attacks/finetune/k={r['k']}"))
                for r in block["runs"]]
        out["finetune"] = finetune_block(runs, block["settings"])
    if (block := attacks.get("durability")) is not None:
        reference = _rescore_tasks(block["before"]["tasks"], binding, "attacks/durability/before")
        checks = {}
        for name, body in block["checks"].items():
            if body.get("tasks") is None:  # a check that did not run keeps its reason
                checks[name] = body
                continue
            tasks = _rescore_tasks(body["tasks"], binding, f"attacks/durability/{name}")
            checks[name] = {**durability_check(tasks, reference, body["settings"]),
                            **{k: body[k] for k in ("ran", "reason") if k in body}}
        out["durability"] = durability_block(reference, checks)
    return out


def rescore_document(doc: dict[str, Any], data_dir: str | Path | None = None) -> dict[str, Any]:
    """The current-version document of ``doc`` (schema-valid, any supported version), rebuilt
    from its stored responses; ``created_utc`` stays the run's, ``rescored_utc`` says when."""
    binding = Binding(data_dir)
    out = {k: v for k, v in doc.items() if k not in (*SECTIONS, "datasets", "suite", "attacks")}
    out["schema_version"] = SCHEMA_VERSION
    for section in SECTIONS:
        if doc.get(section) is not None:
            out[section] = _rescore_tasks(doc[section], binding, section)
    out["datasets"] = dataset_summary(out["tasks"], out.get("base_tasks"), out.get("control_tasks"))
    if (suite := suite_block(out)) is not None:
        out["suite"] = suite
    if doc.get("attacks"):
        out["attacks"] = _rescore_attacks(doc["attacks"], binding)
    from lockbench import __version__

    out["lockbench_version"] = __version__
    out["rescored_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def rescore_file(path: str | Path, data_dir: str | Path | None = None) -> dict[str, Any]:
    """Read, check and re-derive one result file (see :func:`rescore_document`)."""
    from lockbench.document.validate import DEFAULT_MAX_BYTES, validate_document
    from lockbench.fsutil import read_json

    doc = read_json(Path(path), "lockbench-result file", max_bytes=DEFAULT_MAX_BYTES, strict=True)
    doc = validate_document(doc, str(path), upgrade=True)
    out = rescore_document(doc, data_dir)
    validate_document(out, str(path))
    return out
