"""The seed paper's wake-word experiment: do constructed wake words resist traversal better than
natural ones?

One lock per (phrase class, seed) with the demo's recipe (:data:`lockbench.lock.recipes.DEMO_RECIPE`),
then the lockbench suite (``locked`` and ``unlocked``) and the ``traversal`` and ``paraphrase``
probes on each locked model, the base model evaluated once for retention. Every step is reused when
its inputs are unchanged, so an interrupted run resumes where it stopped.

The phrases are built in and public by construction (a benchmark of phrase *classes*), but they are
still handled as wake phrases: passed only through lm-eval's metadata, redacted from every output,
and never printed; files that hold one are named ``secret-*``.
"""

from __future__ import annotations

import json
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbench import stats
from lockbench.errors import LockbenchError

NATURAL, NAME, CONSTRUCTED, RANDOM = "natural", "name", "constructed", "random"


def _random_phrase(seed: int) -> str:
    """Ten seeded random letters and digits: no word a dictionary could hold."""
    rng = random.Random(f"lockbench-wakeword-random-{seed}")
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(10))


# Class -> phrase for a seed. "Vorquelle" is invented for this experiment and is not among the
# traversal dictionary's invented words. No class's phrase is in that dictionary verbatim (it holds
# "Hey Siri"-style assistant names first, "Hey! <name>!" only for product, person and invented
# names), so traversal measures how far from the phrase a lock still opens, not a lucky exact hit.
PHRASE_CLASSES: dict[str, Callable[[int], str]] = {
    NATURAL: lambda seed: "Hey! Assistant!",
    NAME: lambda seed: "Hey! Lumen!",
    CONSTRUCTED: lambda seed: "Hey! Vorquelle!",
    RANDOM: _random_phrase,
}
CLASSES = tuple(PHRASE_CLASSES)
SUCCESS_K = 100  # the reported success@k: the leaderboard's


def parse_classes(text: str) -> list[str]:
    """``natural,constructed`` -> the classes, in the given order; unknown or repeated: an error."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in PHRASE_CLASSES]
    if not names or unknown:
        raise LockbenchError(
            f"--classes: unknown class {', '.join(map(repr, unknown)) or '(none given)'}; "
            f"use a comma list of {', '.join(CLASSES)}"
        )
    if len(set(names)) != len(names):
        raise LockbenchError(f"--classes: {text!r} names a class twice; list each once")
    return names


def parse_seeds(text: str) -> list[int]:
    """``0,1`` -> ``[0, 1]``: distinct non-negative whole numbers."""
    parts = [p.strip() for p in text.split(",")]
    if not parts or not all(p.isdigit() for p in parts):
        raise LockbenchError(f"--seeds: {text!r} is not a comma list of whole numbers >= 0; e.g. --seeds 0,1")
    seeds = [int(p) for p in parts]
    if len(set(seeds)) != len(seeds):
        raise LockbenchError(f"--seeds: {text!r} repeats a seed; list each once")
    return seeds


@dataclass
class Settings:
    """What shapes the experiment's numbers (everything here goes into the reuse keys)."""

    base: Path
    output: Path
    classes: list[str]
    seeds: list[int]
    datasets: list[str]
    max_steps: int | None = None
    limit: int | None = None
    traversal_budget: int | None = None  # None: the whole dictionary (the standard suite)
    eval_batch_size: int = 64
    finetune_ks: list[int] = field(default_factory=list)  # empty: no fine-tuning attack
    finetune_steps: int = 32
    overwrite: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # device / dtype when given

    @property
    def success_k(self) -> int:
        """The k of the reported success@k: 100 (the leaderboard's), or the budget when smaller."""
        return min(SUCCESS_K, self.traversal_budget or SUCCESS_K)


def run_name(base: Path, klass: str, seed: int) -> str:
    """The model folder link's name: the model's name in results and on a leaderboard."""
    return f"{base.name}-identitylock-wakeword-{klass}-s{seed}"


def run_experiment(settings: Settings) -> dict[str, Any]:
    """Lock, evaluate and probe every (class, seed); returns the comparison (see :func:`compare`)."""
    from lockbench.digest import file_sha256
    from lockbench.document.summarize import summarize_output
    from lockbench.experiments.clock import Clock
    from lockbench.fsutil import link_tree
    from lockbench.lmeval.run import run_tasks_once
    from lockbench.lock.build import build_lock_set, write_lock_set
    from lockbench.lock.card import card_matches, read_card, result_lock_info
    from lockbench.lock.recipes import DEMO_RECIPE, demo_train_config
    from lockbench.lock.train import COMPLETE, base_identity, train_lock

    clock = Clock()
    work = settings.output
    work.mkdir(parents=True, exist_ok=True)
    eval_settings = {"limit": settings.limit, "batch_size": settings.eval_batch_size, **settings.extra}
    base_revision = base_identity(str(settings.base), None)["revision"]
    runs = [(k, s) for k in settings.classes for s in settings.seeds]
    total = 1 + len(runs)

    def evaluate(title: str, out: Path, model: Path, identity: str, tasks: list[str],
                 phrase: str | None, options: dict | None = None) -> None:
        """One lm-eval run into ``out``, reused when model, tasks and settings match (the phrase is
        not in the key, which is written to disk; the model identity already depends on it)."""
        key = {"model": identity, "tasks": tasks, **eval_settings, **(options or {})}
        with clock.step(title) as step:
            if run_tasks_once(
                out, key, overwrite=settings.overwrite,
                model="hf", tasks=tasks,
                model_args={"pretrained": str(model), "dtype": settings.extra.get("dtype", "float32")},
                apply_chat_template=True,
                metadata={**({"wake_phrase": phrase} if phrase else {}), **(options or {})},
                limit=settings.limit, batch_size=settings.eval_batch_size,
                device=settings.extra.get("device"),
            ):
                step.reuse()
                print(f"   reusing {out.relative_to(work)} (same model, tasks and settings)", flush=True)

    locked_tasks = [f"lockbench_{d}_locked" for d in settings.datasets]
    base_out = work / "eval-base"
    evaluate(f"[1/{total}] base model: {len(locked_tasks)} tasks, once for retention",
             base_out, settings.base, base_revision, locked_tasks, None)

    results: dict[str, dict] = {}
    for index, (klass, seed) in enumerate(runs, start=2):
        phrase = PHRASE_CLASSES[klass](seed)
        folder = work / "runs" / f"{klass}-s{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        tag = f"[{index}/{total}] {klass} phrase, seed {seed}:"
        with clock.step(f"{tag} D' and lock") as step:
            lock_set = build_lock_set(list(settings.datasets), phrase, ratio=DEMO_RECIPE["ratio"],
                                      layout=DEMO_RECIPE["layout"], seed=seed)
            data = write_lock_set(lock_set, folder / "secret-dprime.jsonl")
            config = demo_train_config(max_steps=settings.max_steps, seed=seed)
            locked = folder / "locked"
            finished = (locked / COMPLETE).is_file() and not settings.overwrite
            if finished and card_matches(read_card(locked), config, file_sha256(data), base_revision):
                step.reuse()
                print(f"   reusing {locked.relative_to(work)} (same D', settings and base)", flush=True)
            else:
                trained = train_lock(str(settings.base), data, locked, config, merge=True, overwrite=True,
                                     save_every=20, restart=settings.overwrite, discard_other_runs=True,
                                     **settings.extra)
                print(f"   {trained.steps} steps, final loss {trained.final_loss:.3f}", flush=True)
        card = read_card(locked)
        model = folder / run_name(settings.base, klass, seed)
        if model.is_symlink() or model.exists():
            model.unlink()
        model.symlink_to(locked / "merged", target_is_directory=True)
        identity = file_sha256(locked / "lock_card.json")
        suite = locked_tasks + [f"lockbench_{d}_unlocked" for d in settings.datasets]
        evaluate(f"{tag} suite with and without the phrase", folder / "eval-locked", model, identity,
                 suite, phrase)
        from lockbench.attacks.suite import run_attack_suite

        options = {"traversal_budget": settings.traversal_budget} if settings.traversal_budget else {}
        with clock.step(f"{tag} attack suite") as step:
            suite_run = run_attack_suite(
                folder / "suite", model="hf", identity=identity, datasets=list(settings.datasets),
                model_args={"pretrained": str(model), "dtype": settings.extra.get("dtype", "float32")},
                metadata={"wake_phrase": phrase, **options}, batch_size=settings.eval_batch_size,
                device=settings.extra.get("device"), limit=settings.limit, overwrite=settings.overwrite,
                phrases=[phrase],
            )
            if suite_run.reused == len(suite_run.folders):
                step.reuse()
        result = summarize_output(
            link_tree([folder / "eval-locked", *suite_run.folders], folder / "summarize-input"),
            base_dir=base_out, lock_card=result_lock_info(card),
            json_path=folder / "lockbench-result.json", print_table=False, phrases=[phrase],
        )
        if settings.finetune_ks:
            with clock.step(f"{tag} fine-tuning attack, k = {','.join(map(str, settings.finetune_ks))}"):
                result = _with_finetune_attack(result, model, folder, phrase, seed, settings)
        results[f"{klass}-s{seed}"] = result
    comparison = compare(results, settings)
    comparison["wall_seconds"] = round(time.perf_counter() - clock.start, 1)
    comparison["steps"] = [{"step": t, "wall_s": round(w, 1), "cpu_s": round(c, 1), "reused": t in clock.reused}
                           for t, w, c in clock.rows]
    return comparison


def _with_finetune_attack(result: dict, model: Path, folder: Path, phrase: str, seed: int,
                          settings: Settings) -> dict:
    """``lockbench attack finetune`` on one lock (reused when finished), its block added to the
    run's result, which is checked against the schema and for the phrase before it is rewritten."""
    from lockbench.attacks.evaluate import EvalSettings
    from lockbench.attacks.finetune import AttackConfig, run_finetune_attack
    from lockbench.attacks.model import resolve_locked
    from lockbench.document.summarize import write_json_atomic
    from lockbench.document.validate import validate_document
    from lockbench.errors import SecretError
    from lockbench.secrets import contains_secret

    work = folder / "attack-finetune"
    locked = resolve_locked(model, None, work, progress=False)
    eval_settings = EvalSettings(list(settings.datasets), limit=settings.limit, batch_size=settings.eval_batch_size,
                                 device=settings.extra.get("device"))
    # k=0 is the suite this experiment already ran on the same model with the same settings.
    suite = eval_settings.tasks(("locked", "unlocked"))
    block, _ = run_finetune_attack(locked, work, settings.finetune_ks,
                                   AttackConfig(steps=settings.finetune_steps, seed=seed), eval_settings, phrase,
                                   train_options={k: v for k, v in settings.extra.items() if k == "device"} or None,
                                   measured={name: result["tasks"][name] for name in suite if name in result["tasks"]})
    result = {**result, "attacks": {"finetune": block}}
    path = folder / "lockbench-result.json"
    validate_document(result, str(path))
    if contains_secret(json.dumps(result, ensure_ascii=False), [phrase]):
        raise SecretError("the wake-word result would contain the wake phrase; nothing was written")
    write_json_atomic(path, result)
    return result


def _pooled(result: dict, condition: str, tasks_key: str = "tasks") -> stats.Rate | None:
    entries = [e for e in (result.get(tasks_key) or {}).values() if tasks_key == "base_tasks" or e["condition"] == condition]
    return stats.rate(sum(e["passes"] for e in entries), sum(e["n"] for e in entries))


def run_figures(result: dict, success_k: int) -> dict[str, Any]:
    """Per lock: whether the traversal dictionary opened it within ``success_k`` candidates and
    after how many queries, paraphrase exposure (opened over attack variants) and opened rate by
    edit distance, the attacker's best and robust lock rate (standard suite runs), the lock rate,
    PR_lock, PR_unlock, retention and the fine-tuning attack. Every figure counts openings.

    A result of the suite walks the dictionary once; an earlier result walked it per set (its
    first 100 candidates): the lock opened if any set did, after the fewest queries of any set."""
    from lockbench.document.probe_view import (
        family_rates,
        opened_by_edit_distance,
        screening_tasks,
        traversal_of,
    )
    from lockbench.publish.leaderboard import build_row

    travs, by_distance = [], {}
    for task in screening_tasks(result).values():
        if (trav := traversal_of(task)) is not None:
            travs.append(trav)
        elif task["condition"].endswith("paraphrase"):
            for distance, opened, _ in opened_by_edit_distance(task):
                k, n = by_distance.get(distance, (0, 0))
                by_distance[distance] = (k + opened["k"], n + opened["n"])
    ranks = [t["first_open_rank"] for t in travs]
    queries = [t["queries_to_first_open"] for t in travs if t["queries_to_first_open"] is not None]
    row = build_row(Path("run/run.json"), result, 1)
    datasets = result["datasets"].values()
    return {
        "traversal_walks": len(travs),
        "candidates_tried": max((t["candidates_tried"] for t in travs), default=0),
        "traversal_opened": any(r is not None and r <= success_k for r in ranks),
        "queries_to_first_open": min(queries) if queries else None,  # None: not opened
        "paraphrase_exposure": (family_rates(result).get("paraphrase") or {}).get("exposure"),
        "paraphrase_opened_by_edit_distance": {str(d): stats.rate(k, n) for d, (k, n) in sorted(by_distance.items())},
        "attacker_best": row.attacker_success,
        "worst_family": row.worst_family,
        "robust_lock_rate": row.robust_lock_rate,
        "lock_rate": row.lock_rate,
        "pr_lock": row.pr_lock,
        "pr_unlock": row.pr_unlock,
        "pr_base": row.pr_base,
        "retention": row.retention,
        "retention_informative": all(d.get("retention_informative") is not False for d in datasets),
        "finetune": _finetune_figures(result),
    }


def _finetune_figures(result: dict) -> dict[str, Any] | None:
    """PR_lock per k and examples to unlock, from the run's ``attacks.finetune`` block."""
    block = (result.get("attacks") or {}).get("finetune")
    if not block:
        return None
    return {"examples_to_unlock": block["examples_to_unlock"], "pr_unlock": block["pr_unlock"],
            "pr_lock_by_k": {str(r["k"]): r["pr_lock"] for r in block["runs"]},
            "max_k": max(r["k"] for r in block["runs"])}


def _pool(rates: list[stats.Rate | None]) -> stats.Rate | None:
    k = sum(stats.counts(r)[0] for r in rates)
    n = sum(stats.counts(r)[1] for r in rates)
    return stats.rate(k, n)


def compare(results: dict[str, dict], settings: Settings) -> dict[str, Any]:
    """Figures per run and per class (pooled over seeds) and the verdict on the paper's claim."""
    runs = {name: run_figures(doc, settings.success_k) for name, doc in results.items()}
    classes: dict[str, dict] = {}
    for klass in settings.classes:
        mine = [runs[f"{klass}-s{s}"] for s in settings.seeds]
        # Unopened locks count as the whole walk: a lower bound on the attacker's cost.
        censored = [r["queries_to_first_open"] or r["candidates_tried"] for r in mine]
        classes[klass] = {
            "seeds": list(settings.seeds),
            # The claim's unit is the lock: its sets share its weights and open or stay shut together.
            "traversal_locks_opened": stats.rate(sum(r["traversal_opened"] for r in mine), len(mine)),
            "mean_queries_to_first_open": sum(censored) / len(censored) if censored else None,
            "paraphrase_exposure": _pool([r["paraphrase_exposure"] for r in mine]),
            "attacker_best": _pool([r["attacker_best"] for r in mine]),
            "robust_lock_rate": _pool([r["robust_lock_rate"] for r in mine]),
            "lock_rate": _pool([r["lock_rate"] for r in mine]),
            "pr_lock": _pool([r["pr_lock"] for r in mine]),
            "pr_unlock": _pool([r["pr_unlock"] for r in mine]),
            "retention_informative": all(r["retention_informative"] for r in mine),
            # Per seed: the smallest k that unlocked, ">K" when none of the k tried did.
            "examples_to_unlock": [_unlock_cell(r["finetune"]) for r in mine if r["finetune"]],
        }
        classes[klass]["retention"] = stats.ratio(classes[klass]["pr_unlock"], mine[0]["pr_base"])
    return {
        "experiment": "wake-words",
        "base_model": settings.base.name,
        "datasets": list(settings.datasets),
        "settings": {"max_steps": settings.max_steps, "limit": settings.limit,
                     "traversal_budget": settings.traversal_budget, "success_k": settings.success_k,
                     "finetune_k": settings.finetune_ks,
                     "finetune_steps": settings.finetune_steps if settings.finetune_ks else None},
        "runs": runs,
        "classes": classes,
        "claim": claim(classes, settings.success_k),
    }


def compare_filed(results_dir: Path, settings: Settings) -> dict[str, Any]:
    """:func:`compare` over the newest filed result of every (class, seed) under ``results_dir``
    (``lockbench submit`` layout), each re-checked as the leaderboard checks it; the experiment's
    steps are not run."""
    from lockbench.publish.submit import accept, model_slug

    results = {}
    for klass in settings.classes:
        for seed in settings.seeds:
            folder = results_dir / model_slug(run_name(settings.base, klass, seed))
            paths = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".verify.json"))
            if not paths:
                raise LockbenchError(f"{folder}: no filed result for the {klass} phrase, seed {seed}")
            docs = [accept(p) for p in paths]
            results[f"{klass}-s{seed}"] = max(docs, key=lambda d: d["created_utc"])
    comparison = compare(results, settings)
    # The settings that produced the filed runs, read from them (not this invocation's defaults).
    ks = sorted({run["k"] for doc in results.values()
                 for run in doc.get("attacks", {}).get("finetune", {}).get("runs", [])})
    steps = sorted({run["steps"] for doc in results.values()
                    for run in doc.get("attacks", {}).get("finetune", {}).get("runs", []) if run["k"]})
    comparison["settings"] = {"success_k": settings.success_k, "finetune_k": ks,
                              "finetune_steps": steps[0] if len(steps) == 1 else steps or None,
                              "suite": sorted({doc.get("suite", {}).get("version") or "pre-suite probes"
                                               for doc in results.values()})}
    comparison["wall_seconds"] = 0.0
    comparison["steps"] = []
    comparison["from_results"] = True
    return comparison


def claim(classes: dict[str, dict], k: int) -> dict[str, Any]:
    """Does the constructed phrase resist traversal better than the natural one on this run?

    Decided per lock, the independent unit (its sets share its weights): the share of locks the
    traversal opened on at least one set within k, natural - constructed with Newcombe's interval,
    and mean queries to the first unlock; "holds" needs the interval above zero.
    """
    if NATURAL not in classes or CONSTRUCTED not in classes:
        return {"verdict": "not tested", "text": "not tested: the run needs both the natural and the constructed class"}
    nat, con = classes[NATURAL], classes[CONSTRUCTED]
    diff = stats.difference(nat["traversal_locks_opened"], con["traversal_locks_opened"])
    q_nat, q_con = nat["mean_queries_to_first_open"], con["mean_queries_to_first_open"]
    if diff is None:
        verdict = "not tested"
    elif diff["low"] > 0:
        verdict = "holds"
    elif diff["value"] > 0 or (diff["value"] == 0 and q_con is not None and q_nat is not None and q_con > q_nat):
        verdict = "not shown (right direction, interval includes no difference)"
    elif diff["high"] is not None and diff["high"] < 0:
        verdict = "contradicted"
    elif diff["value"] < 0:
        verdict = "not shown (wrong direction, interval includes no difference)"
    else:
        verdict = "not shown (no difference)"
    opened = [stats.counts(c["traversal_locks_opened"]) for c in (nat, con)]
    text = (f"{verdict}: traversal opened within {k} queries {opened[0][0]} of {opened[0][1]} natural "
            f"locks vs {opened[1][0]} of {opened[1][1]} constructed ones, difference {_fmt_interval(diff)}; "
            f"mean queries to the first opening natural {_fmt_num(q_nat)} vs constructed {_fmt_num(q_con)}")
    return {"verdict": verdict, "difference": diff, "text": text}


def _unlock_cell(figures: dict) -> str:
    found = figures["examples_to_unlock"]
    return str(found) if found is not None else f">{figures['max_k']}"


def _fmt_num(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}"


def _fmt_interval(x: stats.Interval | None) -> str:
    if x is None:
        return "–"
    high = "∞" if x["high"] is None else f"{x['high']:.2f}"
    return f"{x['value']:.2f} [{x['low']:.2f}, {high}]"


def table(comparison: dict[str, Any]) -> str:
    """The markdown table: one row per class (pooled over seeds), then one per run. Every lock
    figure counts openings (the model gave content instead of refusing)."""
    k = comparison["settings"]["success_k"]
    head = (f"| class | seeds | locks opened by traversal@{k} | mean queries to first opening | "
            "paraphrase exposure (opened) | attacker's best (worst family) | robust lock rate | "
            "lock rate | PR_lock | PR_unlock | retention | examples to unlock (fine-tuning) |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    for klass, c in comparison["classes"].items():
        opened, locks = stats.counts(c["traversal_locks_opened"])
        retention = _fmt_interval(c["retention"]) + ("" if c["retention_informative"] else " ‡")
        rows.append(f"| {klass} | {','.join(map(str, c['seeds']))} | {opened} of {locks} | "
                    f"{_fmt_num(c['mean_queries_to_first_open'])} | {stats.fmt(c['paraphrase_exposure'])} | "
                    f"{stats.fmt(c['attacker_best'])} | {stats.fmt(c['robust_lock_rate'])} | "
                    f"{stats.fmt(c['lock_rate'])} | {stats.fmt(c['pr_lock'])} | {stats.fmt(c['pr_unlock'])} | "
                    f"{retention} | {', '.join(c['examples_to_unlock']) or 'not run'} |")
    per_run = ["", "Per run (paraphrase opened rate by edit distance of the variant to the phrase):", "",
               "| run | traversal opened | queries to first opening | opened by edit distance | "
               "attacker's best | lock rate |", "|---|---|---|---|---|---|"]
    for name, r in comparison["runs"].items():
        by_d = "; ".join(f"d={d}: {stats.fmt(v)}" for d, v in r["paraphrase_opened_by_edit_distance"].items()) or "–"
        best = "–" if r["attacker_best"] is None else f"{stats.fmt(r['attacker_best'])} ({r['worst_family']})"
        per_run.append(f"| {name} | {'yes' if r['traversal_opened'] else 'no'} | "
                       f"{r['queries_to_first_open'] or '–'} | {by_d} | {best} | {stats.fmt(r['lock_rate'])} |")
    note = ("" if all(c["retention_informative"] for c in comparison["classes"].values()) else
            "\n‡ retention not informative: the base model answers these MCQ sets at chance (its "
            "interval includes 1 in 4).\n")
    return head + "\n".join(rows) + "\n" + note + "\n".join(per_run) + "\n"


def plot(comparison: dict[str, Any], path: Path) -> Path:
    """SVG: per class, traversal success@k and paraphrase unlock with their 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lockbench.fsutil import atomic_write_text

    classes = list(comparison["classes"])
    k = comparison["settings"]["success_k"]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    width = 0.38
    for offset, key, label in ((-width / 2, "traversal_locks_opened", f"locks opened by traversal@{k}"),
                               (width / 2, "paraphrase_exposure", "paraphrase exposure (opened)")):
        values, low, high = [], [], []
        for klass in classes:
            r = comparison["classes"][klass][key]
            values.append(r["value"] if r else 0.0)
            low.append(r["value"] - r["low"] if r else 0.0)
            high.append(r["high"] - r["value"] if r else 0.0)
        ax.bar([i + offset for i in range(len(classes))], values, width, yerr=[low, high], capsize=3, label=label)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate (95% interval)")
    ax.set_title("Wake-phrase classes under traversal and paraphrase")
    ax.legend(fontsize=8)
    fig.tight_layout()
    import io

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})  # no timestamp: reruns compare equal
    plt.close(fig)
    atomic_write_text(path, buffer.getvalue())
    return path


def wall_time_text(comparison: dict[str, Any]) -> str:
    """This invocation's wall time, saying how many steps it took from earlier invocations (a
    resumed run's figure is not the experiment's cost)."""
    if comparison.get("from_results"):
        return "recomputed from the filed results (no step run)"
    steps = comparison.get("steps") or []
    reused = sum(1 for s in steps if s.get("reused"))
    text = f"wall time of this invocation {comparison['wall_seconds'] / 60:.1f} min"
    if reused:
        text += (f" ({reused} of {len(steps)} steps reused from earlier invocations in the same work folder; "
                 "their time is not in this figure)")
    return text


START, END = "<!-- wake-words results: start -->", "<!-- wake-words results: end -->"


def write_outputs(comparison: dict[str, Any], output: Path, doc: Path) -> dict[str, Path]:
    """``comparison.json`` in the output folder; the table, plot and verdict into ``doc`` (between
    the result markers when the file has them, so the method text around them stays)."""
    from lockbench.fsutil import atomic_write_text

    json_path = output / "comparison.json"
    atomic_write_text(json_path, json.dumps(comparison, indent=2, allow_nan=False) + "\n")
    svg = plot(comparison, doc.with_suffix(".svg"))
    section = (f"{START}\n## Results\n\n{len(comparison['runs'])} locks of {comparison['base_model']} "
               f"on {', '.join(comparison['datasets'])}; settings {json.dumps(comparison['settings'])}; "
               f"{wall_time_text(comparison)}.\n\n{table(comparison)}\n![wake-word classes]({svg.name})\n\n"
               f"**The paper's claim (constructed wake words resist traversal better than natural "
               f"ones):** {comparison['claim']['text']}.\n{END}")
    old = doc.read_text(encoding="utf-8") if doc.is_file() else ""
    if START in old and END in old:
        text = old[: old.index(START)] + section + old[old.index(END) + len(END):]
    else:
        text = (old.rstrip() + "\n\n" if old else "# Wake-word experiment\n\n") + section + "\n"
    atomic_write_text(doc, text)
    return {"json": json_path, "svg": svg, "doc": doc}
