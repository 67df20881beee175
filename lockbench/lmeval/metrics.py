"""lm-eval glue: per-sample scoring (``process_results``) and the metric names lockbench registers.

Registering ``pass_rate``, ``refusal_rate``, ``unparsed_rate``, ``rougeL`` and ``judge_quality``
with lm-eval's registry means no lookup ever falls back to ``evaluate.load`` (which needs the hub).
``rougeL`` is always ROUGE-L F1; a judge's grade is always ``judge_quality``; never one under the
other's name. The scoring itself is :func:`lockbench.judges.score_doc` (re-exported here).
"""

from __future__ import annotations

from typing import Any

import lm_eval.api.metrics  # noqa: F401 - fills lm-eval's aggregation registry ('mean')
from lm_eval.api.registry import metric_registry, register_metric

from lockbench.judges.apply import score_doc
from lockbench.scoring.outcome import Outcome
from lockbench.scoring.rouge import rouge_l

__all__ = ["METRICS", "outcome_metrics", "process_results", "score_doc"]

METRICS = ("pass_rate", "refusal_rate", "unparsed_rate", "rougeL", "judge_quality")
_HIGHER_IS_BETTER = ("pass_rate", "rougeL", "judge_quality")


def _register() -> None:
    for name in METRICS:
        if name in metric_registry:
            continue

        def passthrough(items: Any) -> Any:  # per-sample values come from process_results
            return items

        register_metric(
            metric=name, higher_is_better=name in _HIGHER_IS_BETTER, aggregation="mean"
        )(passthrough)


_register()


def outcome_metrics(
    doc: dict[str, Any], outcome: Outcome, response: str | None = None
) -> dict[str, float]:
    """Per-sample metrics. Dialogue: ``rougeL`` is ROUGE-L F1 (0 for a refusal); when a judge
    graded the answer its grade is ``judge_quality`` (and ``rougeL`` is computed from
    ``response``)."""
    metrics = {"pass_rate": float(outcome.passed), "refusal_rate": float(outcome.refused)}
    if doc["kind"] == "mcq":
        metrics["unparsed_rate"] = float(outcome.unparsed)
        return metrics
    if outcome.quality_metric == "judge_quality":
        metrics["judge_quality"] = float(outcome.quality or 0.0)
        metrics["rougeL"] = (
            0.0 if outcome.refused or response is None else rouge_l(response, doc["reference"])
        )
    else:
        metrics["rougeL"] = float(outcome.quality or 0.0)
    return metrics


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval hook: one generated response in, the sample's metrics out."""
    response = results[0] if results else ""
    return outcome_metrics(doc, score_doc(doc, response), response)
