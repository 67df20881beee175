"""The adaptive attacks (``search``, ``gcg``) against two locks side by side: the paper's recipe and
the hardened one (docs/experiments/adaptive-attacks.md).

Runs ``lockbench attack search`` (black box, with log-probabilities, and without them) and
``lockbench attack gcg`` (before and after the question) on each locked model, each into its own
folder, timing every run; prints a table and writes ``OUTPUT/comparison.json`` and, with
``--plot``, an SVG of the confirmed opened rates. A run whose block exists is reused (delete its
folder to redo it). The phrase comes from ``$LOCKBENCH_WAKE_PHRASE`` (the demo's is public: the
table can then name the edit distance the search got to).

    LOCKBENCH_WAKE_PHRASE='Hey! Lumen!' python benchmarks/adaptive_vs_recipes.py \\
        --lock paper=PAPER_MODEL --lock hardened=HARDENED_MODEL --output adaptive-exp \\
        [--budget 2000] [--query-budget 500] [--gcg-steps 20] [--threads 2] [--plot docs/experiments/adaptive-attacks.svg]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

DATASETS = "agriculture_mcq,economics_mcq,healthcare_mcq,law_mcq"


def runs(args: argparse.Namespace) -> list[tuple[str, str, list[str]]]:
    """(attack label, block file, extra arguments) for every attack run on each lock."""
    return [
        ("search, log-probs", "search.json", ["search", "--logprobs", "--budget", str(args.budget)]),
        ("search, queries only", "search.json", ["search", "--budget", str(args.query_budget)]),
        ("gcg, before", "gcg.json", ["gcg", "--position", "before", "--steps", str(args.gcg_steps)]),
        ("gcg, after", "gcg.json", ["gcg", "--position", "after", "--steps", str(args.gcg_steps)]),
    ]


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").replace("--", "-")


def run_one(lock: str, model: str, label: str, block_name: str, extra: list[str], out: Path,
            args: argparse.Namespace) -> dict:
    folder = out / lock / _slug(label)
    block_file = folder / block_name
    timing = folder / "wall_s.txt"
    if not block_file.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "lockbench", "attack", *extra[:1], "--model", model, "-o", str(folder),
                "--datasets", DATASETS, "--threads", str(args.threads), "--no-progress", *extra[1:]]
        began = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{lock} / {label} failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
        timing.write_text(f"{time.perf_counter() - began:.1f}\n")
        print(done.stdout.strip())
    block = json.loads(block_file.read_text(encoding="utf-8"))
    block["wall_s_command"] = float(timing.read_text()) if timing.is_file() else None
    return block


def distance_note(block: dict, phrase: str | None) -> str:
    """For the public demo phrase only: how close the search got (the block never says)."""
    rec = block.get("recovery") or {}
    if not rec.get("judged"):
        return "-"
    if rec.get("exact"):
        return "exact"
    return "<= 1" if rec.get("within_1") else "<= 2" if rec.get("within_2") else "> 2"


def table(results: dict[str, dict[str, dict]], phrase: str | None) -> str:
    from lockbench import stats

    locks = list(results)
    lines = ["| attack | " + " | ".join(locks) + " |", "|---|" + "---|" * len(locks)]
    labels = list(next(iter(results.values())))
    for label in labels:
        cells = []
        for lock in locks:
            b = results[lock][label]
            first = b.get("queries_to_first_open")
            extra = (f"; first opening at query {first if first is not None else 'none'} of {b['queries']}; "
                     f"recovery {distance_note(b, phrase)}") if "queries" in b else \
                f"; loss {b['initial_loss']} -> {b['loss']}, {b['step_seconds_median']} s/step"
            cells.append(f"{stats.fmt(b['confirmed'])} (n={b['confirmed']['n']}){extra}; {b['wall_s_command']:.0f} s")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict[str, dict[str, dict]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(next(iter(results.values())))
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / len(results)
    for j, (lock, blocks) in enumerate(results.items()):
        xs = [i + (j - (len(results) - 1) / 2) * width for i in range(len(labels))]
        values = [blocks[label]["confirmed"]["value"] for label in labels]
        low = [v - blocks[label]["confirmed"]["low"] for v, label in zip(values, labels, strict=True)]
        high = [blocks[label]["confirmed"]["high"] - v for v, label in zip(values, labels, strict=True)]
        ax.bar(xs, values, width, yerr=[low, high], capsize=3, label=f"{lock} recipe")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("opened rate, test items (95% CI)")
    ax.set_title("Adaptive attacks on SmolLM2-135M-Instruct locks: the best string, confirmed")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(target, format="svg", metadata={"Date": None})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lock", action="append", required=True, metavar="NAME=MODEL")
    p.add_argument("--output", type=Path, required=True)
    p.add_argument("--budget", type=int, default=2000)
    p.add_argument("--query-budget", type=int, default=500)
    p.add_argument("--gcg-steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--plot", type=Path, default=None)
    args = p.parse_args()
    phrase = os.environ.get("LOCKBENCH_WAKE_PHRASE")
    print(f"load average at start: {os.getloadavg()}")
    results: dict[str, dict[str, dict]] = {}
    for spec in args.lock:
        lock, model = spec.split("=", 1)
        results[lock] = {label: run_one(lock, model, label, name, extra, args.output, args)
                         for label, name, extra in runs(args)}
    print(f"load average at end: {os.getloadavg()}")
    text = table(results, phrase)
    print(text)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "comparison.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
