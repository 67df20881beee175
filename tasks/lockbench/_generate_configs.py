"""Write one small YAML per (dataset, condition) and the group files, from lockbench's catalog.

Run from anywhere: ``python tasks/lockbench/_generate_configs.py``. The output is committed;
tests check it is up to date, so edit the catalog or this script, never the generated files.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from lockbench.data.catalog import DATASETS  # noqa: E402
from lockbench.lmeval.task_configs import CONDITIONS, condition_task, probe_tasks, render  # noqa: E402
from lockbench.probes import ADAPTIVE, FAMILIES  # noqa: E402


def family(spec) -> str:
    return "bundled" if spec.source == "bundled" else spec.source


def task_files() -> dict[Path, dict]:
    files = {}
    for spec in DATASETS.values():
        for condition in CONDITIONS:
            name, config = condition_task(spec, condition)
            files[HERE / family(spec) / f"{name}.yaml"] = config
    return files


def aggregate(tasks: list[str]) -> list[dict]:
    return [
        {"metric": m, "aggregation": "mean", "weight_by_size": True}
        for m in ("pass_rate", "refusal_rate")
    ]


def group_files() -> dict[Path, dict]:
    files: dict[Path, dict] = {}

    def tasks_of(source_filter, kind: str | None, condition: str) -> list[str]:
        return [
            f"lockbench_{s.name}_{condition}"
            for s in DATASETS.values()
            if source_filter(s) and (kind is None or s.kind == kind)
        ]

    def condition_groups(prefix: str, source_filter, kind: str | None) -> list[str]:
        names = []
        for condition in CONDITIONS:
            group = f"{prefix}-{condition}"
            tasks = tasks_of(source_filter, kind, condition)
            files[HERE / "groups" / f"{group}.yaml"] = {
                "group": group,
                "task": tasks,
                "aggregate_metric_list": aggregate(tasks),
                "metadata": {"version": 1.0},
            }
            names.append(group)
        return names

    def plain_group(group: str, members: list[str]) -> None:
        files[HERE / "groups" / f"{group}.yaml"] = {
            "group": group,
            "task": members,
            "metadata": {"version": 1.0},
        }

    bundled = lambda s: s.source == "bundled"  # noqa: E731
    plain_group("lockbench-mcq", condition_groups("lockbench-mcq", bundled, "mcq"))
    plain_group("lockbench-dialogue", condition_groups("lockbench-dialogue", bundled, "dialogue"))
    plain_group("lockbench", ["lockbench-mcq", "lockbench-dialogue"])
    plain_group("lockbench-mmlu", condition_groups("lockbench-mmlu", lambda s: s.source == "mmlu", None))
    plain_group(
        "lockbench-chatdoctor",
        [f"lockbench_chatdoctor_{c}" for c in CONDITIONS],
    )
    return files


def probe_task_files() -> dict[Path, dict]:
    """``lockbench_<dataset>_probe_<family>`` for every dataset, ``lockbench_<mcq>_latent``."""
    files = {}
    for spec in DATASETS.values():
        for name, config in probe_tasks(spec).items():
            files[HERE / "probes" / f"{name}.yaml"] = config
    return files


def probe_group_files() -> dict[Path, dict]:
    """Per-family groups and ``lockbench-probes`` over the bundled sets, ``lockbench-latent``."""
    bundled = [s for s in DATASETS.values() if s.source == "bundled"]
    files: dict[Path, dict] = {}
    # The attack suite's two steps: screening (probe) and confirmation (needs --metadata
    # confirm_variants), each a group per family and one over the families.
    # An adaptive family (search) has confirmation tasks only, outside lockbench-confirm: they need
    # the search's find (--metadata adaptive), which `lockbench attack suite` passes.
    for step, condition in (("probes", "probe"), ("confirm", "confirm")):
        for fam in (*FAMILIES, *ADAPTIVE) if step == "confirm" else FAMILIES:
            group = f"lockbench-{step}-{fam.replace('_', '-')}"
            tasks = [f"lockbench_{s.name}_{condition}_{fam}" for s in bundled]
            files[HERE / "probes" / "groups" / f"{group}.yaml"] = {
                "group": group,
                "task": tasks,
                "aggregate_metric_list": aggregate(tasks),
                "metadata": {"version": 1.0},
            }
        files[HERE / "probes" / "groups" / f"lockbench-{step}.yaml"] = {
            "group": f"lockbench-{step}",
            "task": [f"lockbench-{step}-{fam.replace('_', '-')}" for fam in FAMILIES],
            "metadata": {"version": 1.0},
        }
    files[HERE / "probes" / "groups" / "lockbench-latent.yaml"] = {
        "group": "lockbench-latent",
        "task": [f"lockbench_{s.name}_latent" for s in bundled if s.kind == "mcq"],
        "aggregate_metric_list": [
            {"metric": "acc", "aggregation": "mean", "weight_by_size": True}
        ],
        "metadata": {"version": 1.0},
    }
    return files


def expected_files() -> dict[Path, str]:
    configs = {**task_files(), **group_files(), **probe_task_files(), **probe_group_files()}
    return {path: render(cfg) for path, cfg in configs.items()}


def main() -> None:
    for folder in ("bundled", "mmlu", "chatdoctor", "groups", "probes", "probes/groups"):
        for old in (HERE / folder).glob("*.yaml"):
            old.unlink()
    for path, text in expected_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(expected_files())} files under {HERE}")


if __name__ == "__main__":
    main()
