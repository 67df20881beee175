"""Scoring: answer extraction, refusal detection, ROUGE, and one outcome per sample."""

from lockbench.scoring.config import DEFAULT_JUDGE, SCORING_VERSION, ScoringConfig
from lockbench.scoring.extraction import extract_choice
from lockbench.scoring.outcome import Outcome, score_dialogue, score_mcq
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT, RefusalDetector, apply_policy
from lockbench.scoring.rouge import rouge_l

__all__ = [
    "DEFAULT_JUDGE",
    "DEFAULT_REFUSAL_TEXT",
    "Outcome",
    "RefusalDetector",
    "SCORING_VERSION",
    "ScoringConfig",
    "apply_policy",
    "extract_choice",
    "rouge_l",
    "score_dialogue",
    "score_mcq",
]
