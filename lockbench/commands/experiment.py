"""``lockbench experiment wake-words``: the seed paper's wake-word experiment on a real model.

Locks the base model (default the packaged SmolLM2-135M-Instruct) with natural, name-based,
constructed and random-string wake phrases, several seeds each, and compares how they stand up to
traversal and paraphrase probes (docs/experiments/wake-words.md). Long: a command, not a CI test.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from lockbench.commands._types import positive
from lockbench.commands.demo import PROBE_DATASETS

NAME = "experiment"
HELP = "run a long lockbench experiment (wake-words: which wake-phrase classes resist traversal)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="experiment", required=True, metavar="EXPERIMENT")
    wake = sub.add_parser(
        "wake-words",
        help="lock a model with natural, name, constructed and random-string wake phrases and compare "
        "traversal and paraphrase attacks on them",
    )
    wake.add_argument("--output", "-o", default="lockbench-wake-words", help="work folder (default ./lockbench-wake-words)")
    wake.add_argument("--doc", default=None,
                      help="markdown file for the table, verdict and plot (default <output>/wake-words.md; "
                      "docs/experiments/wake-words.md to update the project's page)")
    wake.add_argument("--base", default=None, help="base model folder (default: the packaged SmolLM2-135M-Instruct)")
    wake.add_argument("--classes", default="natural,name,constructed,random",
                      help="phrase classes, comma list (default natural,name,constructed,random)")
    wake.add_argument("--seeds", default="0,1", help="seeds, comma list (default 0,1)")
    wake.add_argument("--datasets", default=",".join(PROBE_DATASETS),
                      help=f"bundled MCQ sets (default {','.join(PROBE_DATASETS)})")
    wake.add_argument("--max-steps", type=positive(int), default=None, help="stop each lock's training after N steps")
    wake.add_argument("--limit", type=positive(int), default=None, help="evaluate only N items per task (a quick look)")
    wake.add_argument("--traversal-budget", type=positive(int), default=None,
                      help="traversal candidates screened (default: the whole dictionary, as the standard "
                      "suite; fewer makes runs the leaderboard does not rank)")
    wake.add_argument("--from-results", default=None, metavar="DIR",
                      help="do not run anything: recompute the table, plot and verdict from the newest "
                      "<base>-identitylock-wakeword-<class>-s<seed> results filed under DIR (e.g. results)")
    wake.add_argument("--finetune-k", default=None, metavar="K,K,...",
                      help="also run the fine-tuning attack (`lockbench attack finetune`) on every lock with "
                      "these k answered examples, e.g. 0,8,32,128 (default: not run; it multiplies the time)")
    wake.add_argument("--finetune-steps", type=positive(int), default=32,
                      help="the attack's training steps per k (default 32)")
    wake.add_argument("--eval-batch-size", type=positive(int), default=64, help="lm-eval batch size (default 64)")
    wake.add_argument("--threads", type=positive(int), default=None, help="torch CPU threads (default: all cores)")
    wake.add_argument("--device", default=None, help="torch device (default: the library's choice)")
    wake.add_argument("--dtype", default=None, help="model dtype (default float32)")
    wake.add_argument("--overwrite", action="store_true", help="redo every step, even finished ones")


def run(args: argparse.Namespace) -> int:
    from lockbench.errors import LockbenchError
    from lockbench.experiments import wake_words as ww

    start = time.perf_counter()
    classes = ww.parse_classes(args.classes)
    seeds = ww.parse_seeds(args.seeds)
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = [d for d in datasets if d not in PROBE_DATASETS]
    if not datasets or unknown:
        raise LockbenchError(f"--datasets: {', '.join(unknown) or '(none given)'} is not a bundled MCQ set; "
                             f"use a comma list of {', '.join(PROBE_DATASETS)}")
    finetune_ks: list[int] = []
    if args.finetune_k is not None:
        from lockbench.attacks.data import attack_rows, parse_ks

        finetune_ks = parse_ks(args.finetune_k)
        attack_rows(datasets, max(finetune_ks), 0)  # a k larger than the train pool fails now
    output = Path(args.output).expanduser().resolve()
    if args.from_results and not Path(args.from_results).is_dir():
        raise LockbenchError(f"--from-results {args.from_results}: no such folder")
    if output.exists() and not output.is_dir():
        raise LockbenchError(f"--output {output} is a file; give a folder")
    doc = Path(args.doc).expanduser() if args.doc else output / "wake-words.md"
    if doc.exists() and not doc.is_file():
        raise LockbenchError(f"--doc {doc} is not a file; give a markdown file path")
    import os

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.base:
        base = Path(args.base).expanduser()
        if not (base / "config.json").is_file():
            raise LockbenchError(f"--base {base} is not a transformers model folder (no config.json)")
    else:
        from lockbench.models import smollm2_folder

        base = smollm2_folder()
    extra = {k: v for k, v in (("device", args.device), ("dtype", args.dtype)) if v}
    settings = ww.Settings(base=base, output=output, classes=classes, seeds=seeds, datasets=datasets,
                           max_steps=args.max_steps, limit=args.limit,
                           traversal_budget=args.traversal_budget, eval_batch_size=args.eval_batch_size,
                           finetune_ks=finetune_ks, finetune_steps=args.finetune_steps, overwrite=args.overwrite, extra=extra)
    if args.from_results:
        comparison = ww.compare_filed(Path(args.from_results), settings)
    else:
        print(f"wake-word experiment: {len(classes)} classes x {len(seeds)} seeds = {len(classes) * len(seeds)} "
              f"locks of {base.name} on {', '.join(datasets)}", flush=True)
        comparison = ww.run_experiment(settings)
    comparison["wall_seconds"] = round(time.perf_counter() - start, 1)
    paths = ww.write_outputs(comparison, output, doc)
    print("\n" + ww.table(comparison))
    print(f"paper's claim (constructed resists traversal better than natural): {comparison['claim']['text']}")
    print(f"wrote {paths['doc']}, {paths['svg']} and {paths['json']}; one lockbench-result.json per run "
          f"under {output / 'runs'}")
    print("time per step (wall / CPU seconds):")
    for step in comparison["steps"]:
        print(f"   {step['wall_s']:7.0f} / {step['cpu_s']:7.0f}  {step['step']}" + ("  (reused)" if step["reused"] else ""))
    print(f"total: {ww.wall_time_text(comparison)} ({comparison['wall_seconds']:.0f} s)")
    return 0
