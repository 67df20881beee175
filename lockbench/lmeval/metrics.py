"""Per-sample scoring for lm-eval (``process_results``) and the metric names lockbench registers.

Registering ``pass_rate``, ``refusal_rate``, ``unparsed_rate`` and ``rougeL`` with lm-eval's
registry means no lookup ever falls back to ``evaluate.load`` (which needs the hub).
"""

from __future__ import annotations

from typing import Any

import lm_eval.api.metrics  # noqa: F401 - fills lm-eval's aggregation registry ('mean')
from lm_eval.api.registry import metric_registry, register_metric

from lockbench.scoring.config import ScoringConfig
from lockbench.scoring.outcome import Outcome, score_dialogue, score_mcq

METRICS = ("pass_rate", "refusal_rate", "unparsed_rate", "rougeL")


def _register() -> None:
    for name in METRICS:
        if name in metric_registry:
            continue

        def passthrough(items: Any) -> Any:  # per-sample values come from process_results
            return items

        register_metric(
            metric=name, higher_is_better=name in ("pass_rate", "rougeL"), aggregation="mean"
        )(passthrough)


_register()


def score_doc(doc: dict[str, Any], response: str) -> Outcome:
    """The outcome of one logged or live sample (also used by ``lockbench summarize``)."""
    config = ScoringConfig.from_json(doc.get("scoring"))
    if config.judge:  # a judge chosen with --metadata '{"judge": {...}}' replaces layer 1
        from lockbench.judges.apply import score_with_judge

        return score_with_judge(doc, response, config)
    if doc["kind"] == "mcq":
        return score_mcq(response, list(doc["choices"]), doc["gold"], config)
    return score_dialogue(response, doc["reference"], config)


def outcome_metrics(doc: dict[str, Any], outcome: Outcome) -> dict[str, float]:
    metrics = {"pass_rate": float(outcome.passed), "refusal_rate": float(outcome.refused)}
    if doc["kind"] == "mcq":
        metrics["unparsed_rate"] = float(outcome.unparsed)
    else:
        metrics["rougeL"] = float(outcome.quality or 0.0)
    return metrics


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, float]:
    """lm-eval hook: one generated response in, the sample's metrics out."""
    response = results[0] if results else ""
    return outcome_metrics(doc, score_doc(doc, response))
