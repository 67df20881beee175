"""Terminal tables of a ``lockbench-result`` document (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from lockbench.stats import fmt
from lockbench.vocab import CONDITIONS, is_gate_baseline


def dataset_table(result: dict[str, Any]) -> Table:
    table = Table(title="lockbench: pass rates with 95% intervals", title_justify="left")
    for column in ("dataset", "PR_base", "PR_unlock", "PR_lock", "gap", "refusal unlock",
                   "refusal lock", "retention"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for dataset, row in result["datasets"].items():
        table.add_row(
            dataset,
            fmt(row["pr_base"]),
            fmt(row["pr_unlock"]),
            fmt(row["pr_lock"]),
            fmt(row["gap"]),
            fmt(row["refusal_unlock"]),
            fmt(row["refusal_lock"]),
            fmt(row["retention"]),
        )
    return table


def other_tasks_table(result: dict[str, Any]) -> Table | None:
    """Probe and latent-leakage tasks: one row each (attack success = pass rate)."""
    rows = [
        (name, entry) for name, entry in result["tasks"].items()
        if entry["condition"] not in CONDITIONS
    ]
    if not rows:
        return None
    table = Table(title="probes and latent leakage (pass rate = attack success)", title_justify="left")
    for column in ("task", "condition", "n", "pass rate", "refusal rate"):
        table.add_column(column, justify="left" if column in ("task", "condition") else "right")
    for name, entry in rows:
        table.add_row(name, entry["condition"], str(entry["n"]), fmt(entry["pass_rate"]),
                      fmt(entry["refusal_rate"]))
    return table


def print_result(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=160)
    model = result.get("model", {}).get("name")
    if model:
        gate = is_gate_baseline(result.get("model"))
        console.print(f"model: {model}" + (" behind lockbench-gate (system-level baseline: a string "
                                           "gate in front of the model, not a lock in its weights)"
                                           if gate else ""))
    if result["datasets"]:
        console.print(dataset_table(result))
    other = other_tasks_table(result)
    if other is not None:
        console.print(other)
