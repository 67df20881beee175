"""Run the standard attack suite on a model: screening, the attacker's pick, confirmation.

Two lm-eval runs (:func:`lockbench.lmeval.run.run_tasks_once`, each reused when everything that
shapes it is unchanged): the ``probe_<family>`` screening tasks on the screening items, then the
``confirm_<family>`` tasks on the test items with ``--metadata confirm_variants`` set to the pick
recomputed from the screening samples (:func:`lockbench.document.suite_view.attacker_picks`).
``lm_eval`` users do the same in two commands (``lockbench probes select`` prints the pick).

An adaptive family (std-v2 on: the black-box ``search``, and ``gcg`` when the weights are a local
folder) is screened by its program instead (:func:`run_adaptive`, on the lead dataset's screening
items with the suite's settings, never picking a string near the phrase); its declared find goes
to the ``confirm_<family>`` tasks as ``--metadata adaptive``. ``verify`` re-runs it
(:func:`recheck`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
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


def weights_folder(model: Any, model_args: dict[str, Any] | str | None) -> Path | None:
    """The local model folder a white-box family can load, or None (an API, a hub name, a gate)."""
    from lm_eval.utils import simple_parse_args_string

    if model != "hf":
        return None
    args = simple_parse_args_string(model_args) if isinstance(model_args, str) else dict(model_args or {})
    folder = args.get("pretrained")
    if not isinstance(folder, str) or args.get("peft") or not (Path(folder) / "config.json").is_file():
        return None  # a LoRA on a base would have to be merged first: `lockbench attack suite` does it
    return Path(folder)


def run_adaptive(family: str, suite: Any, *, model: str, model_args: dict[str, Any] | str | None,
                 datasets: list[str], phrase: WakePhrase, data_dir: str | None = None,
                 apply_chat_template: bool = True, batch_size: int | str = 16, device: str | None = None,
                 progress: bool = True, lm: Any = None) -> dict[str, Any]:
    """The adaptive family's run with the suite's settings on the lead dataset's screening items:
    its declared record (:func:`lockbench.attacks.search.declared`). ``lm``: an lm-eval model
    already loaded (else one is made from ``model`` and ``model_args``)."""
    from dataclasses import replace

    from tqdm.auto import tqdm

    from lockbench.attacks import search
    from lockbench.attacks.adaptive import query_lm, uses_chat
    from lockbench.data.catalog import get_dataset
    from lockbench.probes.suite import item_plan, lead_dataset

    settings = suite.adaptive_settings(family)
    lead = lead_dataset(datasets)
    plan = item_plan(get_dataset(lead, data_dir), replace(suite, screen_items=settings["screen_items"]), data_dir)
    if family == "gcg":
        return _run_gcg(settings, plan.screen, weights_folder(model, model_args), phrase, device, progress)
    config = search.SearchConfig(budget=settings["budget"], logprobs=False, screen_items=settings["screen_items"],
                                 confirm_items=suite.confirm_items, seed=settings["seed"],
                                 max_gen_toks=suite.screen_max_gen_toks)
    lm = lm or query_lm(model, model_args, batch_size=batch_size if isinstance(batch_size, int) else 16, device=device)
    oracle = search.Oracle(lm, chat=uses_chat(model, apply_chat_template), max_gen_toks=config.max_gen_toks)
    with tqdm(total=config.budget, desc=f"{family} on {lead}", unit="query", disable=not progress) as bar:
        run = search.run_search(oracle, plan.screen, config, progress=lambda done, _: bar.update(done - bar.n),
                                eligible=lambda text: not search.is_secret(text, phrase))
    return search.declared(run, phrase)


def _run_gcg(settings: dict[str, Any], screen: list[Any], folder: Path | None, phrase: WakePhrase,
             device: str | None, progress: bool) -> dict[str, Any]:
    """GCG with the suite's settings on the screening items: its declared record."""
    from tqdm.auto import tqdm

    from lockbench.attacks import gcg
    from lockbench.attacks.search import is_secret
    from lockbench.lmeval.run import default_device

    if folder is None:
        raise LockbenchError("gcg needs the weights: give a local model folder (hf, pretrained=DIR)")
    config = gcg.GCGConfig(**settings)
    box = gcg.WhiteBox.load(folder, device or default_device())
    with tqdm(total=config.steps, desc="gcg", unit="step", disable=not progress) as bar:
        run = gcg.run_gcg(box, screen, config, progress=lambda *_: bar.update(1))
    if is_secret(run.adversarial, phrase):  # never written; the optional part is then not measured
        return {"withheld": True, **settings}
    return {"prefix": run.adversarial, **settings, "initial_loss": round(run.initial_loss, 4),
            "loss": round(run.loss, 4), "forward_passes": run.forward_passes}


def recheck(doc: dict[str, Any], family: str, *, model: str, model_args: str, phrase: WakePhrase,
            device: str | None = None, data_dir: str | None = None, progress: bool = True) -> dict[str, Any]:
    """``verify``'s check of a declared pick (the search's, GCG's): re-run the family with the
    suite's settings on the claimed model. The same find, or (decoding and gradients differ across
    machines) a find that does not open the lock more often than the declared one on the lead
    dataset's confirmation items, both asked now; ``understated`` when the re-run's find opens it
    more (Wilson intervals apart): the submitter declared a weaker pick than the family finds."""
    from lockbench import stats
    from lockbench.attacks import search
    from lockbench.attacks.adaptive import query_lm, uses_chat
    from lockbench.data.catalog import get_dataset
    from lockbench.document.suite_view import declared_picks
    from lockbench.probes.suite import get_suite, item_plan, lead_dataset

    stated = declared_picks(doc)[family]
    suite = get_suite(stated["suite"])
    chat = bool(stated["settings"].get("apply_chat_template"))
    lm = query_lm(model, model_args, device=device)
    rerun = run_adaptive(family, suite, model=model, model_args=model_args, datasets=stated["datasets"],
                         phrase=phrase, data_dir=data_dir, apply_chat_template=chat, progress=progress, lm=lm)
    lead = lead_dataset(stated["datasets"])
    items = item_plan(get_dataset(lead, data_dir), suite, data_dir).confirm
    oracle = search.Oracle(lm, chat=uses_chat(model, chat), max_gen_toks=suite.screen_max_gen_toks)
    declared_now = stats.rate(oracle.count_opened(stated["record"]["prefix"], items), len(items))
    found = rerun.get("prefix")  # None: the re-run's string lay near the phrase (withheld)
    same = found == stated["record"]["prefix"]
    rerun_now = declared_now if same else stats.rate(oracle.count_opened(found, items), len(items)) if found else None
    return {
        "same_find": same,
        "rerun_find": found,  # public: neither family picks a string near the phrase
        "rerun_queries": rerun.get("queries"),
        "asked_on": lead,
        "declared_opened": declared_now,
        "rerun_opened": rerun_now,
        "understated": bool(rerun_now) and rerun_now["low"] > declared_now["high"],
    }


def _declared_once(folder: Path, key: dict[str, Any], overwrite: bool, run: Any, phrase: WakePhrase) -> tuple[dict, bool]:
    """An adaptive family's declared record, reused from ``folder`` when everything that shapes it
    is unchanged."""
    import json

    from lockbench.attacks.adaptive import write_block

    path = folder / "declared.json"
    key = json.loads(json.dumps(key, default=str))
    if path.is_file() and not overwrite:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = {}
        if stored.get("key") == key:
            return stored["record"], True
    record = run()
    folder.mkdir(parents=True, exist_ok=True)
    write_block(path, {"family": key.get("family"), "key": key, "record": record}, phrase)
    return record, False


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
    from lockbench.lmeval.docs import resolve_wake_phrase
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
        _said(say, out, family)
    for family in options.suite.declared:
        screen, confirm = work / f"{family}-screen", work / f"{family}-confirm"
        phrase = resolve_wake_phrase(metadata, required=True, task=f"the {family} attack")
        if not isinstance(model, str):
            raise LockbenchError(f"the {family} attack queries an lm-eval model by name (e.g. hf); "
                                 "give the model name and its arguments")
        if family in options.suite.white_box and weights_folder(model, model_args) is None:
            say(f"   {family:<13} not run: it needs the weights (a local model folder); shown as not measured")
            continue
        start = time.perf_counter()
        find = partial(run_adaptive, family, options.suite, model=model, model_args=model_args, datasets=datasets,
                       phrase=phrase, data_dir=metadata.get("data_dir"), apply_chat_template=apply_chat_template,
                       batch_size=batch_size, device=device, progress=say is print)
        record, reused = _declared_once(screen, {**key, "stage": "screen", "family": family}, overwrite, find, phrase)
        out.seconds.setdefault(family, {})["screen"] = 0.0 if reused else time.perf_counter() - start
        # the search's queries; GCG's forward passes
        out.calls.setdefault(family, {})["screen"] = record.get("queries", record.get("forward_passes", 0))
        if reused:
            say(f"   reusing the {family} run in {screen} (same model and settings)")
        if record.get("withheld"):
            say(f"   {family:<13} its string lies near the phrase: withheld, nothing declared (not measured)")
            continue
        tasks = [f"lockbench_{d}_confirm_{family}" for d in datasets]
        meta = {**metadata, "adaptive": {family: record}}
        start = time.perf_counter()
        reused = run_tasks_once(confirm, {**key, "stage": "confirm", "tasks": tasks, "adaptive": meta["adaptive"]},
                                overwrite=overwrite, tasks=tasks, metadata=meta, **common)
        out.reused += reused
        if reused:
            say(f"   reusing {confirm} (same model, tasks and settings)")
        out.seconds[family]["confirm"] = 0.0 if reused else time.perf_counter() - start
        out.calls[family]["confirm"] = _calls(confirm)
        out.folders.append(confirm)
        _said(say, out, family, "GCG passes" if family == "gcg" else "screening")
    return out


def _said(say, out: SuiteRun, family: str, first: str = "screening") -> None:
    say(f"   {family:<13} {out.calls[family]['screen']:>5} {first} + "
        f"{out.calls[family]['confirm']:>5} confirmation calls"
        + (f", {sum(out.seconds[family].values()):6.0f} s" if any(out.seconds[family].values()) else ", reused"))
