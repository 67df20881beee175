"""``lockbench dataset add NAME``: register a dataset of your own as lockbench tasks."""

from __future__ import annotations

import argparse
from pathlib import Path

from lockbench.vocab import KINDS

NAME = "dataset"
HELP = "register your own dataset (JSONL in the bundled schema) as lockbench tasks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", parser_class=type(parser))
    sub.required = True
    add = sub.add_parser(
        "add",
        help="validate JSONL files and write lockbench_<NAME>_{locked,unlocked}, probe and latent tasks",
        description="Validate your JSONL files against the bundled row schema "
        "(lockbench/data/bundled/README.md) and write <DIR>/<NAME>/: a copy of the files, a "
        "manifest with their hashes, and lm-eval task configs built from lockbench's own templates. "
        "Run them with `lm_eval --include_path DIR` or with DIR on $LOCKBENCH_TASKS_PATH.",
    )
    add.add_argument("name", metavar="NAME", help="dataset name: lower-case letters, digits, underscores")
    add.add_argument("--kind", required=True, choices=KINDS, help="row schema of the files")
    add.add_argument("--test", required=True, type=Path, metavar="FILE", help="JSONL test split (evaluated)")
    add.add_argument("--train", type=Path, default=None, metavar="FILE",
                     help="JSONL train split (for `lockbench lock build --dataset NAME`)")
    add.add_argument("--domain", default=None, help="domain label recorded in results (default: custom)")
    add.add_argument("--into", required=True, type=Path, metavar="DIR",
                     help="folder that holds your registered datasets (created if missing)")
    add.add_argument("--force", action="store_true", help="replace <DIR>/<NAME> if it exists")


def run(args: argparse.Namespace) -> int:
    from lockbench.data.custom import TASKS_PATH_ENV
    from lockbench.lmeval.user_datasets import add_dataset

    done = add_dataset(args.name, args.kind, args.test, args.into, train=args.train,
                       domain=args.domain, force=args.force)
    splits = ", ".join(f"{s.n_items} {split}" for split, s in done.manifest.splits.items())
    print(f"registered custom dataset '{done.manifest.name}' ({done.manifest.kind}, {splits} items) "
          f"in {done.folder}")
    print(f"tasks: {', '.join(done.tasks)}")
    print(f"run them: lm_eval --include_path {args.into} --tasks lockbench_{done.manifest.name}_locked ... "
          f"(or export {TASKS_PATH_ENV}={args.into})")
    return 0
