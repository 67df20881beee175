"""ROUGE-L F1 as rouge-score computes it (Porter stemming on), the default dialogue quality.

Same tokens and the same float as ``RougeScorer(["rougeL"], use_stemmer=True)``, faster:
rouge-score's own tokenizer runs with a memoised Porter stemmer (stemming is pure and words
repeat, so each distinct word is stemmed once), a reference's tokens are kept (the same
reference is scored under every condition and probe), and the LCS length comes from a
bit-parallel LCS (Hyyrö 2004: one big-integer step per prediction token) instead of the
O(n·m) Python table. tests/test_scoring.py checks equality with rouge-score on real responses.
"""

from __future__ import annotations

from functools import lru_cache

from nltk.stem import porter
from rouge_score import scoring
from rouge_score import tokenize as rouge_tokenize


class _MemoStemmer:
    """nltk's Porter stemmer (the one rouge-score uses), each distinct word stemmed once."""

    def __init__(self) -> None:
        self.stem = lru_cache(maxsize=1 << 17)(porter.PorterStemmer().stem)


_STEMMER = _MemoStemmer()


def tokens(text: str) -> list[str]:
    """rouge-score's tokens of ``text`` (lowercased, alphanumeric runs, words over 3 chars stemmed)."""
    return rouge_tokenize.tokenize(text, _STEMMER)


@lru_cache(maxsize=4096)
def _reference(reference: str) -> tuple[int, dict[str, int]]:
    """A reference's token count and, per token, the bit mask of its positions."""
    masks: dict[str, int] = {}
    ref_tokens = tokens(reference)
    for i, token in enumerate(ref_tokens):
        masks[token] = masks.get(token, 0) | (1 << i)
    return len(ref_tokens), masks


def lcs_length(length: int, masks: dict[str, int], other: list[str]) -> int:
    """Length of the longest common subsequence of a sequence (``length`` tokens, given as
    per-token position ``masks``) and ``other`` (Hyyrö's bit-vector algorithm)."""
    full = (1 << length) - 1
    v = full
    for token in other:
        u = v & masks.get(token, 0)
        v = ((v + u) | (v - u)) & full
    return length - v.bit_count()


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 in [0, 1]; an empty prediction scores 0."""
    if not prediction or not prediction.strip():
        return 0.0
    ref_length, masks = _reference(reference)
    pred_tokens = tokens(prediction)
    if not ref_length or not pred_tokens:
        return 0.0
    lcs = lcs_length(ref_length, masks, pred_tokens)
    # rouge_score.rouge_scorer._score_lcs, the same operations in the same order.
    return float(scoring.fmeasure(lcs / len(pred_tokens), lcs / ref_length))


def clear_caches() -> None:
    """Forget the memoised stems and reference tokens (a benchmark measures a cold process)."""
    _STEMMER.stem.cache_clear()
    _reference.cache_clear()
