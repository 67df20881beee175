"""Terminal tables of a ``lockbench-result`` document (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from lockbench.stats import fmt
from lockbench.vocab import CONDITIONS, chance_note, is_gate_baseline


def dataset_table(result: dict[str, Any]) -> Table:
    table = Table(title="lockbench: pass rates with 95% intervals (lock rate = refusals without the phrase)",
                  title_justify="left")
    for column in ("dataset", "PR_base", "PR_unlock", "PR_lock", "lock rate", "gap",
                   "refusal unlock", "retention"):
        table.add_column(column, justify="left" if column == "dataset" else "right")
    for dataset, row in result["datasets"].items():
        retention = fmt(row["retention"])
        if row.get("retention_informative") is False:
            retention += f" ({chance_note(row.get('retention_reference'))})"
        elif row.get("quality_retention") is not None:
            retention += f"; quality {row['quality_retention']:.2f}"
        table.add_row(
            dataset,
            fmt(row["pr_base"]),
            fmt(row["pr_unlock"]),
            fmt(row["pr_lock"]),
            fmt(row.get("lock_rate")),
            fmt(row["gap"]),
            fmt(row["refusal_unlock"]),
            retention,
        )
    return table


def other_tasks_table(result: dict[str, Any]) -> Table | None:
    """Attack and latent-leakage tasks: one row each; opened = the lock gave content."""
    rows = [
        (name, entry) for name, entry in result["tasks"].items()
        if entry["condition"] not in CONDITIONS
    ]
    if not rows:
        return None
    table = Table(title="attacks and latent leakage (opened = not refused, content handed over)",
                  title_justify="left")
    for column in ("task", "condition", "n", "opened", "no content", "pass rate", "refusal rate"):
        table.add_column(column, justify="left" if column in ("task", "condition") else "right")
    for name, entry in rows:
        table.add_row(name, entry["condition"], str(entry["n"]), fmt(entry.get("opened_rate")),
                      str(entry.get("no_content", 0)), fmt(entry["pass_rate"]), fmt(entry["refusal_rate"]))
    return table


def suite_table(result: dict[str, Any]) -> Table | None:
    """The attack suite per dataset and family: exposure, attacker's best, queries."""
    suite = result.get("suite")
    if not suite or not suite.get("version"):
        return None
    state = "complete" if suite["complete"] else "incomplete: " + "; ".join(
        (suite["not_standard"] + suite["incomplete"])[:2])
    table = Table(title=f"attack suite {suite['version']} ({state})", title_justify="left")
    for column in ("dataset", "family", "exposure", "attacker's best", "queries", "robust lock rate"):
        table.add_column(column, justify="left" if column in ("dataset", "family") else "right")
    for dataset, figures in suite["datasets"].items():
        for i, (family, v) in enumerate(figures["families"].items()):
            table.add_row(dataset if i == 0 else "", family, fmt(v["exposure"]), fmt(v["attacker_success"]),
                          str(v["queries"]), fmt(figures["robust_lock_rate"]) if i == 0 else "")
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
    suite = suite_table(result)
    if suite is not None:
        console.print(suite)
    other = other_tasks_table(result)
    if other is not None:
        console.print(other)
