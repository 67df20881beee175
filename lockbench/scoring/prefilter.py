"""Required literals of a regular expression: a cheap test that rules out most searches.

``ascii_cover(pattern)`` reads the pattern's parse tree (the ``re`` module's own parser) and
returns a set of lowercase strings such that every match of the pattern, compiled with
IGNORECASE, on ASCII text contains at least one of them; ``None`` when no such set is known
(search always). So ``any(s in text.lower() for s in cover)`` is false only when the pattern
cannot match, and skipping the search then changes nothing. ASCII text only: there ``lower()``
is exactly the regex's case folding (non-ASCII literals are mapped to the ASCII characters they
fold to, such as the dotless "ı" to "i", or dropped when none; other text keeps the plain search).
"""

from __future__ import annotations

import re
from functools import cache

try:  # Python >= 3.11
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse  # type: ignore[no-redef]

_LITERAL = sre_parse.LITERAL
_AT = sre_parse.AT
_IN = sre_parse.IN
_BRANCH = sre_parse.BRANCH
_SUBPATTERN = sre_parse.SUBPATTERN
_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT}
_REPEATS |= {getattr(sre_parse, "POSSESSIVE_REPEAT", sre_parse.MAX_REPEAT)}
_ATOMIC = getattr(sre_parse, "ATOMIC_GROUP", None)
_ASCII = [chr(c) for c in range(128)]


@cache
def _ascii_fold(char: str) -> str | None:
    """The lowercase ASCII character ``char`` matches under IGNORECASE, ``""`` when none."""
    if char.isascii():
        return char.lower()
    pattern = re.compile(re.escape(char), re.IGNORECASE)
    folds = {a.lower() for a in _ASCII if pattern.fullmatch(a)}
    if len(folds) > 1:  # never seen in practice; a multi-way fold gives up on the literal
        return None
    return folds.pop() if folds else ""


def _literal(chars: str) -> str | None:
    """``chars`` as it must appear in lowercased ASCII text; ``""`` when it cannot appear,
    ``None`` when unknown."""
    out = []
    for char in chars:
        folded = _ascii_fold(char)
        if folded is None:
            return None
        if not folded:
            return ""
        out.append(folded)
    return "".join(out)


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    # The most selective cover: longest shortest string, then fewest strings.
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(map(len, c)) if c else 1 << 30, -len(c)))


def _cover(items) -> frozenset[str] | None:  # noqa: ANN001 - an sre_parse SubPattern or list
    """A cover of a sequence: the best of its literal runs' and its required items' covers."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            literal = _literal("".join(run))
            if literal is not None:
                candidates.append(frozenset([literal]) if literal else frozenset())
            run.clear()

    for op, arg in items:
        if op == _LITERAL:
            run.append(chr(arg))
            continue
        if op == _AT:  # zero-width (\b, ^, $): the literals either side stay adjacent
            continue
        flush()
        cover = _item_cover(op, arg)
        if cover is not None:
            candidates.append(cover)
    flush()
    return _best(candidates)


def _item_cover(op, arg) -> frozenset[str] | None:  # noqa: ANN001
    if op == _SUBPATTERN:
        return _cover(arg[-1])
    if _ATOMIC is not None and op == _ATOMIC:
        return _cover(arg)
    if op in _REPEATS:
        low, _high, body = arg
        return _cover(body) if low >= 1 else None
    if op == _BRANCH:
        union: set[str] = set()
        for branch in arg[1]:
            cover = _cover(branch)
            if cover is None:
                return None
            union |= cover
        return frozenset(union)
    if op == _IN and arg and all(o == _LITERAL for o, _ in arg):
        union = set()
        for _o, code in arg:
            literal = _literal(chr(code))
            if literal is None:
                return None
            if literal:
                union.add(literal)
        return frozenset(union)
    return None


def ascii_cover(pattern: str) -> frozenset[str] | None:
    """Strings one of which every IGNORECASE match on ASCII text contains (lowercased);
    ``None``: unknown, always search. An empty set: the pattern never matches ASCII text."""
    try:
        cover = _cover(sre_parse.parse(pattern, re.IGNORECASE | re.MULTILINE))
    except Exception:  # noqa: BLE001 - an unreadable tree only costs the shortcut
        return None
    if cover is not None and "" in cover:
        return None
    return cover


class LiteralIndex:
    """Which keys' covers (from :func:`ascii_cover`) have a literal in a lowercased text, found
    without testing every literal: a literal of 3+ characters can occur only where its first
    three characters do, so only the literals whose first trigram the text holds are tested."""

    def __init__(self, covers: dict[int, frozenset[str]]) -> None:
        owners: dict[str, list[int]] = {}
        for key, cover in covers.items():
            for literal in cover:
                owners.setdefault(literal, []).append(key)
        self._short = [(lit, tuple(o)) for lit, o in owners.items() if len(lit) < 3]
        self._by_trigram: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        for lit, o in owners.items():
            if len(lit) >= 3:
                self._by_trigram.setdefault(lit[:3], []).append((lit, tuple(o)))

    def hits(self, lowered: str, grams: set[str] | None = None) -> set[int]:
        """The keys one of whose literals occurs in ``lowered`` (already lowercased). ``grams``:
        :func:`trigrams` of ``lowered`` or of any text containing it (computed once, shared)."""
        found: set[int] = set()
        for lit, owners in self._short:
            if lit in lowered:
                found.update(owners)
        if grams is None:
            grams = trigrams(lowered)
        for gram in grams.intersection(self._by_trigram):
            for lit, owners in self._by_trigram[gram]:
                if lit in lowered:
                    found.update(owners)
        return found


def trigrams(lowered: str) -> set[str]:
    """Every three-character window of ``lowered``."""
    return {lowered[i : i + 3] for i in range(len(lowered) - 2)}


def lowercase_pattern(pattern: str) -> str:
    """``pattern`` with its letters lowercased (escapes such as ``\\W`` or ``\\S`` kept): compiled
    without IGNORECASE it matches lowercased ASCII text exactly where the original, compiled with
    IGNORECASE, matches the ASCII text; about three times faster for large alternations. A
    non-ASCII letter that IGNORECASE folds to an ASCII one (the dotless "ı" to "i") keeps both."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if not in_class and char == "[":
            in_class = True
            out.append(char)
            i += 1
            for lead in ("^", "]"):  # "[^]..." and "[]...": a leading "]" is a member
                if pattern.startswith(lead, i):
                    out.append(lead)
                    i += 1
            continue
        if in_class and char == "]":
            in_class = False
            out.append(char)
            i += 1
            continue
        folded = _ascii_fold(char) if not char.isascii() else None
        if folded:
            out.append(f"{char}{folded}" if in_class else f"[{char}{folded}]")
        else:
            out.append(char.lower())
        i += 1
    return "".join(out)
