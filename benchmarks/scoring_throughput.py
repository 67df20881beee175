"""Scoring throughput: the ``keyword`` judge's scoring (extraction + the clause-level refusal
policy + ROUGE-L) on 10,000 samples through the single entry point ``score_doc``, single-threaded,
against rouge-score alone on the same pairs; then the default ``auto`` judge (keyword layer plus
the embedding layer for the uncertain responses) through the same entry point on 2 cores.

The machine is shared, so wall-clock is noisy: every figure is given per CPU-second of this
process (``time.process_time``) as well as per wall second, the keyword scoring and its baseline
alternate for ``--rounds`` rounds (best and median reported, and their ratio: the number that
survives a busy machine), and ``uptime`` is printed with the figures. Each keyword round starts
with lockbench's ROUGE caches cleared (a cold process). Responses are realistic: the labelled
calibration responses and the bundled reference answers and gold options, cycled to 10,000.

    python benchmarks/scoring_throughput.py [--n 10000] [--rounds 3] [--auto-n 1000] [--auto-threads 1,2] [--skip-auto]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rouge_score import rouge_scorer  # noqa: E402

from lockbench.data import load_items  # noqa: E402
from lockbench.data.catalog import DOMAINS  # noqa: E402
from lockbench.lmeval.metrics import score_doc  # noqa: E402
from lockbench.prompts import target_text  # noqa: E402
from lockbench.scoring import rouge  # noqa: E402
from lockbench.scoring.config import ScoringConfig  # noqa: E402

GOAL = 5_000  # issues 13 and 25: keyword scoring samples per second per core
AUTO_GOAL = 100  # issue 25: the default auto judge (no LLM layer), samples per second on 2 cores


def samples(n: int, judge: dict | None = None) -> list[tuple[dict, str]]:
    from importlib.resources import files

    calibration = [
        json.loads(line)
        for line in files("lockbench.data").joinpath("calibration/judge_calibration.jsonl").read_text().splitlines()
        if line.strip()
    ]
    scoring = ScoringConfig.from_metadata({"judge": judge or "keyword"}).to_json()
    docs = []
    for domain in DOMAINS:
        for item in load_items(f"{domain}_mcq", "test"):
            docs.append({"kind": "mcq", "choices": list(item.choices), "gold": item.gold_letter,
                         "scoring": scoring, "_answer": target_text(item)})
        for item in load_items(f"{domain}_dialogue", "test"):
            docs.append({"kind": "dialogue", "reference": item.output, "scoring": scoring,
                         "_answer": item.output})
    responses = [row["response"] for row in calibration]
    pairs = []
    for doc, response in zip(itertools.cycle(docs), itertools.cycle(responses + [d["_answer"] for d in docs])):
        pairs.append((doc, response))
        if len(pairs) == n:
            break
    return pairs


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def keyword_section(n: int, rounds: int) -> None:
    pairs = samples(n)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)

    def baseline() -> None:
        for doc, response in pairs:
            scorer.score(doc.get("reference") or doc["_answer"], response)

    def ours() -> None:
        # Each round pays for its own stems and reference tokens. (getattr: the script also runs
        # against an older checkout on PYTHONPATH, for a before/after comparison.)
        getattr(rouge, "clear_caches", lambda: None)()
        for doc, response in pairs:
            score_doc(doc, response)

    outcomes = [score_doc(doc, response).outcome for doc, response in pairs]
    counts = {k: outcomes.count(k) for k in sorted(set(outcomes))}
    print(f"before: {uptime()}")
    print(f"samples: {len(pairs)}  outcomes: {counts}  (single-threaded, one process)")
    base_runs, our_runs = [], []
    for r in range(rounds):
        base_runs.append(timed(baseline))
        our_runs.append(timed(ours))
        (bw, bc), (ow, oc) = base_runs[-1], our_runs[-1]
        print(
            f"  round {r + 1}: rouge-score alone {n / bc:,.0f}/CPU-s ({n / bw:,.0f}/s wall), "
            f"keyword scoring {n / oc:,.0f}/CPU-s ({n / ow:,.0f}/s wall), ratio {bc / oc:.2f}"
        )
    print(f"after:  {uptime()}")

    def summary(runs: list[tuple[float, float]]) -> str:
        per_cpu = sorted(n / c for _, c in runs)
        per_wall = sorted(n / w for w, _ in runs)
        return (
            f"best {per_cpu[-1]:,.0f} / median {statistics.median(per_cpu):,.0f} samples per CPU-second "
            f"(wall: best {per_wall[-1]:,.0f}/s)"
        )

    ratios = [bc / oc for (_, bc), (_, oc) in zip(base_runs, our_runs, strict=True)]
    best = max(n / c for _, c in our_runs)
    print(f"rouge-score alone (baseline):             {summary(base_runs)}")
    print(f"lockbench keyword scoring (policy+ROUGE): {summary(our_runs)}")
    print(
        f"ratio keyword scoring / rouge-score alone: median {statistics.median(ratios):.2f} "
        f"(rounds {', '.join(f'{x:.2f}' for x in ratios)})"
    )
    verdict = "met" if best >= GOAL else "NOT met"
    print(f"goal >= {GOAL:,} samples per CPU-second on one core: {verdict} (best round {best:,.0f})")


def auto_section(n: int, threads: list[int]) -> None:
    """The default judge as lm-eval runs it: sample by sample through ``score_doc``, the uncertain
    responses sent to the embedding layer one at a time (torch with ``threads`` threads)."""
    import torch

    # The persistent judgment cache off: a cache hit is not a judgment.
    pairs = samples(n, {"name": "auto", "cache": False})
    detector = ScoringConfig.from_json(pairs[0][0]["scoring"]).detector()
    uncertain = [
        (d, r)
        for d, r in pairs
        if not detector.analyse(r, d["kind"], d.get("choices") if d["kind"] == "mcq" else None).confident
    ]
    score_doc(*uncertain[0])  # loads the embedding model: not timed
    for count in threads:
        torch.set_num_threads(count)
        print(f"before: {uptime()}")
        wall, cpu = timed(lambda: [score_doc(doc, response) for doc, response in pairs])
        print(f"after:  {uptime()}")
        print(
            f"auto judge (default), {os.cpu_count()} cores, torch threads {count}: "
            f"{n / wall:,.1f} samples/s wall, {n / cpu:,.1f} per CPU-second "
            f"({n} samples, {len(uncertain)} uncertain for the keyword layer, scored one at a time, "
            "as lm-eval scores)"
        )
        verdict = "met" if n / wall >= AUTO_GOAL else "NOT met"
        print(f"goal >= {AUTO_GOAL} samples/s for auto on {os.cpu_count()} cores: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--auto-n", type=int, default=1_000)
    parser.add_argument(
        "--auto-threads", default="1,2", help="torch thread counts for the auto runs (default 1,2)"
    )
    parser.add_argument("--skip-auto", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    keyword_section(args.n, args.rounds)
    if not args.skip_auto:
        auto_section(args.auto_n, [int(t) for t in args.auto_threads.split(",")])


if __name__ == "__main__":
    main()
