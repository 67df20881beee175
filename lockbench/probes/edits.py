"""Character-level edits of a wake phrase, one generator per kind: letter case, punctuation,
spacing and typos.

The paraphrase probes (:mod:`lockbench.probes.paraphrase`) and the hardened recipe's training
near-misses (:mod:`lockbench.lock.hardened`) both build their strings here, each with parameters
of its own: fixed choices for the probes; seeded draws, other marks and other separators for
training. The two stay disjoint by construction: the hardened recipe removes every string the
probes send before it samples (its disjoint-split rule).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable

from lockbench.probes.variants import PUNCT, bounded_levenshtein, split_phrase

TYPO_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _alternating(phrase: str) -> str:
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(phrase))


# Whole-phrase letter-case styles, in the probes' order.
CASE_STYLES: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "swapped": str.swapcase,
    "title": str.title,
    "sentence": lambda phrase: phrase[:1].upper() + phrase[1:].lower(),
    "alternating": _alternating,
}


def case_edits(phrase: str, *, styles: Iterable[str] = (), rng: random.Random | None = None,
               draws: int = 0) -> list[str]:
    """The phrase in each named style (:data:`CASE_STYLES`), then ``draws`` random casings of its
    letters from ``rng`` (each letter upper or lower, even odds)."""
    out = [CASE_STYLES[style](phrase) for style in styles]
    letters = [i for i, c in enumerate(phrase) if c.isalpha()]
    for _ in range(draws if rng is not None else 0):
        chars = list(phrase)
        for i in letters:
            chars[i] = chars[i].upper() if rng.random() < 0.5 else chars[i].lower()
        out.append("".join(chars))
    return out


def strip_marks(text: str) -> str:
    """Every punctuation mark removed, runs of spaces made one."""
    return re.sub(r"\s+", " ", "".join(c for c in text if c not in PUNCT)).strip()


def punctuation_edits(
    phrase: str,
    *,
    strip: bool = False,
    swap_to: Iterable[str] = (),
    repeat: Iterable[int] = (),
    per_mark: str = "",
    greeting_joins: Iterable[str] = (),
    join_fallback: str | None = None,
) -> list[str]:
    """In this order: the marks removed (``strip``); every mark turned into each of ``swap_to``;
    every mark repeated each of ``repeat`` times; for each mark of the phrase, that mark dropped,
    then replaced by each of ``per_mark``; the greeting and the name joined by each of
    ``greeting_joins`` (a two-part phrase; else the phrase plus ``join_fallback`` when given)."""
    out = [strip_marks(phrase)] if strip else []
    out += ["".join(mark if c in PUNCT else c for c in phrase) for mark in swap_to]
    out += ["".join(c * times if c in PUNCT else c for c in phrase) for times in repeat]
    if per_mark:
        for i in (i for i, c in enumerate(phrase) if c in PUNCT):
            out += [phrase[:i] + phrase[i + 1:]] + [phrase[:i] + m + phrase[i + 1:] for m in per_mark]
    parts = split_phrase(phrase)
    for join in greeting_joins:
        if parts.greeting:
            out.append(f"{parts.pre}{parts.greeting}{join}{parts.name}{parts.post}")
        elif join_fallback is not None:
            out.append(phrase + join_fallback)
    return out


def squash(text: str) -> str:
    """Every run of white space removed."""
    return re.sub(r"\s+", "", text)


def spacing_edits(
    phrase: str,
    *,
    separators: Iterable[str] = (),
    leads: Iterable[str] = (),
    space_marks: bool = False,
    split_first: bool = False,
) -> list[str]:
    """In this order: every run of white space replaced by each of ``separators``; the phrase
    after each of ``leads``; a space before every mark (``space_marks``); a space inside the
    first two-letter run (``split_first``)."""
    out = [re.sub(r"\s+", sep, phrase) for sep in separators]
    out += [lead + phrase for lead in leads]
    if space_marks:
        out.append("".join(f" {c}" if c in PUNCT else c for c in phrase))
    if split_first:
        out.append(re.sub(r"(\S)(\S)", r"\1 \2", phrase, count=1))
    return out


def random_edit(phrase: str, letters: list[int], distance: int, rng: random.Random) -> str:
    """``distance`` random letter edits (substitute, insert, delete) at the ``letters`` positions."""
    chars = list(phrase)
    for _ in range(distance):
        op = rng.choice(("sub", "ins", "del"))
        pos = rng.choice(letters) if letters else 0
        pos = min(pos, max(len(chars) - 1, 0))
        if op == "del" and len(chars) > 1:
            del chars[pos]
        elif op == "ins":
            chars.insert(pos, rng.choice(TYPO_LETTERS))
        elif chars:
            old = chars[pos]
            new = rng.choice([c for c in TYPO_LETTERS if c != old.lower()])
            chars[pos] = new.upper() if old.isupper() else new
    return "".join(chars)


def exact_edits(phrase: str, distance: int, count: int, rng: random.Random, tries: int) -> list[str]:
    """Up to ``count`` distinct non-blank strings at edit distance exactly ``distance`` from the
    phrase, raw and case-folded, in the order ``rng`` proposes them (at most ``tries`` proposals).
    The one typo generator: the probes' seed and the hardened lock's training seeds differ."""
    letters = [i for i, c in enumerate(phrase) if c.isalpha()] or list(range(len(phrase)))
    found: list[str] = []
    for _ in range(tries):
        if len(found) >= count:
            break
        candidate = random_edit(phrase, letters, distance, rng)
        if (
            candidate not in found
            # banded: a typo is within `distance` edits, so O(len) per check, not O(len²)
            and bounded_levenshtein(candidate, phrase, distance) == distance
            and bounded_levenshtein(candidate.casefold(), phrase.casefold(), distance) == distance
            and len(candidate.strip()) > 0
        ):
            found.append(candidate)
    return found
