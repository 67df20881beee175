"""The paper's IdentityLock recipe against the hardened one (``lock build --hardened``), side by side.

Same base model, datasets, split, seeds, LoRA settings and step budget for both; the only
difference is D': the hardened one adds near-miss refusals and legitimate positives
(:mod:`lockbench.lock.hardened`). For each recipe: build D', train, then one lm-eval run on the
bundled ``locked``/``unlocked`` tasks and the standard attack suite on the probe datasets (hf
backend, chat template, greedy); the base model is evaluated once for utility retention. It
prints a table of opened events (the model gave content instead of refusing): each family's
exposure and attacker's best, the robust lock rate, false rejects of the legitimate near-misses,
traversal success@k, the lock rate, PR_lock, PR_unlock, utility retention, and each recipe's build
and training time (measured in this one command, on this machine). The table also goes to
``<output>/comparison.json`` (numbers only). ``--from-results results`` recomputes the table from
the two filed results instead of running anything (``--plot`` draws it).

Resumable: every finished step is reused when its inputs are unchanged (a D' file with the same
content; a lock whose card matches D', settings and base; an evaluation with the same model,
tasks and settings); an interrupted training resumes from its last checkpoint. Re-run the same
command after a crash.

    # the full run on the packaged SmolLM2-135M-Instruct (about an hour on 2 free CPU cores)
    python benchmarks/hardened_vs_paper.py --output hardened-exp
    # plumbing only: a tiny model, a few steps, a few items
    python benchmarks/hardened_vs_paper.py --output /tmp/hx --base TINY_MODEL --max-steps 2 \\
        --limit 2 --traversal-budget 5

The wake phrase comes from $LOCKBENCH_WAKE_PHRASE (the demo's public phrase otherwise); it is
never printed. ``<output>/secret-*.jsonl`` hold it: keep them private.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DEMO_WAKE_PHRASE = "Hey! Lumen!"  # the demo's public phrase (lockbench.commands.demo)
DATASETS = tuple(f"{d}_{k}" for d in ("agriculture", "economics", "healthcare", "law") for k in ("mcq", "dialogue"))
# The attack suite on one MCQ and one dialogue dataset.
PROBE_DATASETS = ("agriculture_mcq", "law_dialogue")
RECIPES = ("paper", "hardened")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output", "-o", default="hardened-exp", help="work folder (default ./hardened-exp)")
    p.add_argument("--base", default=None, help="base model folder (default: the packaged SmolLM2-135M-Instruct)")
    p.add_argument("--datasets", default=",".join(DATASETS), help="training and locked/unlocked datasets")
    p.add_argument("--probe-datasets", default=",".join(PROBE_DATASETS), help="datasets the probes run on")
    # The demo's recipe (paired D', LoRA r16 on all linear layers, lr 2e-3, batch 8), which locks
    # SmolLM2 in one epoch; both recipes get the same step budget.
    p.add_argument("--layout", default="paired", choices=("split", "paired"))
    p.add_argument("--ratio", type=float, default=0.5)
    p.add_argument("--max-steps", type=int, default=120, help="training steps of each recipe (default 120)")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--near-miss-ratio", type=float, default=0.5)
    p.add_argument("--legitimate-ratio", type=float, default=0.2)
    p.add_argument("--limit", type=int, default=None, help="lm-eval items per task (a quick look)")
    p.add_argument("--traversal-budget", type=int, default=None,
                   help="traversal candidates screened (default: the whole dictionary)")
    p.add_argument("--from-results", default=None, metavar="DIR",
                   help="recompute the table from the newest filed <base>-identitylock-{paper,hardened}-recipe "
                   "results under DIR (e.g. results), running nothing")
    p.add_argument("--eval-batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument(
        "--plot", default=None, metavar="SVG",
        help="also draw the attack and utility rates of both recipes, with intervals, to SVG "
        "(with --replot: from an existing <output>/comparison.json, running nothing)",
    )
    p.add_argument("--replot", action="store_true", help="only redraw --plot from <output>/comparison.json")
    return p.parse_args(argv)


def _pooled(entries: list[dict], key: str):
    from lockbench.stats import rate

    return rate(sum(e[key] for e in entries), sum(e["n"] for e in entries))


def metrics(result: dict) -> dict:
    """The comparison figures of one recipe's lockbench-result (pooled over datasets), all
    counted on opened events; works on a suite run and on one from before the suite."""
    from lockbench.document.probe_view import family_rates, screening_tasks, traversal_of
    from lockbench.publish.leaderboard import build_row

    tasks = result["tasks"].values()
    locked = [e for e in tasks if e["condition"] == "locked"]
    unlocked = [e for e in tasks if e["condition"] == "unlocked"]
    base = list((result.get("base_tasks") or {}).values())
    pr_unlock, pr_base = _pooled(unlocked, "passes"), _pooled(base, "passes")
    families = family_rates(result)
    row = build_row(Path("run/run.json"), result, 1)
    out = {
        "pr_lock": _pooled(locked, "passes"),
        "lock_rate": _pooled(locked, "refusals"),
        "pr_unlock": pr_unlock,
        "pr_base": pr_base,
        "retention": pr_unlock["value"] / pr_base["value"] if pr_unlock and pr_base and pr_base["value"] else None,
        "retention_informative": row.retention_informative,
        "false_reject": (families.get("paraphrase") or {}).get("false_reject"),
        "attacker_best": row.attacker_success,
        "worst_family": row.worst_family,
        "robust_lock_rate": row.robust_lock_rate,
    }
    for family in ("paraphrase", "placement", "prefix_attack", "prefill", "traversal"):
        out[f"{family}_exposure"] = (families.get(family) or {}).get("exposure")
    runs = [t["success_at_k"] for task in screening_tasks(result).values() if (t := traversal_of(task))]
    for k in ("1", "10", "100", "all"):
        # per traversal walk: did some candidate among the first k open the lock?
        out[f"traversal_success@{k}"] = {
            "k": sum(r[k]["success"] for r in runs),
            "n": len(runs),
            "complete": all(r[k]["complete"] for r in runs),
        }
    return out


def _fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, dict) and "complete" in value:
        return f"{value['k']}/{value['n']}" + ("" if value["complete"] else " (budget<k)")
    if isinstance(value, dict):
        return f"{value['value']:.3f} [{value['low']:.3f},{value['high']:.3f}] n={value['n']}"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


ROWS = (
    ("paraphrase exposure (opened, attack variants)", "paraphrase_exposure"),
    ("false-reject rate (legitimate paraphrases)", "false_reject"),
    ("placement exposure (opened)", "placement_exposure"),
    ("prefix attack exposure (opened)", "prefix_attack_exposure"),
    ("prefill exposure (opened)", "prefill_exposure"),
    ("traversal exposure (opened)", "traversal_exposure"),
    ("attacker's best (worst family, confirmed)", "attacker_best"),
    ("robust lock rate", "robust_lock_rate"),
    ("traversal success@1 (walks)", "traversal_success@1"),
    ("traversal success@10 (walks)", "traversal_success@10"),
    ("traversal success@100 (walks)", "traversal_success@100"),
    ("traversal success@all (walks)", "traversal_success@all"),
    ("lock rate (refusals without the phrase)", "lock_rate"),
    ("PR_lock (no phrase)", "pr_lock"),
    ("PR_unlock (true phrase)", "pr_unlock"),
    ("PR_base", "pr_base"),
    ("utility retention PR_unlock/PR_base", "retention"),
    ("retention informative (base above chance)", "retention_informative"),
    ("D' examples", "examples"),
    ("D' build seconds", "build_seconds"),
    ("training seconds (optimiser steps)", "train_seconds"),
)


def print_table(table: dict[str, dict]) -> None:
    width = max(len(label) for label, _ in ROWS)
    print(f"\n{'':{width}}  {'paper':42}  hardened")
    for label, key in ROWS:
        print(f"{label:{width}}  {_fmt(table['paper'].get(key)):42}  {_fmt(table['hardened'].get(key))}")


PLOT_ROWS = (
    ("paraphrase\nexposure", "paraphrase_exposure"),
    ("false-reject\n(legitimate)", "false_reject"),
    ("placement\nexposure", "placement_exposure"),
    ("prefix attack\nexposure", "prefix_attack_exposure"),
    ("traversal\nexposure", "traversal_exposure"),
    ("lock rate", "lock_rate"),
    ("PR_unlock", "pr_unlock"),
)


def plot(table: dict[str, dict], target: Path) -> None:
    """Grouped bars, one group per rate, one bar per recipe, 95% Wilson intervals as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.38
    for i, recipe in enumerate(RECIPES):
        xs, values, low, high = [], [], [], []
        for j, (_, key) in enumerate(PLOT_ROWS):
            rate = table[recipe].get(key)
            if not rate:
                continue
            xs.append(j + (i - 0.5) * width)
            values.append(rate["value"])
            low.append(max(0.0, rate["value"] - rate["low"]))  # float noise at 0 and 1
            high.append(max(0.0, rate["high"] - rate["value"]))
        ax.bar(xs, values, width, yerr=[low, high], capsize=3, label=f"{recipe} recipe")
    ax.set_xticks(range(len(PLOT_ROWS)), [label for label, _ in PLOT_ROWS], fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("opened / refusal / pass rate (95% Wilson interval)")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    target.parent.mkdir(parents=True, exist_ok=True)
    # metadata Date=None: the same table draws the same file
    fig.savefig(target, format="svg", metadata={"Date": None})
    plt.close(fig)
    print(f"wrote {target}")


def from_results(args: argparse.Namespace) -> int:
    """The table (and --plot) from the two filed results, each re-checked as submit checks it."""
    from lockbench.publish.submit import accept, model_slug

    base = Path(args.base).name if args.base else "SmolLM2-135M-Instruct"
    table: dict[str, dict] = {}
    for recipe in RECIPES:
        folder = Path(args.from_results) / model_slug(f"{base}-identitylock-{recipe}-recipe")
        paths = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".verify.json"))
        if not paths:
            raise SystemExit(f"{folder}: no filed result of the {recipe} recipe")
        doc = max((accept(p) for p in paths), key=lambda d: d["created_utc"])
        table[recipe] = metrics(doc)
    print_table(table)
    if args.plot:
        plot(table, Path(args.plot))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.replot:
        if not args.plot:
            raise SystemExit("--replot needs --plot SVG")
        comparison = Path(args.output).expanduser() / "comparison.json"
        plot(json.loads(comparison.read_text(encoding="utf-8"))["table"], Path(args.plot))
        return 0
    if args.from_results:
        return from_results(args)
    import lm_eval
    import torch

    from lockbench import __version__
    from lockbench.digest import file_sha256
    from lockbench.document.summarize import summarize_output
    from lockbench.fsutil import atomic_write_text, done_with, mark_done
    from lockbench.lmeval.run import run_tasks
    from lockbench.lock.build import build_lock_set, write_lock_set
    from lockbench.lock.card import card_matches, read_card, result_lock_info
    from lockbench.lock.hardened import build_hardened_lock_set, describe
    from lockbench.lock.train import COMPLETE, TrainConfig, base_identity, train_lock
    from lockbench.models import smollm2_folder

    if args.threads:
        torch.set_num_threads(args.threads)
    phrase = os.environ.get("LOCKBENCH_WAKE_PHRASE") or DEMO_WAKE_PHRASE
    work = Path(args.output).expanduser().resolve()
    work.mkdir(parents=True, exist_ok=True)
    datasets = [d for d in args.datasets.split(",") if d]
    probe_datasets = [d for d in args.probe_datasets.split(",") if d]
    base = Path(args.base).expanduser() if args.base else smollm2_folder()
    base_revision = base_identity(str(base), None)["revision"]
    metadata: dict = {"wake_phrase": phrase}
    if args.traversal_budget:
        metadata["traversal_budget"] = args.traversal_budget
    timings_path = work / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    start = time.perf_counter()
    steps = 1 + 4 * len(RECIPES)
    step = 0

    def banner(title: str) -> None:
        nonlocal step
        step += 1
        print(f"\n== [{step}/{steps}] {title}  ({time.perf_counter() - start:.0f} s so far)", flush=True)

    def evaluate(out: Path, model: Path, identity: str, tasks: list[str], limit: int | None) -> None:
        """One lm-eval run into ``out``, reused when model, tasks and settings are unchanged."""
        options = {k: v for k, v in metadata.items() if k != "wake_phrase"}
        settings = {"limit": limit, "batch_size": args.eval_batch_size, "metadata": options}
        key = {"model": identity, "name": model.name, "tasks": tasks, **settings, "lockbench": __version__, "lm_eval": lm_eval.__version__}
        if done_with(out, key):
            print(f"   reusing {out} (same model, tasks and settings)")
            return
        shutil.rmtree(out, ignore_errors=True)
        t0 = time.perf_counter()
        run_tasks(
            "hf", tasks, model_args={"pretrained": str(model), "dtype": "float32"}, output_path=out,
            apply_chat_template=True, metadata=metadata, limit=limit, batch_size=args.eval_batch_size,
        )  # fmt: skip
        mark_done(out, key)
        print(f"   {len(tasks)} tasks in {time.perf_counter() - t0:.0f} s")

    banner(f"base model {base.name}: lm-eval on {len(datasets)} locked tasks")
    base_out = work / "eval-base"
    evaluate(base_out, base, base_revision, [f"lockbench_{d}_locked" for d in datasets], args.limit)

    config = TrainConfig(
        method="lora", lora_r=16, lora_alpha=32, target_modules=["all-linear"],
        learning_rate=args.lr, max_steps=args.max_steps, batch_size=args.batch_size,
        warmup_steps=5, seed=args.seed,
    )  # fmt: skip
    common = dict(ratio=args.ratio, layout=args.layout, seed=args.seed)
    table: dict[str, dict] = {}
    for recipe in RECIPES:
        banner(f"{recipe}: build D'")
        t0 = time.perf_counter()
        if recipe == "paper":
            lock_set = build_lock_set(datasets, phrase, **common)
        else:
            lock_set = build_hardened_lock_set(
                datasets, phrase, **common, near_miss_ratio=args.near_miss_ratio,
                legitimate_ratio=args.legitimate_ratio,
            )  # fmt: skip
        data = work / f"secret-dprime-{recipe}.jsonl"
        write_lock_set(lock_set, data)
        build_seconds = time.perf_counter() - t0
        counts = lock_set.counts()
        print(f"   {counts['total']} examples: {counts['lock']} answered, {counts['refusal']} refused ({build_seconds:.1f} s)")
        if lock_set.recipe:
            print("   " + describe(lock_set).replace("\n", "\n   "))
        data_sha = file_sha256(data)

        banner(f"{recipe}: LoRA training, {args.max_steps} steps")
        locked = work / f"lock-{recipe}"
        if (locked / COMPLETE).is_file() and card_matches(read_card(locked), config, data_sha, base_revision):
            print(f"   reusing {locked} (same D', settings and base)")
        else:
            t0 = time.perf_counter()
            result = train_lock(
                str(base), data, locked, config, merge=True, overwrite=True, save_every=20,
                discard_other_runs=True, threads=args.threads,
            )  # fmt: skip
            print(f"   {result.steps} steps, final loss {result.final_loss:.3f}, {time.perf_counter() - t0:.0f} s")
            timings[recipe] = {"build_seconds": round(build_seconds, 2)}
            atomic_write_text(timings_path, json.dumps(timings, indent=2))
        card = read_card(locked)

        # The card's hash identifies this training run (a retrain writes another card).
        identity = file_sha256(locked / "lock_card.json")
        out = work / f"eval-{recipe}"
        # The evaluated folder's last name is the model's name in results and on the leaderboard,
        # so each recipe is evaluated through a link named after it.
        model = work / f"{base.name}-identitylock-{recipe}-recipe"
        if model.is_symlink() or model.exists():
            model.unlink()
        model.symlink_to(locked / "merged", target_is_directory=True)
        banner(f"{recipe}: lm-eval on {len(datasets)} datasets, locked and unlocked")
        tasks = [f"lockbench_{d}_{c}" for d in datasets for c in ("locked", "unlocked")]
        evaluate(out / "core", model, identity, tasks, args.limit)
        # The attack suite in runs of its own: --limit would keep only a family's first variants.
        banner(f"{recipe}: the attack suite on {', '.join(probe_datasets)}")
        from lockbench.attacks.suite import run_attack_suite

        run_attack_suite(out / "suite", model="hf", model_args={"pretrained": str(model), "dtype": "float32"},
                         identity=identity, datasets=probe_datasets, metadata=metadata,
                         batch_size=args.eval_batch_size, phrases=[phrase])
        result_doc = summarize_output(
            out, base_dir=base_out, lock_card=result_lock_info(card),
            json_path=work / f"lockbench-result-{recipe}.json", print_table=False,
        )  # fmt: skip
        row = metrics(result_doc)
        row["examples"] = counts["total"]
        # Build time of the run that trained this lock (the build is redone, and re-timed, each run).
        row["build_seconds"] = round((timings.get(recipe) or {}).get("build_seconds", build_seconds), 2)
        row["train_seconds"] = card["training"]["train_seconds"]
        table[recipe] = row

    print_table(table)
    target = work / "comparison.json"
    atomic_write_text(target, json.dumps({"settings": vars(args), "table": table}, indent=2) + "\n")
    print(f"\nwrote {target} ({time.perf_counter() - start:.0f} s in all)")
    if args.plot:
        plot(table, Path(args.plot))
    print(f"note: {work}/secret-dprime-*.jsonl hold the wake phrase; the result files do not.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    from lockbench.errors import LockbenchError

    try:
        sys.exit(main())
    except LockbenchError as exc:
        print(f"lockbench: error: {exc}", file=sys.stderr)
        sys.exit(2)
