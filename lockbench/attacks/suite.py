"""Run the standard attack suite on a model: screening, the attacker's pick, confirmation.

Two lm-eval runs (:func:`lockbench.lmeval.run.run_tasks_once`, each reused when everything that
shapes it is unchanged): the ``probe_<family>`` screening tasks on the screening items, then the
``confirm_<family>`` tasks on the test items with ``--metadata confirm_variants`` set to the pick
recomputed from the screening samples (:func:`lockbench.document.suite_view.attacker_picks`).
``lm_eval`` users do the same in two commands (``lockbench probes select`` prints the pick).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.secrets import WakePhrase


@dataclass
class SuiteRun:
    """Where each family's two stages went, what they cost, and the attacker's pick."""

    folders: list[Path] = field(default_factory=list)
    picks: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    calls: dict[str, dict[str, int]] = field(default_factory=dict)  # family -> stage -> calls
    seconds: dict[str, dict[str, float]] = field(default_factory=dict)  # 0 when reused
    reused: int = 0


def suite_tasks(datasets: list[str], families: tuple[str, ...], stage: str) -> list[str]:
    """``lockbench_<dataset>_{probe,confirm}_<family>`` for every dataset and family; a family
    screened once per run (traversal) is screened on the lead dataset only."""
    from lockbench.probes.suite import ONCE_PER_RUN, lead_dataset

    if stage == "confirm":
        return [f"lockbench_{d}_confirm_{f}" for f in families for d in datasets]
    lead = lead_dataset(datasets)
    return [f"lockbench_{d}_probe_{f}" for f in families for d in datasets
            if f not in ONCE_PER_RUN or d == lead]


def check_datasets(datasets: list[str], metadata: dict[str, Any]) -> None:
    """Every dataset can be attacked (its items load, screening is disjoint from the test items)
    before any model is loaded."""
    from lockbench.data.catalog import get_dataset
    from lockbench.probes.suite import ProbeOptions, item_plan

    options = ProbeOptions.from_metadata(metadata)
    for name in datasets:
        item_plan(get_dataset(name, metadata.get("data_dir")), options.suite, metadata.get("data_dir"))


def _calls(folder: Path) -> int:
    """Model calls an lm-eval output folder holds (its logged samples)."""
    from lockbench.document.lmeval_output import find_runs, read_samples

    return sum(len(read_samples(path)) for run in find_runs(folder) for path in run.samples.values())


def run_attack_suite(
    work: Path,
    *,
    model: Any,
    model_args: dict[str, Any] | str | None,
    identity: Any,
    datasets: list[str],
    metadata: dict[str, Any],
    apply_chat_template: bool = True,
    batch_size: int | str = 8,
    device: str | None = None,
    limit: int | None = None,
    overwrite: bool = False,
    phrases: list[WakePhrase] | list[str] | None = None,
    say=print,
) -> SuiteRun:
    """Per family: screen, pick, confirm (one lm-eval run each, so each family's cost is
    measured). ``identity`` names the model in the reuse keys (never a path or the phrase);
    ``metadata`` holds the wake phrase and any suite option (``suite``, sizes)."""
    from lockbench.document.suite_view import attacker_picks
    from lockbench.document.summarize import build_result
    from lockbench.lmeval.run import run_tasks_once
    from lockbench.probes.suite import ProbeOptions

    options = ProbeOptions.from_metadata(metadata)
    datasets = sorted(datasets)
    recorded = {k: v for k, v in metadata.items() if k not in ("wake_phrase", "wake_phrase_file")}
    common = dict(model=model, model_args=model_args, apply_chat_template=apply_chat_template,
                  limit=limit, batch_size=batch_size, device=device)
    key = {"model": identity, "datasets": datasets, "options": recorded, "limit": limit,
           "batch_size": batch_size, "chat": apply_chat_template,
           "suite": options.suite.describe()}  # a changed suite definition never reuses a run
    out = SuiteRun()
    for family in options.suite.families:
        # one folder per run, named uniquely: summaries link them side by side (fsutil.link_tree)
        screen, confirm = work / f"{family}-screen", work / f"{family}-confirm"
        for stage, folder in (("screen", screen), ("confirm", confirm)):
            tasks = suite_tasks(datasets, (family,), stage)
            meta = dict(metadata)
            if stage == "confirm":
                picks = attacker_picks(build_result(screen, phrases=phrases), datasets)
                missing = [d for d in datasets if family not in picks.get(d, {})]
                if missing:
                    raise LockbenchError(f"the {family} screening holds nothing to pick from for {missing[0]}")
                meta["confirm_variants"] = {d: {family: picks[d][family]} for d in datasets}
                for d in datasets:
                    out.picks.setdefault(d, {})[family] = picks[d][family]
            start = time.perf_counter()
            reused = run_tasks_once(folder, {**key, "stage": stage, "tasks": tasks,
                                             "confirm_variants": meta.get("confirm_variants")},
                                    overwrite=overwrite, tasks=tasks, metadata=meta, **common)
            out.reused += reused
            if reused:
                say(f"   reusing {folder} (same model, tasks and settings)")
            out.seconds.setdefault(family, {})[stage] = 0.0 if reused else time.perf_counter() - start
            out.calls.setdefault(family, {})[stage] = _calls(folder)
            out.folders.append(folder)
        say(f"   {family:<13} {out.calls[family]['screen']:>5} screening + "
            f"{out.calls[family]['confirm']:>5} confirmation calls"
            + (f", {sum(out.seconds[family].values()):6.0f} s" if any(out.seconds[family].values()) else ", reused"))
    return out
