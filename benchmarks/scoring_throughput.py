"""Keyword scoring throughput: extraction + refusal detection (the clause-level policy) + ROUGE-L
on 10,000 samples, through the single entry point ``score_doc`` with the ``keyword`` judge, in one
process on one core. (The default ``auto`` judge's throughput, which adds the embedding layer for
uncertain responses, is in benchmarks/judge_throughput.py.)

Baseline in the same process: rouge-score alone (a RougeScorer with stemming) on the same
(response, reference) pairs, the least any ROUGE-based scorer must do. Prints samples/s for both
and the ratio. Responses are realistic: the labelled calibration responses and the bundled
reference answers and gold options, cycled to 10,000.

    python benchmarks/scoring_throughput.py [--n 10000]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time

from rouge_score import rouge_scorer

from lockbench.data import load_items
from lockbench.data.catalog import DOMAINS
from lockbench.lmeval.metrics import score_doc
from lockbench.prompts import target_text
from lockbench.scoring.config import ScoringConfig


def samples(n: int) -> list[tuple[dict, str]]:
    from importlib.resources import files

    calibration = [
        json.loads(line)
        for line in files("lockbench.data").joinpath("calibration/judge_calibration.jsonl").read_text().splitlines()
        if line.strip()
    ]
    scoring = ScoringConfig.from_metadata({"judge": "keyword"}).to_json()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    pairs = samples(args.n)

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    start = time.perf_counter()
    for doc, response in pairs:
        scorer.score(doc.get("reference") or doc["_answer"], response)
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    outcomes = [score_doc(doc, response).outcome for doc, response in pairs]
    ours = time.perf_counter() - start

    counts = {k: outcomes.count(k) for k in sorted(set(outcomes))}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (one process)")
    print(f"samples: {len(pairs)}  outcomes: {counts}")
    print(f"rouge-score alone (baseline): {len(pairs) / baseline:,.0f} samples/s")
    print(
        f"lockbench keyword scoring (extraction + refusal policy + ROUGE-L): "
        f"{len(pairs) / ours:,.0f} samples/s on one core (target >= 5,000)"
    )
    print(f"ratio lockbench / baseline throughput: {baseline / ours:.2f}")


if __name__ == "__main__":
    main()
