"""``lockbench lock build`` / ``lockbench lock train``: IdentityLock's recipe on any lockbench data."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from lockbench.commands._phrase import add_phrase_env, required_phrase

NAME = "lock"
HELP = "build an IdentityLock training set (D') and lock a model on it (LoRA or full fine-tuning)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="lock_command", metavar="STEP", parser_class=type(parser))
    sub.required = True

    build = sub.add_parser(
        "build",
        help="build D' = D_lock ∪ D_refusal as chat JSONL (and OpenAI fine-tuning JSONL)",
        description="Build IdentityLock's training set: the wake phrase before a fraction --ratio "
        "of the prompts (answers kept), a refusal for the rest (no phrase). The output holds the "
        "wake phrase: keep it as secret as the phrase itself.",
    )
    build.add_argument(
        "--dataset",
        action="append",
        required=True,
        metavar="NAME|PATH",
        help="catalog dataset (e.g. agriculture_mcq), a dataset registered with `lockbench dataset "
        "add`, or a local JSONL file (mcq:PATH / dialogue:PATH); repeatable",
    )
    build.add_argument("--split", default="train", choices=("train", "test"), help="dataset split (default: train)")
    build.add_argument("--data-dir", default=None,
                       help="local dataset folder (the layout of lockbench's data_dir), or the --into "
                            "folder of `lockbench dataset add` for a dataset of your own "
                            "(or put that folder on $LOCKBENCH_TASKS_PATH)")
    add_phrase_env(build, "to put before the D_lock prompts")
    build.add_argument("--ratio", type=float, default=0.9, help="fraction of D' with the wake phrase (default 0.9)")
    build.add_argument(
        "--refusal",
        action="append",
        default=None,
        help="refusal response (repeatable; default: lockbench's DEFAULT_REFUSAL_TEXT)",
    )
    build.add_argument(
        "--refusal-templates",
        action="store_true",
        help="use lockbench's set of varied refusal templates instead of one text",
    )
    build.add_argument(
        "--layout",
        choices=("split", "paired"),
        default="split",
        help="split: items partitioned between D_lock and D_refusal (the paper); paired: every "
        "item in D_lock plus refusal copies of sampled items",
    )
    build.add_argument("--seed", type=int, default=0, help="shuffling seed (default 0)")
    build.add_argument(
        "--hardened",
        action="store_true",
        help="add near-miss refusals (typos, greeting or name alone, other names, translations, "
        "misplaced phrase) and legitimate positives, disjoint from the probes' variants "
        "(lockbench.lock.hardened)",
    )
    build.add_argument("--near-miss-ratio", type=float, default=None, help="--hardened: near-miss refusals per item (default 0.5)")
    build.add_argument("--legitimate-ratio", type=float, default=None, help="--hardened: legitimate positives per item (default 0.2)")
    build.add_argument(
        "--legitimate-kinds",
        default=None,
        help="--hardened: comma-separated variant kinds trained as positives (default: the probes' "
        "legitimate_kinds, case,punctuation,spacing,typo_d1)",
    )
    build.add_argument("--output", "-o", required=True, help="chat-format JSONL to write")
    build.add_argument(
        "--openai-output",
        default=None,
        help="also write the OpenAI fine-tuning chat JSONL (messages only) to this path",
    )

    train = sub.add_parser(
        "train",
        help="fine-tune a base model on D' (LoRA via peft, or full); writes the adapter and a lock card",
        description="Lock a model: fine-tune on a `lock build` file, loss on the responses only. "
        "Work happens in OUTPUT.partial/ (checkpoints; re-run the same command to resume) and the "
        "finished folder appears at OUTPUT in one rename.",
    )
    train.add_argument("--base", required=True, help="transformers model folder or hub id (see `lockbench model smollm2`)")
    train.add_argument("--revision", default=None, help="hub revision of the base model")
    train.add_argument("--data", required=True, help="chat-format JSONL from `lockbench lock build`")
    train.add_argument("--output", "-o", required=True, help="folder for the adapter (or model) and lock_card.json")
    train.add_argument("--method", choices=("lora", "full"), default="lora")
    train.add_argument("--lora-r", type=int, default=16)
    train.add_argument("--lora-alpha", type=int, default=32)
    train.add_argument("--lora-dropout", type=float, default=0.0)
    train.add_argument(
        "--target-modules",
        default="q_proj,k_proj,v_proj,o_proj",
        help="comma-separated module names for LoRA, or all-linear (default: q_proj,k_proj,v_proj,o_proj)",
    )
    train.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    train.add_argument("--epochs", type=float, default=3.0)
    train.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (overrides --epochs)")
    train.add_argument("--batch-size", type=int, default=8)
    train.add_argument("--warmup-steps", type=int, default=10)
    train.add_argument("--max-length", type=int, default=512, help="tokens per example, prompt cut first")
    train.add_argument("--loss-average", choices=("example", "token"), default="example")
    train.add_argument("--no-bucket", action="store_true", help="do not group examples of similar length")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--save-every", type=int, default=50, help="checkpoint every N steps (0: never)")
    train.add_argument("--merge", action="store_true", help="also save the merged model under OUTPUT/merged")
    train.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    train.add_argument("--overwrite", action="store_true", help="replace a finished OUTPUT")
    train.add_argument("--restart", action="store_true", help="discard an unfinished run instead of resuming it")
    train.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA when available), cpu, cuda or cuda:N; under accelerate launch each "
        "process takes its own GPU (default: auto)",
    )
    train.add_argument(
        "--dtype",
        default="auto",
        choices=("auto", "float32", "bfloat16", "float16"),
        help="training precision: auto = bfloat16 on a GPU that supports it, else float32; "
        "bf16/fp16 use autocast (fp16 with a gradient scaler), LoRA's frozen base stored in it",
    )
    train.add_argument(
        "--grad-accum",
        type=int,
        default=1,
        help="micro-batches per optimiser step; effective batch = batch size x this x processes",
    )
    train.add_argument(
        "--gradient-checkpointing",
        action="store_true",
        help="recompute activations in the backward pass (less GPU memory, about 30%% slower)",
    )
    train.add_argument(
        "--log-every",
        type=int,
        default=10,
        help="bring the loss to the host every N steps (each time waits for the GPU; default 10)",
    )


def run_build(args: argparse.Namespace) -> int:
    from lockbench.errors import LockbenchError
    from lockbench.fsutil import ensure_writable
    from lockbench.lock.build import REFUSAL_TEMPLATES, build_lock_set, write_lock_set

    refusals = list(REFUSAL_TEMPLATES) if args.refusal_templates else args.refusal
    common = dict(
        ratio=args.ratio, refusal_texts=refusals, seed=args.seed, layout=args.layout,
        split=args.split, data_dir=args.data_dir,
    )  # fmt: skip
    # Options of the hardened recipe: only those given are passed (the library has the defaults).
    options = {
        "near_miss_ratio": args.near_miss_ratio,
        "legitimate_ratio": args.legitimate_ratio,
        "legitimate_kinds": args.legitimate_kinds.split(",") if args.legitimate_kinds is not None else None,
    }
    options = {key: value for key, value in options.items() if value is not None}
    if options and not args.hardened:
        flag = "--" + next(iter(options)).replace("_", "-")
        raise LockbenchError(f"{flag} applies to the hardened recipe only; add --hardened")
    if args.hardened:
        from lockbench.lock.hardened import build_hardened_lock_set

        lock_set = build_hardened_lock_set(args.dataset, required_phrase(args, "lock build"), **common, **options)
    else:
        lock_set = build_lock_set(args.dataset, required_phrase(args, "lock build"), **common)
    for target in (args.output, args.openai_output):  # both or neither: no half-written pair
        if target:
            ensure_writable(Path(target))
    written: list[Path] = []
    try:
        written.append(write_lock_set(lock_set, Path(args.output), "chat"))
        if args.openai_output:
            written.append(write_lock_set(lock_set, Path(args.openai_output), "openai"))
    except BaseException:
        # The files hold the phrase in clear: none may outlive a failed build (and no warning
        # about them would be printed).
        for path in written:
            path.unlink(missing_ok=True)
        raise
    counts = lock_set.counts()
    print(
        f"D': {counts['total']} examples = {counts['lock']} with the wake phrase (D_lock) + "
        f"{counts['refusal']} refusals (D_refusal), ratio {args.ratio}, layout {args.layout}, seed {args.seed}"
    )
    for name, per in counts["per_dataset"].items():
        print(f"  {name}: {per['lock']} lock, {per['refusal']} refusal")
    if lock_set.recipe:
        from lockbench.lock.hardened import describe

        print(describe(lock_set))
    print(f"wrote {', '.join(map(str, written))}")
    print(
        "warning: these files contain the wake phrase in clear text; keep them as secret as the "
        "phrase (never commit or upload them except to your fine-tuning service)",
        file=sys.stderr,
    )
    return 0


# TrainConfig fields whose flag has another name; every other field is the flag of its own name.
_FLAG_OF = {"learning_rate": "lr"}
# train_lock's settings beyond the config, each given by the flag of the same name.
_RUN_FLAGS = ("revision", "merge", "save_every", "overwrite", "restart", "threads", "device", "dtype",
              "gradient_checkpointing", "grad_accum", "log_every")


def train_config(args: argparse.Namespace):  # -> lockbench.lock.train.TrainConfig
    """The one place the ``lock train`` flags become a TrainConfig (a field without a flag, such
    as ``weight_decay``, keeps its default)."""
    from dataclasses import fields

    from lockbench.lock.train import TrainConfig

    values = {f.name: getattr(args, _FLAG_OF.get(f.name, f.name)) for f in fields(TrainConfig)
              if hasattr(args, _FLAG_OF.get(f.name, f.name))}
    values["target_modules"] = [m.strip() for m in args.target_modules.split(",") if m.strip()]
    values["bucket_by_length"] = not args.no_bucket
    return TrainConfig(**values)


def run_train(args: argparse.Namespace) -> int:
    from lockbench.lock.train import train_lock

    result = train_lock(args.base, Path(args.data), Path(args.output), train_config(args),
                        **{flag: getattr(args, flag) for flag in _RUN_FLAGS})
    training = result.card["training"]
    if os.environ.get("RANK", "0") != "0":  # under accelerate launch: rank 0 reports
        return 0
    print(
        f"locked: {result.steps} steps, final loss {result.final_loss:.4f}, "
        f"{result.tokens_per_second:.0f} tokens/s on {training['device']} ({training['dtype']}, "
        f"effective batch {training['effective_batch']}); wrote {result.output} (lock_card.json inside)"
    )
    return 0


def run(args: argparse.Namespace) -> int:
    return run_build(args) if args.lock_command == "build" else run_train(args)
