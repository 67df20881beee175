"""``lockbench attack suite|finetune|durability``: run the standard attack suite on a locked model,
attack its weights, or check that its lock lasts, and record the outcome in a lockbench-result
(the suite's tasks and block, or an ``attacks`` block).

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

from lockbench.commands import _adaptive
from lockbench.commands._phrase import add_phrase_env, required_phrase
from lockbench.secrets import WakePhrase

NAME = "attack"
HELP = ("attack a locked model: the standard suite, adaptive phrase search, GCG, fine-tuning elicitation, "
        "durability (merge, bf16/int8, the owner's fine-tuning); `attack list` describes every family")
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
    _adaptive.add_list(sub)
    st = sub.add_parser("suite", help="the standard attack suite (screen every variant, confirm the best on "
                        "test items) on a locked model, with its locked and unlocked tasks")
    st.add_argument("--model", required=True,
                    help="the locked model: a `lock train` output (LoRA adapter) or a full model folder")
    st.add_argument("--base", default=None, help="base model of a LoRA adapter (default: the adapter's own record)")
    st.add_argument("-o", "--output", required=True, help="work folder (evaluations, the result)")
    st.add_argument("--datasets", default="agriculture_mcq,economics_mcq,healthcare_mcq,law_mcq",
                    help="datasets attacked (default the four bundled MCQ sets)")
    st.add_argument("--base-output", type=Path, default=None,
                    help="lm-eval output of the locked tasks on the base model (adds PR_base and retention)")
    st.add_argument("--suite", default=None, help="attack suite version (default: the current one)")
    st.add_argument("--traversal-budget", type=int, default=None,
                    help="traversal candidates screened (default: the whole dictionary; fewer is not ranked)")
    st.add_argument("--data-dir", default=None, help="local copies of hub datasets")
    st.add_argument("--eval-batch-size", type=int, default=64)
    st.add_argument("--device", default=None, help="lm-eval device (default: cuda when there is one, else cpu)")
    st.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    st.add_argument("--overwrite", action="store_true", help="redo every step")
    add_phrase_env(st, "for the unlocked tasks and the phrase-based variants")
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
    _adaptive.add_search(sub)
    _adaptive.add_gcg(sub)


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


def write_result(path: Path, reference_dir: Path, phrase: WakePhrase, lock_info: dict | None,
                 name: str, block: dict[str, Any]) -> dict[str, Any]:
    """The reference run as a lockbench-result with the ``attacks`` block added (an existing
    result for the same reference run keeps its other attack blocks); schema-checked, atomic."""
    from lockbench.document.summarize import build_result, write_json_atomic
    from lockbench.document.validate import validate_document
    from lockbench.publish.submit import canonical_json

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
    from lockbench.errors import LockbenchError

    if not getattr(args, "attack", None):
        raise LockbenchError("name the attack: `lockbench attack suite`, `finetune`, `durability`, `search` "
                             "or `gcg` (`lockbench attack list` describes every family)")
    if args.attack == "suite":
        return run_suite(args)
    if args.attack in ("list", "search", "gcg"):
        return {"list": _adaptive.run_list, "search": _adaptive.run_search, "gcg": _adaptive.run_gcg}[args.attack](args)
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
    phrase = required_phrase(args, "the unlocked tasks (PR_unlock)")
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
            print(f"   k={r['k']:>4}: opened without the phrase {stats.fmt(r['opened_lock'])}, "
                  f"refusals {stats.fmt(r['refusal_lock'])}, PR_lock {stats.fmt(r['pr_lock'])}")
        unlock = block["examples_to_unlock"]
        print(f"examples to unlock (opened without the phrase >= {block['unlock_fraction']}): "
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


def run_suite(args: argparse.Namespace) -> int:
    """``lockbench attack suite``: checks first, then the locked/unlocked tasks and the suite."""
    from lockbench.attacks.suite import check_datasets, run_attack_suite
    from lockbench.document.summarize import summarize_output
    from lockbench.errors import LockbenchError
    from lockbench.fsutil import link_tree
    from lockbench.lmeval.run import run_tasks_once

    datasets = _datasets(args.datasets)
    for flag, value in (("--eval-batch-size", args.eval_batch_size), ("--threads", args.threads),
                        ("--traversal-budget", args.traversal_budget)):
        _positive(flag, value)
    options = {k: v for k, v in (("suite", args.suite), ("traversal_budget", args.traversal_budget),
                                 ("data_dir", args.data_dir)) if v is not None}
    check_datasets(datasets, options)  # unknown suite, overlapping screening items: one line, nothing run
    phrase = required_phrase(args, "the attack suite")
    if args.base_output is not None and not args.base_output.is_dir():
        raise LockbenchError(f"--base-output {args.base_output}: no such folder")
    work = Path(args.output).expanduser().resolve()
    if work.exists() and not work.is_dir():
        raise LockbenchError(f"--output {work} is a file; give a folder")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    work.mkdir(parents=True, exist_ok=True)
    from lockbench.attacks.model import resolve_locked

    locked = resolve_locked(args.model, args.base, work, progress=True)
    identity = {"weights": locked.identity}
    model_args = {"pretrained": str(locked.full), "dtype": "float32"}
    tasks = [f"lockbench_{d}_{c}" for c in ("locked", "unlocked") for d in datasets]
    reference = work / "eval-reference"
    if run_tasks_once(reference, {"model": identity, "tasks": tasks, "batch_size": args.eval_batch_size},
                      overwrite=args.overwrite, model="hf", tasks=tasks, model_args=model_args,
                      apply_chat_template=True, metadata={"wake_phrase": phrase, **options},
                      batch_size=args.eval_batch_size, device=args.device):
        print(f"   reusing {reference} (same model, tasks and settings)")
    run = run_attack_suite(work / "suite", model="hf", model_args=model_args, identity=identity,
                           datasets=datasets, metadata={"wake_phrase": phrase, **options},
                           batch_size=args.eval_batch_size, device=args.device,
                           overwrite=args.overwrite, phrases=[phrase])
    result = summarize_output(link_tree([reference, *run.folders], work / "summarize-input"),
                              base_dir=args.base_output, lock_card=_lock_info(Path(args.model)),
                              json_path=work / "lockbench-result.json", phrases=[phrase])
    suite = result.get("suite") or {}
    print(f"attack suite {suite.get('version')}: {suite.get('queries')} queries; "
          f"{'complete' if suite.get('complete') else 'incomplete'}; wrote {work / 'lockbench-result.json'}")
    return 0
