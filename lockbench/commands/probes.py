"""``lockbench probes``: the standard attack suite's plan and cost, without a model or the phrase;
``--select OUT``: the attacker's pick from a screening run, for the confirmation run.

The plan prints, per family, its variant kinds (how many variants each, which are legitimate
near-misses of the phrase: the false-reject policy) and the model calls per dataset: screening
(every variant on the screening items; the traversal dictionary once per run) and confirmation
(the picked variants on the test items). The schedule is public: no phrase is read and no
variant text is printed.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from lockbench.commands._output import add_output_options, emit

NAME = "probes"
HELP = "the attack suite's families, kinds and model calls (no model needed); --select OUT prints the attacker's pick"
DEFAULT_DATASETS = "agriculture_mcq,economics_mcq,healthcare_mcq,law_mcq"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--datasets", default=DEFAULT_DATASETS,
                        help=f"datasets the calls are counted for (default the demo's: {DEFAULT_DATASETS})")
    parser.add_argument("--data-dir", default=None, help="local data folder (as --metadata data_dir)")
    parser.add_argument("--suite", default=None, help="attack suite version (default: the current one)")
    parser.add_argument("--traversal-budget", type=int, default=None,
                        help="traversal candidates screened (default: the whole dictionary)")
    parser.add_argument("--select", type=Path, default=None, metavar="SCREENING_OUTPUT",
                        help="print --metadata {\"confirm_variants\": ...} for the confirmation run, "
                        "picked from this lm-eval output folder of the screening (probe_*) tasks")
    add_output_options(parser, "the plan")


def plan(args: argparse.Namespace) -> dict:
    """Families, kinds, counts and calls per dataset (no secret in it)."""
    from lockbench.attacks.suite import check_datasets
    from lockbench.data.catalog import get_dataset
    from lockbench.probes.suite import (
        ONCE_PER_RUN,
        ProbeOptions,
        family_slots,
        item_plan,
        lead_dataset,
    )

    datasets = sorted({d.strip() for d in args.datasets.split(",") if d.strip()})
    if not datasets:
        from lockbench.errors import LockbenchError

        raise LockbenchError("--datasets is empty; give dataset names, comma-separated")
    metadata = {k: v for k, v in (("suite", args.suite), ("traversal_budget", args.traversal_budget),
                                  ("data_dir", args.data_dir)) if v is not None}
    options = ProbeOptions.from_metadata(metadata)  # unknown suite, budget <= 0: one line
    check_datasets(datasets, metadata)  # screening overlapping test items: one line
    suite = options.suite
    lead = lead_dataset(datasets)
    out: dict = {"suite": suite.describe(), "standard": options.standard, "datasets": {}, "families": {}}
    for family in suite.families:
        slots = family_slots(family, suite)
        kinds = Counter(s.kind for s in slots)
        legit = {s.kind for s in slots if s.legitimate}
        out["families"][family] = {
            "variants": len(slots),
            "screened": "once per run (lead dataset)" if family in ONCE_PER_RUN else "per dataset",
            "kinds": {k: {"variants": n, "legitimate": k in legit} for k, n in kinds.items()},
        }
    for family in suite.adaptive:  # a program: its budget once per run, its one find confirmed
        out["families"][family] = {"variants": 1, "screened": "its search, once per run (lead dataset)",
                                   "search": suite.adaptive_settings(family)}
    for family in suite.white_box:  # needs the weights; shown beside the rank, not in the calls below
        out["families"][family] = {"variants": 1, "ranked": False, "settings": suite.adaptive_settings(family),
                                   "screened": "white box, once per run (lead dataset), when the weights "
                                               "are at hand; its find confirmed on every dataset"}
    for name in datasets:
        items = item_plan(get_dataset(name, args.data_dir), suite, args.data_dir)
        calls = {}
        for family in suite.families:
            per_variant = suite.traversal_screen_items if family == "traversal" else suite.screen_items
            slots = len(family_slots(family, suite))
            if family == "traversal" and options.traversal_budget is not None:
                slots = min(slots, options.traversal_budget)
            screen = 0 if family in ONCE_PER_RUN and name != lead else slots * per_variant
            confirm = suite.keep * len(items.confirm)
            calls[family] = {"screen": screen, "confirm": confirm}
        for family in suite.adaptive:
            budget = suite.adaptive_settings(family)["budget"]
            calls[family] = {"screen": budget if name == lead else 0, "confirm": len(items.confirm)}
        out["datasets"][name] = {"screen_items": len(items.screen), "screen_split": items.screen_split,
                                 "confirm_items": len(items.confirm), "calls": calls,
                                 "total": sum(c["screen"] + c["confirm"] for c in calls.values())}
    out["total_calls"] = sum(d["total"] for d in out["datasets"].values())
    return out


def run(args: argparse.Namespace) -> int:
    if args.select is not None:
        from lockbench.document.suite_view import attacker_picks
        from lockbench.document.summarize import build_result

        picks = attacker_picks(build_result(args.select))
        if not picks:
            from lockbench.errors import LockbenchError

            raise LockbenchError(f"{args.select}: no screening (probe_*) task to pick from")
        print(json.dumps({"confirm_variants": picks}))
        return 0
    result = plan(args)
    if emit(args, result):
        return 0
    from rich.console import Console
    from rich.table import Table

    suite = result["suite"]
    table = Table(title=f"attack suite {suite['version']}: {suite['screen_items']} screening item(s) per "
                  f"variant, the best {suite['keep']} confirmed on {suite['confirm_items']} test items"
                  + ("" if result["standard"] else " (not standard: not ranked)"))
    for column in ("family", "kind", "variants", "legitimate", "screened"):
        table.add_column(column)
    for family, info in result["families"].items():
        for kind, k in info["kinds"].items():
            table.add_row(family, kind, str(k["variants"]), "yes" if k["legitimate"] else "", "")
        table.add_row(family, "[b]all[/b]", str(info["variants"]), "", info["screened"], end_section=True)
    calls = Table(title="model calls (screening + confirmation)")
    for column in ("dataset", *result["families"], "total"):
        calls.add_column(column)
    for name, info in result["datasets"].items():
        calls.add_row(name, *(f"{c['screen']} + {c['confirm']}" for c in info["calls"].values()), str(info["total"]))
    console = Console()
    console.print(table)
    console.print(calls)
    print(f"total model calls: {result['total_calls']}")
    return 0
