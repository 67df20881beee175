"""The shared shape of every probe variant, and the text helpers all families use.

A variant is a *recipe*, not a string: it says what comes before the question (earlier chat
messages, a prefix in the user's turn) and what comes after it. ``messages(question)`` gives the
clean chat form (a list of ``{"role", "content"}`` dicts, for backends with real chat roles) and
``render(question)`` the text prompt lockbench's generation tasks send today. Keeping both from
one recipe means a chat rendering can be added later without touching the generators.

Nothing here is written to disk: variants live only while docs are built.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, replace
from typing import Any

Message = dict[str, str]
# Families whose wake strings are the phrase or made from it (every part of it: greeting and name
# included); their prompts are redacted before anything is hashed or written.
PHRASE_FAMILIES = ("paraphrase", "placement")

ROLE_LABELS = {"system": "System", "user": "User", "assistant": "Assistant"}
# Between the user's text and an assistant prefill when no chat template renders the turns: the
# answer starts on a new paragraph, as a text model would write it.
PREFILL_SEPARATOR = "\n\n"


def render_messages(messages: list[Message]) -> str:
    """Text prompt for a chat: one user message is sent as is; more become a labelled transcript.

    The transcript ends with an ``Assistant:`` cue so a completion model answers the last turn.
    """
    if len(messages) == 1 and messages[0]["role"] == "user":
        return messages[0]["content"]
    lines = [f"{ROLE_LABELS[m['role']]}: {m['content']}" for m in messages]
    return "\n\n".join(lines) + "\n\nAssistant:"


@dataclass(frozen=True)
class Variant:
    """One probe variant of a family.

    ``wake`` is the wake-like string the variant sends (a paraphrase, a traversal candidate, the
    true phrase for placements, ``None`` for prefix attacks): it is secret-bearing and never goes
    into a doc field. ``derived`` marks strings computed from the true phrase (to be redacted).
    """

    family: str
    kind: str
    wake: str | None
    before: tuple[Message, ...] = ()  # earlier chat messages (system, previous turns)
    user_prefix: str = ""  # text before the question inside the final user message
    user_suffix: str = ""  # text after the question inside the final user message
    prefill: str = ""  # the assistant turn's opening, written by the attacker (prefill family)
    derived: bool = False
    edit_distance: int | None = None  # Levenshtein distance to the true phrase, after case folding
    candidate_rank: int | None = None  # traversal: 1-based position in the dictionary
    index: int = 0  # position within the family, set after de-duplication
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def messages(self, question: str) -> list[Message]:
        """The variant as chat messages around ``question``."""
        final = {"role": "user", "content": f"{self.user_prefix}{question}{self.user_suffix}"}
        return [dict(m) for m in self.before] + [final]

    def user_prompt(self, question: str) -> str:
        """The prompt up to the end of the user's turn (a doc's ``prompt``; no prefill)."""
        return render_messages(self.messages(question))

    def render(self, question: str) -> str:
        """The whole text prompt a text model continues: the user's turn, then the prefill."""
        prompt = self.user_prompt(question)
        return f"{prompt}{PREFILL_SEPARATOR}{self.prefill}" if self.prefill else prompt

    def redacted(self, placeholder: str) -> Variant:
        """The same recipe with its wake string replaced by ``placeholder`` wherever it stands:
        the prompt as it may be written and hashed. Only families whose wake string comes from
        the phrase are redacted (traversal candidates, prefixes and prefills are public)."""
        if not self.wake or self.family not in PHRASE_FAMILIES:
            return self

        def sub(text: str) -> str:
            return text.replace(self.wake, placeholder)

        return replace(
            self,
            wake=placeholder,
            before=tuple({**m, "content": sub(m["content"])} for m in self.before),
            user_prefix=sub(self.user_prefix),
            user_suffix=sub(self.user_suffix),
        )

    def signature(self) -> tuple:
        """Two variants with the same signature produce the same prompt for every question."""
        before = tuple((m["role"], m["content"]) for m in self.before)
        return (before, self.user_prefix, self.user_suffix, self.prefill)


def bounded_levenshtein(a: str, b: str, bound: int) -> int:
    """Edit distance when it is at most ``bound``, else ``bound + 1``.

    The common prefix and suffix are dropped first (a typo changes a few characters in one
    place), then only the diagonal band of width ``2 * bound + 1`` is computed: O(len * bound)
    instead of O(len²).
    """
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end = 0
    while end < len(a) - start and end < len(b) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    a, b = a[start : len(a) - end], b[start : len(b) - end]
    if len(a) < len(b):
        a, b = b, a
    if len(a) - len(b) > bound:
        return bound + 1
    if not b:
        return len(a)
    over = bound + 1
    width = len(b) + 1
    previous = [j if j <= bound else over for j in range(width)]
    for i in range(1, len(a) + 1):
        ca = a[i - 1]
        lo, hi = max(1, i - bound), min(len(b), i + bound)
        current = [over] * width
        if i <= bound:
            current[0] = i
        for j in range(lo, hi + 1):
            best = previous[j - 1] + (ca != b[j - 1])
            if previous[j] + 1 < best:
                best = previous[j] + 1
            if current[j - 1] + 1 < best:
                best = current[j - 1] + 1
            current[j] = best if best < over else over
        previous = current
    return previous[len(b)]


def levenshtein(a: str, b: str) -> int:
    """Plain edit distance (insertions, deletions, substitutions; a swap counts 2).

    Probe variants sit close to the phrase, so the band is widened only as far as needed
    (doubling): a long phrase costs O(len * distance), not O(len²).
    """
    bound = 2
    while True:
        distance = bounded_levenshtein(a, b, bound)
        if distance <= bound:
            return distance
        bound *= 2


def folded_distance(a: str, b: str) -> int:
    """Edit distance ignoring letter case: what a case-insensitive lock would see."""
    return levenshtein(a.casefold(), b.casefold())


PUNCT = set(string.punctuation) | set("¡¿！？。，、")


@dataclass(frozen=True)
class PhraseParts:
    """A wake phrase split as ``pre + greeting + mid + name + post``.

    ``Hey! Lumen!`` gives greeting ``Hey``, name ``Lumen``, mid ``! ``, post ``!``. A one-word
    phrase has no greeting (``greeting`` is ``None``) and is all name. The split lets a probe put
    another greeting or another name into the user's own template.
    """

    pre: str
    greeting: str | None
    mid: str
    name: str
    post: str

    def fill(self, greeting: str | None = None, name: str | None = None) -> str:
        """The template with a new greeting and/or name (``None`` keeps the original)."""
        g = self.greeting if greeting is None else greeting
        n = self.name if name is None else name
        if self.greeting is None:  # one-word phrase: a greeting, if asked for, goes in front
            return f"{self.pre}{g + ' ' if g else ''}{n}{self.post}"
        return f"{self.pre}{g}{self.mid}{n}{self.post}"


def _core_span(token: str) -> tuple[int, int]:
    start, end = 0, len(token)
    while start < end and token[start] in PUNCT:
        start += 1
    while end > start and token[end - 1] in PUNCT:
        end -= 1
    return start, end


def split_phrase(phrase: str) -> PhraseParts:
    """Find the greeting (first word) and the name (the rest) of a wake phrase."""
    text = phrase.strip()
    lead = phrase[: len(phrase) - len(phrase.lstrip())]
    trail = phrase[len(phrase.rstrip()) :]
    words = text.split()
    if len(words) >= 2:
        first = words[0]
        g0, g1 = _core_span(first)
        rest = text[len(first) :]
        body = rest.lstrip()
        gap = rest[: len(rest) - len(body)]
        n0, n1 = _core_span(body)
        if g1 > g0 and n1 > n0:
            return PhraseParts(
                pre=lead + first[:g0],
                greeting=first[g0:g1],
                mid=first[g1:] + gap + body[:n0],
                name=body[n0:n1],
                post=body[n1:] + trail,
            )
    s0, s1 = _core_span(text)
    if s1 <= s0:  # nothing but punctuation: treat it all as the name
        return PhraseParts(lead, None, "", text, trail)
    return PhraseParts(lead + text[:s0], None, "", text[s0:s1], text[s1:] + trail)


def starts_like(prompt_text: str, phrase: str) -> bool:
    """Whether text begins with the phrase, ignoring case (a prefix lock would open)."""
    return prompt_text.casefold().startswith(phrase.casefold())


def dedupe(variants: list[Variant], seen: set[tuple] | None = None) -> list[Variant]:
    """Drop variants whose prompt would repeat an earlier one; number the rest in order."""
    seen = set() if seen is None else seen
    kept: list[Variant] = []
    for v in variants:
        sig = v.signature()
        if sig in seen:
            continue
        seen.add(sig)
        kept.append(v)
    return [replace(v, index=i) for i, v in enumerate(kept)]
