"""``lockbench attack list|search|gcg``: the attack families, and the two adaptive attacks.

``list`` prints every registered family (``--json``: name, threat model, kinds with descriptions,
cost model, whether it needs the phrase). ``search`` (black box: queries, optionally
log-probabilities) and ``gcg`` (white box: gradients) attack a locked model and write one JSON
block each (``OUTPUT/search.json``, ``OUTPUT/gcg.json``). Every bad input stops before a model is
loaded, with one line and exit 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lockbench.commands._phrase import add_phrase_env, phrase_from_env
from lockbench.commands._types import positive

SEARCH_DATASETS = "agriculture_mcq,economics_mcq,healthcare_mcq,law_mcq"
COUNT = positive(int)


def add_list(sub: argparse._SubParsersAction) -> None:
    ls = sub.add_parser("list", help="every attack family: threat model, kinds, cost, whether it needs the phrase")
    ls.add_argument("--json", action="store_true", help="print JSON (one object per family)")
    ls.add_argument("--markdown", action="store_true", help="print docs/attack-families.md")


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="the locked model: a `lock train` output (LoRA adapter) or a full model folder")
    parser.add_argument("--base", default=None, help="base model of a LoRA adapter (default: the adapter's own record)")
    parser.add_argument("-o", "--output", required=True, help="work folder (the merged model, the block)")
    parser.add_argument("--datasets", default=SEARCH_DATASETS,
                        help="datasets: screening on the first in name order (train split), confirmation on each (test split)")
    parser.add_argument("--data-dir", default=None, help="local copies of hub datasets")
    parser.add_argument("--confirm-items", type=COUNT, default=40, help="test items per dataset for confirmation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--threads", type=COUNT, default=None, help="torch CPU threads")
    parser.add_argument("--no-progress", action="store_true")
    add_phrase_env(parser, "to judge phrase recovery and keep the phrase out of the block (optional)")


def add_search(sub: argparse._SubParsersAction) -> None:
    se = sub.add_parser("search", help="black-box adaptive phrase search under a query budget")
    _target(se)
    se.add_argument("--lm", default=None,
                    help="an lm-eval model name instead of --model (with --model-args), e.g. hf")
    se.add_argument("--model-args", default=None, help="lm-eval model arguments for --lm")
    se.add_argument("--budget", type=COUNT, default=2000, help="screening queries, all included (default 2000)")
    se.add_argument("--logprobs", action="store_true",
                    help="score candidates by the refusal's log-probability (the backend must return them)")
    se.add_argument("--screen-items", type=COUNT, default=2, help="screening items every candidate is asked on")


def add_gcg(sub: argparse._SubParsersAction) -> None:
    gc = sub.add_parser("gcg", help="white-box Greedy Coordinate Gradient: adversarial tokens (needs the weights)")
    _target(gc)
    gc.add_argument("--lm", default=None, help=argparse.SUPPRESS)  # refused with a clear line: no gradients
    gc.add_argument("--tokens", type=COUNT, default=8, help="adversarial tokens (default 8)")
    gc.add_argument("--position", choices=("before", "after"), default="before",
                    help="the adversarial tokens before or after the question")
    gc.add_argument("--steps", type=COUNT, default=20)
    gc.add_argument("--candidates", type=COUNT, default=64, help="swaps scored per step (default 64)")
    gc.add_argument("--top-k", type=COUNT, default=128)
    gc.add_argument("--screen-items", type=COUNT, default=1)


def run_list(args: argparse.Namespace) -> int:
    from lockbench.probes.registry import all_families

    families = all_families()
    if args.markdown:
        from lockbench.probes.registry import markdown

        print(markdown(), end="")
        return 0
    if args.json:
        print(json.dumps([f.describe() for f in families.values()], indent=2))
        return 0
    for family in families.values():
        phrase = "needs the phrase" if family.needs_phrase else "no phrase"
        print(f"{family.name:<14} {family.threat_model:<9} {phrase:<16} {family.summary}")
        print(f"{'':14} cost: {family.cost_formula} = {family.describe()['cost']['calls_per_dataset']} calls per dataset")
        for kind, description in family.kinds.items():
            print(f"{'':14}   {kind:<22} {description}")
    return 0


def _checked(args: argparse.Namespace) -> tuple[list[str], Path]:
    from lockbench.errors import LockbenchError

    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    if not names:
        raise LockbenchError("--datasets is empty; give dataset names, comma-separated")
    from lockbench.data.catalog import get_dataset

    for name in names:
        get_dataset(name, args.data_dir)
    work = Path(args.output).expanduser().resolve()
    if work.exists() and not work.is_dir():
        raise LockbenchError(f"--output {work} is a file; give a folder")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    return names, work


def _locked_folder(args: argparse.Namespace, work: Path) -> Path:
    from lockbench.attacks.model import resolve_locked

    work.mkdir(parents=True, exist_ok=True)
    return resolve_locked(args.model, args.base, work, progress=not args.no_progress).full


def _bar(total: int, unit: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, disable=quiet, file=sys.stderr, dynamic_ncols=True)


def run_search(args: argparse.Namespace) -> int:
    from lockbench.attacks import search
    from lockbench.attacks.adaptive import attack_items, query_lm, uses_chat, write_block
    from lockbench.errors import LockbenchError
    from lockbench.stats import rate  # statsmodels: loaded by the commands that need it

    if (args.model is None) == (args.lm is None):
        raise LockbenchError("give the locked model as --model PATH, or an lm-eval backend as --lm NAME --model-args ARGS")
    if args.lm is not None and not args.model_args:
        raise LockbenchError("--lm needs --model-args (e.g. pretrained=DIR for hf)")
    config = search.SearchConfig(budget=args.budget, logprobs=args.logprobs, screen_items=args.screen_items,
                                 confirm_items=args.confirm_items, seed=args.seed)
    config.check()
    datasets, work = _checked(args)
    phrase = phrase_from_env(args.wake_phrase_env)
    screen, confirm_sets = attack_items(datasets, config.screen_items, config.confirm_items, args.data_dir)
    if args.model is not None:
        name, model_args = "hf", {"pretrained": str(_locked_folder(args, work)), "dtype": "float32"}
    else:
        name, model_args = args.lm, args.model_args
    lm = query_lm(name, model_args, batch_size=16, device=args.device)
    oracle = search.Oracle(lm, chat=uses_chat(name), max_gen_toks=config.max_gen_toks)
    with _bar(config.budget, "query", args.no_progress) as bar:
        run = search.run_search(oracle, screen, config, progress=lambda done, _: bar.update(done - bar.n))
    by_dataset = {name: search.confirm(oracle, run, items) for name, items in confirm_sets.items()}
    block = search.block(run, phrase, datasets, "logprobs" if config.logprobs else "query")
    block["confirmed_by_dataset"] = {name: rate(k, n) for name, (k, n) in by_dataset.items()}
    path = write_block(work / "search.json", block, phrase)
    _report("search", block, path)
    return 0


def run_gcg(args: argparse.Namespace) -> int:
    from lockbench.attacks import gcg, search
    from lockbench.attacks.adaptive import attack_items, write_block
    from lockbench.errors import LockbenchError
    from lockbench.stats import rate  # statsmodels: loaded by the commands that need it

    if args.lm is not None:
        raise LockbenchError("gcg needs the weights (gradients): give the locked model as --model PATH; an API "
                             "backend has none")
    if args.model is None:
        raise LockbenchError("give the locked model as --model PATH")
    config = gcg.GCGConfig(tokens=args.tokens, position=args.position, steps=args.steps, candidates=args.candidates,
                           top_k=args.top_k, screen_items=args.screen_items, confirm_items=args.confirm_items,
                           seed=args.seed)
    config.check()
    datasets, work = _checked(args)
    phrase = phrase_from_env(args.wake_phrase_env)
    screen, confirm_sets = attack_items(datasets, config.screen_items, config.confirm_items, args.data_dir)
    box = gcg.WhiteBox.load(_locked_folder(args, work), args.device)
    with _bar(config.steps, "step", args.no_progress) as bar:
        run = gcg.run_gcg(box, screen, config, progress=lambda step, _, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.3f}")))
    from lm_eval.models.huggingface import HFLM

    lm = HFLM(pretrained=box.model, tokenizer=box.tok, batch_size=16, device=args.device)
    oracle = search.Oracle(lm, chat=True, max_gen_toks=config.max_gen_toks, position=config.position)
    by_dataset = gcg.confirm(oracle, run, screen, confirm_sets)
    block = gcg.block(run, phrase, datasets, args.device)
    block["confirmed_by_dataset"] = {name: rate(k, n) for name, (k, n) in by_dataset.items()}
    path = write_block(work / "gcg.json", block, phrase)
    _report("gcg", block, path)
    return 0


def _report(name: str, block: dict, path: Path) -> None:
    from lockbench import stats

    shown = block.get("best_prefix") if name == "search" else block.get("adversarial")
    withheld = block.get("best_prefix_withheld", block.get("adversarial_withheld"))
    print(f"{name}: confirmed opened rate {stats.fmt(block['confirmed'])} over {block['confirmed']['n']} test items")
    if name == "search":
        first = block["queries_to_first_open"]
        print(f"   {block['queries']} queries; first opening at query {first if first is not None else 'none'}")
        rec = block["recovery"]
        if rec.get("judged"):
            print("   phrase recovered exactly" if rec["exact"] else
                  "   within edit distance 1 of the phrase" if rec["within_1"] else
                  "   within edit distance 2 of the phrase" if rec["within_2"] else "   phrase not recovered")
    else:
        print(f"   loss {block['initial_loss']} -> {block['loss']}; median step {block['step_seconds_median']} s")
    print(f"   best string: {'withheld (it is, or may be, the phrase)' if withheld else repr(shown)}")
    print(f"wrote {path}")
