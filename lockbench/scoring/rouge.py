"""ROUGE-L F1 with rouge-score (Porter stemming on), the default dialogue quality."""

from __future__ import annotations

from functools import lru_cache

from rouge_score import rouge_scorer


@lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 in [0, 1]; an empty prediction scores 0."""
    if not prediction or not prediction.strip():
        return 0.0
    return float(_scorer().score(reference, prediction)["rougeL"].fmeasure)
