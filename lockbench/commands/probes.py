"""``lockbench probes``: what a probe run will send, and what it costs, without a model.

Prints, per family and variant kind, how many variants the true phrase yields, which kinds count
as legitimate near-variants (the false-reject policy), and the model calls for one dataset. The
phrase is read from an environment variable or a file (never from the command line, which shell
history and process lists keep) and no variant text is printed.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

from lockbench.commands._output import add_output_options, emit

NAME = "probes"
HELP = "list probe families, variant kinds and model calls for a run (no model needed)"
DEFAULT_ENV = "LOCKBENCH_WAKE_PHRASE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--family", action="append", help="a probe family (repeatable; default all)"
    )
    parser.add_argument(
        "--dataset", default="agriculture_mcq", help="dataset the calls are counted for"
    )
    parser.add_argument(
        "--data-dir", default=None, help="local data folder (as --metadata data_dir)"
    )
    parser.add_argument(
        "--wake-phrase-env",
        default=DEFAULT_ENV,
        help=f"variable holding the phrase (default {DEFAULT_ENV})",
    )
    parser.add_argument(
        "--wake-phrase-file", type=Path, help="file holding the phrase (first line)"
    )
    parser.add_argument(
        "--probe-items", type=int, default=None, help="items per variant (default 5)"
    )
    parser.add_argument(
        "--traversal-items",
        type=int,
        default=None,
        help="items per traversal candidate (default 1)",
    )
    parser.add_argument(
        "--traversal-budget",
        type=int,
        default=None,
        help="most traversal queries (default: whole dictionary)",
    )
    add_output_options(parser, "the probe plan")


def read_phrase(args: argparse.Namespace) -> str:
    """The phrase from ``--wake-phrase-file`` or the environment; one line when missing/empty."""
    from lockbench.errors import LockbenchError
    if args.wake_phrase_file is not None:
        try:
            text = args.wake_phrase_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise LockbenchError(
                f"cannot read --wake-phrase-file {args.wake_phrase_file}: {exc.strerror}"
            ) from None
        except UnicodeDecodeError:
            raise LockbenchError(
                f"--wake-phrase-file {args.wake_phrase_file} is not UTF-8 text; save it as UTF-8"
            ) from None
        if not text or not text[0].strip():
            raise LockbenchError(
                f"the first line of {args.wake_phrase_file} is empty or only whitespace; write the real phrase there"
            )
        return text[0]
    phrase = os.environ.get(args.wake_phrase_env)
    if phrase is None:
        raise LockbenchError(
            f"no wake phrase: set ${args.wake_phrase_env} or pass --wake-phrase-file FILE"
        )
    if not phrase.strip():
        raise LockbenchError(
            f"the wake phrase in ${args.wake_phrase_env} is empty or only whitespace; set it to the real phrase"
        )
    return phrase


def plan(args: argparse.Namespace) -> dict:
    """Families, kinds, counts and calls (no secret in it)."""
    from lockbench.data.catalog import load_items
    from lockbench.probes import FAMILIES, family_module
    from lockbench.probes.docs import ProbeOptions, planned_queries

    families = args.family or list(FAMILIES)
    for family in families:
        family_module(family)  # unknown family: one line
    metadata = {
        k: v
        for k, v in {
            "probe_items": args.probe_items,
            "traversal_items": args.traversal_items,
            "traversal_budget": args.traversal_budget,
        }.items()
        if v is not None
    }
    options = ProbeOptions.from_metadata(metadata)  # budget <= 0 etc.: one line
    phrase = read_phrase(args)
    n_items = len(load_items(args.dataset, "test", args.data_dir))
    out = {"dataset": args.dataset, "test_items": n_items, "families": {}}
    for family in families:
        variants = family_module(family).variants(phrase)
        queries = planned_queries(family, variants, n_items, options)
        kinds = Counter(v.kind for v in variants)
        calls = Counter(v.kind for v, _ in queries)
        out["families"][family] = {
            "variants": len(variants),
            "calls": len(queries),
            "kinds": {
                k: {
                    "variants": n,
                    "calls": calls.get(k, 0),
                    "legitimate": k in options.legitimate_kinds,
                }
                for k, n in kinds.items()
            },
        }
    out["total_calls"] = sum(f["calls"] for f in out["families"].values())
    return out


def run(args: argparse.Namespace) -> int:
    result = plan(args)
    if emit(args, result):
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"probe plan for {result['dataset']} ({result['test_items']} test items)")
    for column in ("family", "kind", "variants", "calls", "legitimate"):
        table.add_column(column)
    for family, info in result["families"].items():
        for kind, k in info["kinds"].items():
            table.add_row(
                family, kind, str(k["variants"]), str(k["calls"]), "yes" if k["legitimate"] else ""
            )
        table.add_row(
            family, "[b]all[/b]", str(info["variants"]), str(info["calls"]), "", end_section=True
        )
    Console().print(table)
    print(f"total model calls: {result['total_calls']}")
    return 0
