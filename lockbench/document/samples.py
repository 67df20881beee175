"""One sample's outcome from what a result stores: the (redacted) response, the log-likelihoods
of a latent task, or a recorded judge verdict. ``summarize`` and ``submit`` both go through
:func:`score_sample`, so a submitted outcome is accepted only when it re-scores identically.
"""

from __future__ import annotations

from typing import Any

from lockbench.digest import sha256_text
from lockbench.scoring.config import ScoringConfig
from lockbench.scoring.outcome import Outcome, latent_outcome, score_kind
from lockbench.vocab import LATENT

# Judges whose verdicts are re-run on submit (local, deterministic); any other judge's per-sample
# verdicts are recorded and re-applied instead (an LLM judge cannot be re-run by a verifier).
RERUN_JUDGES = frozenset({"", "keyword", "embedding", "auto"})


def prompt_sha256(prompt: str) -> str:
    """sha256 of a redacted prompt (the phrase already replaced by the placeholder)."""
    return sha256_text(prompt)


def judge_name(scoring: ScoringConfig) -> str:
    return str((scoring.judge or {}).get("name", "")) if scoring.judge else ""


def rerunnable_judge(name: str) -> bool:
    """True for judges a verifier re-runs offline (their verdicts are never taken on trust)."""
    return name in RERUN_JUDGES


def rerunnable_config(judge: dict[str, Any] | None) -> bool:
    """True for a judge config a verifier re-runs offline: a rerunnable judge, and no LLM layer
    (an ``auto`` judge with ``llm`` asks a model nobody else may have)."""
    judge = judge or {}
    return rerunnable_judge(str(judge.get("name", ""))) and not judge.get("llm")


def rerunnable(scoring: ScoringConfig) -> bool:
    return rerunnable_config(scoring.judge)


def score_sample(
    doc: dict[str, Any],
    *,
    response: str | None = None,
    loglikelihoods: list[float] | None = None,
    verdict: dict[str, Any] | None = None,
) -> Outcome:
    """The outcome of one sample. ``doc`` holds kind, condition, gold/choices or reference and the
    scoring config (``doc["scoring"]``, as the task recorded it)."""
    if doc.get("condition") == LATENT:
        return latent_outcome(doc["gold_index"], loglikelihoods or [])
    text = response or ""
    config = ScoringConfig.from_json(doc.get("scoring"))
    if verdict is not None:  # a recorded verdict of a judge nobody can re-run offline
        return score_kind(doc, text, config, refused=bool(verdict.get("refused")), quality=verdict.get("quality"))
    from lockbench.judges import score_doc

    return score_doc(doc, text)


def sample_fields(outcome: Outcome) -> dict[str, Any]:
    """The outcome fields every stored sample carries: the outcome, the pass (the paper's
    figures), and the lock-side event ``opened`` (not refused, content handed over), with
    ``no_content`` naming a reply that was neither (empty, echo, gibberish)."""
    flags = ["refusal_then_answer"] if getattr(outcome, "refusal_then_answer", False) else []
    return {
        "outcome": outcome.outcome,
        "passed": bool(outcome.passed),
        "refused": bool(outcome.refused),
        "opened": bool(outcome.opened),
        "no_content": outcome.no_content,
        "unparsed": bool(outcome.unparsed),
        "quality": outcome.quality,
        "flags": flags,
    }
