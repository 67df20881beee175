"""``lockbench attack finetune|durability``: attack a locked model's weights, or check that its
lock lasts, and record the outcome in a lockbench-result (an ``attacks`` block).

Both sub-commands evaluate the locked model as given (the locked and unlocked tasks: the
document's ``tasks``) and add their block; run both into the same ``--output`` and the result
carries both (the reference evaluation is shared and reused). Every finished training and
evaluation in ``--output`` is reused when its inputs are unchanged, so an interrupted run resumes.
The wake phrase comes from an environment variable (default ``LOCKBENCH_WAKE_PHRASE``): the
unlocked tasks need it, and every written file is redacted.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lockbench.commands._phrase import add_phrase_env, phrase_from_env

NAME = "attack"
HELP = ("attack a locked model's weights (fine-tuning elicitation) or check that its lock lasts "
        "(merge, bf16/int8, the owner's own fine-tuning)")
DEFAULT_DATASETS = tuple(f"{d}_{k}" for d in ("agriculture", "economics", "healthcare", "law") for k in ("mcq", "dialogue"))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True,
                        help="the locked model: a `lock train` output (LoRA adapter) or a full model folder")
    parser.add_argument("--base", default=None, help="base model of a LoRA adapter (default: the adapter's own record)")
    parser.add_argument("-o", "--output", required=True, help="work folder (trainings, evaluations, the result)")
    parser.add_argument("--result", default=None, help="result JSON (default: OUTPUT/lockbench-result.json)")
    parser.add_argument("--datasets", default=",".join(DEFAULT_DATASETS),
                        help="datasets evaluated (test split) and, for the attack, trained on (train split)")
    parser.add_argument("--data-dir", default=None, help="local copies of hub datasets")
    parser.add_argument("--limit", type=int, default=None, help="items per task (a partial run: submit refuses it)")
    parser.add_argument("--eval-batch-size", type=int, default=8)
    parser.add_argument("--max-gen-toks", type=int, default=None, help="new tokens per answer (default: the task's)")
    parser.add_argument("--device", default=None, help="lm-eval device (default: cuda when there is one, else cpu)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--method", choices=("lora", "full"), default="lora",
                        help="the fine-tuning on top of the locked model (LoRA, or every weight)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lora-r", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8, help="training batch")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true")
    add_phrase_env(parser, "for the unlocked tasks (PR_unlock)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="attack", metavar="ATTACK", parser_class=type(parser))
    ft = sub.add_parser("finetune", help="fine-tuning elicitation: PR_lock after k answered examples without the phrase")
    _common(ft)
    ft.add_argument("--k", default="0,8,32,128",
                    help="numbers of answered examples, comma-separated (0 = no attack, the baseline; default 0,8,32,128)")
    ft.add_argument("--steps", type=int, default=32, help="training steps for every k (a fixed budget)")
    dur = sub.add_parser("durability", help="merge, bf16/int8 quantisation and the owner's fine-tuning: does the lock last?")
    _common(dur)
    dur.add_argument("--checks", default="merge,bf16,int8,benign", help="some of merge,bf16,int8,benign")
    dur.add_argument("--benign-steps", type=int, default=32, help="steps of the owner's own fine-tuning")
    dur.add_argument("--benign-datasets", default=None,
                     help="the owner's fine-tuning data (default: the bundled sets of the domains not evaluated)")


def _datasets(text: str) -> list[str]:
    from lockbench.data.catalog import get_dataset

    names = [d.strip() for d in text.split(",") if d.strip()]
    if not names:
        from lockbench.errors import LockbenchError

        raise LockbenchError("--datasets is empty; give dataset names, comma-separated")
    for name in names:
        get_dataset(name)
    return names


def _lock_info(model: Path) -> dict[str, Any] | None:
    from lockbench.lock.card import read_card, result_lock_info

    for folder in (model, model.parent):
        if (folder / "lock_card.json").is_file():
            return result_lock_info(read_card(folder))
    return None


def _positive(name: str, value: int | None, allow_none: bool = True) -> None:
    from lockbench.errors import LockbenchError

    if value is None and allow_none:
        return
    if value is None or value < 1:
        raise LockbenchError(f"{name} must be at least 1, got {value}")


def write_result(path: Path, reference_dir: Path, phrase: str, lock_info: dict | None,
                 name: str, block: dict[str, Any]) -> dict[str, Any]:
    """The reference run as a lockbench-result with the ``attacks`` block added (an existing
    result for the same reference run keeps its other attack blocks); schema-checked, atomic."""
    from lockbench.results.submit import canonical_json
    from lockbench.results.summarize import build_result, write_json_atomic
    from lockbench.results.validate import validate_document

    doc = build_result(reference_dir, phrases=[phrase], lock_card=lock_info)
    attacks: dict[str, Any] = {}
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
            if canonical_json(old.get("tasks")) == canonical_json(doc["tasks"]):
                attacks = dict(old.get("attacks") or {})
        except (OSError, ValueError, AttributeError):
            attacks = {}
    attacks[name] = block
    doc["attacks"] = attacks
    validate_document(doc, str(path))
    from lockbench.secrets import contains_secret

    if contains_secret(json.dumps(doc, ensure_ascii=False), [phrase]):  # never write the phrase
        from lockbench.errors import SecretError

        raise SecretError("the attack result would contain the wake phrase; nothing was written")
    write_json_atomic(path, doc)
    return doc


def run(args: argparse.Namespace) -> int:
    from lockbench.errors import LockbenchError, SecretError

    if not getattr(args, "attack", None):
        raise LockbenchError("name the attack: `lockbench attack finetune` or `lockbench attack durability`")
    from lockbench.attacks.data import parse_ks
    from lockbench.attacks.durability import parse_checks
    from lockbench.attacks.evaluate import EvalSettings
    from lockbench.attacks.finetune import AttackConfig
    from lockbench.fsutil import ensure_writable

    # Every piece of bad input stops here, before any model is loaded.
    ks = parse_ks(args.k) if args.attack == "finetune" else None
    checks = parse_checks(args.checks) if args.attack == "durability" else None
    for flag, value in (("--limit", args.limit), ("--eval-batch-size", args.eval_batch_size),
                        ("--max-gen-toks", args.max_gen_toks), ("--lora-r", args.lora_r),
                        ("--batch-size", args.batch_size), ("--threads", args.threads)):
        _positive(flag, value)
    datasets = _datasets(args.datasets)
    phrase = phrase_from_env(args.wake_phrase_env)
    if not phrase:
        raise SecretError("the unlocked tasks need the wake phrase: export it in LOCKBENCH_WAKE_PHRASE "
                          "(or name the variable with --wake-phrase-env); never on the command line")
    recipe = AttackConfig(steps=getattr(args, "steps", 32), method=args.method, learning_rate=args.lr,
                          lora_r=args.lora_r, lora_alpha=2 * args.lora_r, batch_size=args.batch_size, seed=args.seed)
    recipe.validate()
    recipe.train_config().validate()
    if args.attack == "durability":
        from lockbench.attacks.durability import check_platform

        check_platform(checks)
        _positive("--benign-steps", args.benign_steps, allow_none=False)
    benign = _datasets(args.benign_datasets) if getattr(args, "benign_datasets", None) else None
    if ks and max(ks) > 0:  # more k than the train splits hold: stop before any model is loaded
        from lockbench.attacks.data import attack_rows

        attack_rows(datasets, max(ks), args.seed, args.data_dir)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    work = Path(args.output).expanduser().resolve()
    if work.exists() and not work.is_dir():
        raise LockbenchError(f"--output {work} is a file; give a folder")
    if args.result:  # a bad --result stops now, not after every training and evaluation
        ensure_writable(Path(args.result).expanduser())
    work.mkdir(parents=True, exist_ok=True)
    result_path = Path(args.result).expanduser() if args.result else work / "lockbench-result.json"
    progress = not args.no_progress
    settings = EvalSettings(datasets, limit=args.limit, batch_size=args.eval_batch_size,
                            max_gen_toks=args.max_gen_toks, device=args.device)

    from lockbench.attacks.model import resolve_locked

    locked = resolve_locked(args.model, args.base, work, progress=progress)
    train_options = {"threads": args.threads} if args.threads else None
    from lockbench import stats

    if args.attack == "finetune":
        from lockbench.attacks.finetune import run_finetune_attack

        block, _ = run_finetune_attack(locked, work, ks, recipe, settings, phrase, data_dir=args.data_dir,
                                       progress=progress, train_options=train_options)
        write_result(result_path, work / "eval-reference", phrase, _lock_info(Path(args.model)), "finetune", block)
        print(f"\nfine-tuning attack ({recipe.steps} steps per k, {recipe.method}); PR_unlock "
              f"{stats.fmt(block['pr_unlock'])}")
        for r in block["runs"]:
            print(f"   k={r['k']:>4}: PR_lock {stats.fmt(r['pr_lock'])}, refusals {stats.fmt(r['refusal_lock'])}")
        unlock = block["examples_to_unlock"]
        print(f"examples to unlock (PR_lock >= {block['unlock_fraction']} x PR_unlock): "
              f"{unlock if unlock is not None else 'none of the k tried'}")
    else:
        from lockbench.attacks.durability import run_durability

        block, _ = run_durability(locked, work, checks, settings, phrase, benign_steps=args.benign_steps,
                                  benign_datasets=benign, recipe=recipe, data_dir=args.data_dir,
                                  progress=progress, train_options=train_options)
        write_result(result_path, work / "eval-reference", phrase, _lock_info(Path(args.model)), "durability", block)
        before = block["before"]
        print(f"\ndurability; before: PR_lock {stats.fmt(before['pr_lock'])}, PR_unlock {stats.fmt(before['pr_unlock'])}")
        for name, c in block["checks"].items():
            if c.get("ran") is False:
                print(f"   {name}: not run ({c['reason']})")
                continue
            print(f"   {name}: PR_lock {stats.fmt(c['pr_lock'])}, PR_unlock {stats.fmt(c['pr_unlock'])}, "
                  f"same outcome {stats.fmt(c['agreement'])}")
    print(f"wrote {result_path}")
    return 0
