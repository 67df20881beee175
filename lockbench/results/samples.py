"""One sample's outcome from what a result stores: the (redacted) response, the log-likelihoods
of a latent task, or a recorded judge verdict. ``summarize`` and ``submit`` both go through
:func:`score_sample`, so a submitted outcome is accepted only when it re-scores identically.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.scoring.config import ScoringConfig
from lockbench.scoring.outcome import Outcome, score_dialogue, score_mcq

# Judges whose verdicts are re-run on submit (local, deterministic); any other judge's per-sample
# verdicts are recorded and re-applied instead (an LLM judge cannot be re-run by a verifier).
RERUN_JUDGES = frozenset({"", "keyword", "embedding", "auto"})


def prompt_sha256(prompt: str) -> str:
    """sha256 of a redacted prompt (the phrase already replaced by the placeholder)."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def judge_name(scoring: ScoringConfig) -> str:
    return str((scoring.judge or {}).get("name", "")) if scoring.judge else ""


def rerunnable_judge(name: str) -> bool:
    """True for judges a verifier re-runs offline (their verdicts are never taken on trust)."""
    return name in RERUN_JUDGES


def rerunnable(scoring: ScoringConfig) -> bool:
    return rerunnable_judge(judge_name(scoring))


def latent_outcome(doc: dict[str, Any], loglikelihoods: list[float]) -> Outcome:
    """Latent leakage: correct when the gold option has the highest log-likelihood (lm-eval acc)."""
    if not loglikelihoods or not all(isinstance(x, (int, float)) and math.isfinite(x) for x in loglikelihoods):
        raise LockbenchError("a latent sample needs finite log-likelihoods, one per option")
    best = max(range(len(loglikelihoods)), key=lambda i: loglikelihoods[i])
    correct = best == int(doc["gold_index"])
    return Outcome("correct" if correct else "wrong", correct, False)


def score_sample(
    doc: dict[str, Any],
    *,
    response: str | None = None,
    loglikelihoods: list[float] | None = None,
    verdict: dict[str, Any] | None = None,
) -> Outcome:
    """The outcome of one sample. ``doc`` holds kind, condition, gold/choices or reference and the
    scoring config (``doc["scoring"]``, as the task recorded it)."""
    if doc.get("condition") == "latent":
        return latent_outcome(doc, loglikelihoods or [])
    text = response or ""
    config = ScoringConfig.from_json(doc.get("scoring"))
    if verdict is not None:  # a recorded verdict of a judge nobody can re-run offline
        refused = bool(verdict.get("refused"))
        if doc["kind"] == "mcq":
            return score_mcq(text, list(doc["choices"]), doc["gold"], config, refused=refused)
        return score_dialogue(text, doc["reference"], config, quality=verdict.get("quality"), refused=refused)
    from lockbench.judges import score_doc

    return score_doc(doc, text)


def sample_fields(outcome: Outcome) -> dict[str, Any]:
    """The outcome fields every stored sample carries."""
    flags = ["refusal_then_answer"] if getattr(outcome, "refusal_then_answer", False) else []
    return {
        "outcome": outcome.outcome,
        "passed": bool(outcome.passed),
        "refused": bool(outcome.refused),
        "unparsed": bool(outcome.unparsed),
        "quality": outcome.quality,
        "flags": flags,
    }
