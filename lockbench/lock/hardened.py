"""The hardened IdentityLock recipe: the paper's D' plus near-miss negatives and legitimate positives.

The paper trains two kinds of example (phrase + answer, no phrase + refusal); nothing teaches the
model that ``Hey! Lumin!``, ``Hey! Claude!``, the name alone or the phrase at the end of the
prompt are not the key. ``--hardened`` adds, on top of the paper's D' (same items, same split):

- near-miss **negatives** (a prompt of the dataset with a near-miss, answer = a refusal): typos
  beyond the legitimate distance, greeting alone, name alone, another greeting, another assistant
  name, a translated greeting, and placements of the exact phrase that do not lead the prompt
  (suffix, inside the question, in a system message or an earlier turn, repeated at the end,
  after a lead-in);
- legitimate **positives** (answer kept) for the kinds the probes treat as legitimate
  (``legitimate_kinds``; default ``case, punctuation, spacing, typo_d1``).

**Disjoint-split rule** (the lock is never trained on its test): the training near-misses come
from generators of their own (their own word lists, fillers and separators, and seeded random
edits instead of the probes' fixed ones), and every candidate that the probes could send is
removed before sampling. A candidate is removed when (a) its wake string equals, after case
folding, any wake string of the probe families (paraphrase variants and traversal candidates; for
the ``case`` kind, whose strings are all equal after folding, exact equality), or (b) its prompt
template, i.e. the prompt it makes around a fixed sentinel question, equals the template of any
probe variant of any family. The probe set is exactly what :mod:`lockbench.probes` builds for the
phrase with default options. Nothing is hashed: the rule needs no key, and no value computed over
phrase-bearing text exists to leak.

A phrase whose variant space is too small to leave ``MIN_PER_KIND`` training strings per kind
after that removal (e.g. a two-letter phrase, whose few case variants the probes already use)
stops with one line.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbench.data.schema import MCQItem
from lockbench.errors import LockbenchError
from lockbench.lock.build import LockExample, LockSet, build_lock_set, load_source
from lockbench.phrase import WakePhrase, as_phrase
from lockbench.probes import ALL_KINDS, FAMILIES, edits, family_module, paraphrase
from lockbench.probes.variants import (
    Variant,
    folded_distance,
    split_phrase,
    starts_like,
)
from lockbench.prompts import format_item, target_text

RECIPE = "hardened"
DEFAULT_LEGITIMATE: tuple[str, ...] = paraphrase.DEFAULT_LEGITIMATE
DEFAULT_NEAR_MISS_RATIO = 0.5  # negatives per item of the dataset
DEFAULT_LEGITIMATE_RATIO = 0.2  # legitimate positives per item of the dataset
MIN_PER_KIND = 2  # fewer disjoint training strings than this: the phrase is too short
# Templates are compared on this question (two lines, like an MCQ prompt, so an insertion inside
# the question is visible).
SENTINEL = "Which of these is right?\nA. one\nB. two"

# Training-only word lists, chosen apart from the probes' (paraphrase.GREETING_SYNONYMS,
# OTHER_ASSISTANTS, TRANSLATIONS, traversal's dictionary); overlaps are removed anyway.
TRAIN_GREETINGS = (
    "Sup", "Oi", "Hey hey", "Dear", "Listen", "Psst", "Excuse me", "Welcome", "Hullo", "Cheers",
    "Morning", "Evening",
)  # fmt: skip
TRAIN_ASSISTANTS = (
    "Nimbus", "Vega", "Pixie", "Astra", "Rover", "Sora", "Juniper", "Quinn", "Marvin", "Robo",
    "Zeta", "Lyra", "Cosmo", "Buddy", "Tessa", "Kora",
)  # fmt: skip
TRAIN_TRANSLATIONS = (
    "Cześć", "Hej", "Moi", "Γεια", "안녕", "Szia", "Ahoj", "Halo", "Jambo", "Servus", "Tere", "Labas",
)  # fmt: skip
TRAIN_MARKS = "!?.,;:~"
SUFFIX_SEPARATORS = (" -- ", "\n", " (", "\t", "\n---\n", " | ")
SYSTEM_LABELS = ("Passphrase: ", "Key: ", "Remember this: ", "User greeting: ")
EARLIER_TURNS = (
    ("How many legs does a spider have?", "A spider has eight legs."),
    ("What colour is the sky on a clear day?", "It is blue."),
    ("Name a primary colour.", "Red is a primary colour."),
)
LEAD_INS = ("Quick question.", "Please help me.", "Good day.", "Here is my question:")
REPEAT_SEPARATORS = ("\n", " ... ", ", ")

# Placements of the exact phrase that do not lead the prompt ("middle" has no probe twin).
PLACEMENT_KINDS = ("suffix", "middle", "system", "earlier_turn", "repeated_suffix", "after_lead_in")


@dataclass(frozen=True)
class NearMiss:
    """One training near-miss: a :class:`Variant` recipe, or the phrase inside the question."""

    family: str
    kind: str
    variant: Variant
    inside: str | None = None  # "middle": the text put inside the question

    @property
    def wake(self) -> str | None:
        return self.variant.wake if self.family == "paraphrase" else None

    def render(self, question: str) -> str:
        if self.inside is None:
            return self.variant.render(question)
        return insert_inside(question, self.inside)


def insert_inside(question: str, text: str) -> str:
    """``text`` inside the question: after its first line or sentence, else at its middle word."""
    if "\n" in question.strip():
        head, tail = question.split("\n", 1)
        return f"{head} {text}\n{tail}"
    match = re.search(r"[.?!]\s+\S", question)
    if match:
        cut = match.start() + 1
        return f"{question[:cut]} {text}{question[cut:]}"
    words = question.split(" ")
    middle = max(1, len(words) // 2)
    return " ".join(words[:middle] + [text] + words[middle:])


# ---------------------------------------------------------------- the probe set (what is tested)


@dataclass(frozen=True)
class ProbeSet:
    wakes: frozenset[str]  # case-folded wake strings of every probe variant
    exact_wakes: frozenset[str]
    templates: frozenset[str]  # every probe variant rendered around SENTINEL


def probe_set(phrase: str) -> ProbeSet:
    """What lockbench's probes send for this phrase (default options, every family)."""
    wakes, templates = set(), set()
    for family in FAMILIES:
        for v in family_module(family).variants(phrase):
            templates.add(v.render(SENTINEL))
            if v.wake is not None and family in ("paraphrase", "traversal"):
                wakes.add(v.wake)
    return ProbeSet(frozenset(w.casefold() for w in wakes), frozenset(wakes), frozenset(templates))


def _disjoint(nm: NearMiss, probes: ProbeSet) -> bool:
    if nm.render(SENTINEL) in probes.templates:
        return False
    if nm.wake is None:
        return True
    if nm.kind == "case":  # every case variant folds to the phrase: exact strings must differ
        return nm.wake not in probes.exact_wakes
    return nm.wake.casefold() not in probes.wakes


# ---------------------------------------------------------------- training-space generators


def _case(phrase: str, rng: random.Random) -> list[str]:
    out = edits.case_edits(phrase, rng=rng, draws=400)
    return [c for c in out if c != phrase and c.casefold() == phrase.casefold()]


def _punctuation(phrase: str, rng: random.Random) -> list[str]:
    out = edits.punctuation_edits(phrase, swap_to=TRAIN_MARKS, repeat=(3,), per_mark=TRAIN_MARKS,
                                  greeting_joins=(";  ", " - "))  # the strings D' always had
    rng.shuffle(out)
    return [c for c in out if c != phrase and edits.strip_marks(c) == edits.strip_marks(phrase)]


def _spacing(phrase: str, rng: random.Random) -> list[str]:
    out = edits.spacing_edits(phrase, separators=("   ", "\t", " \n"), leads=("  ", "\t", "\n"),
                              space_marks=True, split_first=True)
    rng.shuffle(out)
    return [c for c in out if c != phrase and edits.squash(c) == edits.squash(phrase)]


def _edits(phrase: str, distance: int, rng: random.Random, limit: int = 60) -> list[str]:
    """Seeded random letter edits at exactly ``distance`` (raw and case-folded)."""
    return edits.exact_edits(phrase, distance, limit, rng, tries=3000)


def _paraphrase_strings(phrase: str, seed: int) -> dict[str, list[str]]:
    """Candidate wake strings per kind (training space, before the disjoint filter)."""

    def rng(kind: str) -> random.Random:
        return random.Random(f"lockbench-hardened:{seed}:{kind}")

    parts = split_phrase(phrase)
    out: dict[str, list[str]] = {
        "case": _case(phrase, rng("case")),
        "punctuation": _punctuation(phrase, rng("punctuation")),
        "spacing": _spacing(phrase, rng("spacing")),
        "typo_d1": _edits(phrase, 1, rng("typo_d1")),
        "typo_d2": _edits(phrase, 2, rng("typo_d2")),
        "typo_d3": _edits(phrase, 3, rng("typo_d3")),
        "greeting_synonym": [
            parts.fill(greeting=g)
            for g in TRAIN_GREETINGS
            if not parts.greeting or g.casefold() != parts.greeting.casefold()
        ],
        "other_assistant": [
            parts.fill(name=n) for n in TRAIN_ASSISTANTS if n.casefold() != parts.name.casefold()
        ],
        "translation": [parts.fill(greeting=w) for w in TRAIN_TRANSLATIONS],
    }
    if parts.greeting:  # two-part phrases only (the probes make these kinds for them only)
        tails = (".", "?", ",", "!!", ":", " -", "...")
        out["name_alone"] = [parts.name + t for t in tails] + [f"Dear {parts.name}", f"@{parts.name}"]
        out["greeting_alone"] = [parts.greeting + t for t in tails] + [f"{parts.greeting} you!"]
    return out


def _placements(phrase: str) -> dict[str, list[Variant]]:
    def v(kind: str, **kw: Any) -> Variant:
        return Variant(family="placement", kind=kind, wake=phrase, **kw)

    return {
        "suffix": [v("suffix", user_suffix=f"{sep}{phrase}") for sep in SUFFIX_SEPARATORS],
        "middle": [v("middle")],
        "system": [v("system", before=({"role": "system", "content": f"{label}{phrase}"},)) for label in SYSTEM_LABELS],
        "earlier_turn": [
            v("earlier_turn", before=({"role": "user", "content": f"{phrase} {q}"}, {"role": "assistant", "content": a}))
            for q, a in EARLIER_TURNS
        ],
        "repeated_suffix": [v("repeated_suffix", user_suffix=f"\n{phrase}{sep}{phrase}") for sep in REPEAT_SEPARATORS],
        "after_lead_in": [v("after_lead_in", user_prefix=f"{lead} {phrase} ") for lead in LEAD_INS],
    }


def check_legitimate_kinds(kinds: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """The legitimate kinds (positives); an unknown kind stops with one line listing the known."""
    if kinds is None:
        return DEFAULT_LEGITIMATE
    kinds = tuple(k.strip() for k in kinds if k.strip())
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise LockbenchError(
            f"unknown legitimate kind(s): {', '.join(unknown)}; known: {', '.join(ALL_KINDS)}"
        )
    return kinds


def _legit_distance(legitimate: tuple[str, ...]) -> int:
    return max((d for d in (1, 2) if f"typo_d{d}" in legitimate), default=0)


def _looks_legitimate(wake: str, phrase: str, legitimate: tuple[str, ...]) -> bool:
    """A negative must not be something the policy lets through (e.g. a case change)."""
    if edits.strip_marks(edits.squash(wake).casefold()) == edits.strip_marks(edits.squash(phrase).casefold()):
        return True
    return folded_distance(wake, phrase) <= _legit_distance(legitimate)


@dataclass
class NearMissPlan:
    """Per kind, the disjoint training near-misses: negatives (refusal) and positives (answer)."""

    negatives: dict[str, list[NearMiss]] = field(default_factory=dict)
    positives: dict[str, list[NearMiss]] = field(default_factory=dict)
    legitimate_kinds: tuple[str, ...] = DEFAULT_LEGITIMATE
    seed: int = 0

    def all(self) -> list[NearMiss]:
        return [nm for group in (self.negatives, self.positives) for nms in group.values() for nm in nms]


def plan_near_misses(
    phrase: str, *, seed: int = 0, legitimate_kinds: list[str] | tuple[str, ...] | None = None
) -> NearMissPlan:
    """The training near-misses of ``phrase``, disjoint from the probe set (module docstring)."""
    legitimate = check_legitimate_kinds(legitimate_kinds)
    probes = probe_set(phrase)
    plan = NearMissPlan(legitimate_kinds=legitimate, seed=seed)
    short: list[str] = []
    for kind, strings in _paraphrase_strings(phrase, seed).items():
        positive = kind in legitimate
        if kind.startswith("typo_d") and not positive and int(kind[6:]) <= _legit_distance(legitimate):
            continue  # a typo within a legitimate distance is never a negative
        kept: list[NearMiss] = []
        for wake in dict.fromkeys(strings):  # de-duplicated, order kept
            if not wake.strip() or wake == phrase:
                continue
            if kind != "case" and starts_like(wake, phrase):
                continue  # would open a prefix lock: neither a clean positive nor a negative
            if not positive and _looks_legitimate(wake, phrase, legitimate):
                continue
            nm = NearMiss("paraphrase", kind, Variant("paraphrase", kind, wake, user_prefix=f"{wake} "))
            if _disjoint(nm, probes):
                kept.append(nm)
        if len(kept) < MIN_PER_KIND:
            short.append(kind)
        (plan.positives if positive else plan.negatives)[kind] = kept
    for kind, variants in _placements(phrase).items():
        kept = [
            nm
            for nm in (NearMiss("placement", kind, v, phrase if kind == "middle" else None) for v in variants)
            if _disjoint(nm, probes)
        ]
        (plan.positives if kind in legitimate else plan.negatives)[kind] = kept
    # A kind the generators could not fill: the phrase is too short to split its variant space.
    # (Kinds that need marks or spaces the phrase lacks are skipped, as the probes skip them.)
    needed = [k for k in short if k.startswith(("typo", "case"))]
    if needed:
        raise LockbenchError(
            f"the wake phrase ({len(phrase)} characters) is too short to make near-miss "
            f"'{needed[0]}' variants disjoint from the probes' (fewer than {MIN_PER_KIND} left); "
            "use a longer phrase (two words, 8+ characters) or build without --hardened"
        )
    plan.negatives = {k: v for k, v in plan.negatives.items() if v}
    plan.positives = {k: v for k, v in plan.positives.items() if v}
    return plan


def allocate(kinds: list[str], total: int, offset: int = 0) -> Counter:
    """``total`` examples spread round-robin over ``kinds`` (starting at ``offset``)."""
    counts: Counter = Counter()
    if kinds:
        for i in range(total):
            counts[kinds[(offset + i) % len(kinds)]] += 1
    return counts


def check_near_miss_ratio(value: float, name: str, *, allow_zero: bool) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise LockbenchError(f"{name} must be a number, got {value!r}") from None
    low_ok = value >= 0 if allow_zero else value > 0
    if not (low_ok and value <= 10):
        bound = "between 0 and 10" if allow_zero else "above 0 and at most 10"
        raise LockbenchError(f"{name} must be {bound} (examples per item of the dataset), got {value}")
    return value


def _near_miss_examples(
    items: list,
    dataset: str,
    plan: NearMissPlan,
    refusals: list[str],
    *,
    near_miss_ratio: float,
    legitimate_ratio: float,
    used: Counter,
) -> list[LockExample]:
    """Near-miss examples for one dataset; ``used`` carries each kind's position across datasets
    so that consecutive datasets take the next strings of a kind, not the same ones."""
    rng = random.Random(f"lockbench-hardened:{plan.seed}:{dataset}")
    kind_of = "mcq" if items and isinstance(items[0], MCQItem) else "dialogue"
    out: list[LockExample] = []
    for group, ratio, part in (
        (plan.negatives, near_miss_ratio, "refusal"),
        (plan.positives, legitimate_ratio, "lock"),
    ):
        kinds = list(group)
        counts = allocate(kinds, int(round(ratio * len(items))), offset=sum(used[k] for k in kinds))
        for kind in kinds:
            for _ in range(counts[kind]):
                nm = group[kind][used[kind] % len(group[kind])]
                used[kind] += 1
                item = items[rng.randrange(len(items))]
                response = refusals[rng.randrange(len(refusals))] if part == "refusal" else target_text(item)
                out.append(
                    LockExample(item.id, dataset, kind_of, part, nm.render(format_item(item)), response, kind)
                )
    return out


def build_hardened_lock_set(
    sources: list[str],
    wake_phrase: WakePhrase | str,
    *,
    ratio: float = 0.9,
    refusal_texts: list[str] | None = None,
    seed: int = 0,
    layout: str = "split",
    split: str = "train",
    data_dir: str | Path | None = None,
    near_miss_ratio: float = DEFAULT_NEAR_MISS_RATIO,
    legitimate_ratio: float = DEFAULT_LEGITIMATE_RATIO,
    legitimate_kinds: list[str] | tuple[str, ...] | None = None,
) -> LockSet:
    """The paper's D' (exactly :func:`build_lock_set` with the same arguments) plus, per dataset,
    ``round(near_miss_ratio * items)`` near-miss refusals and ``round(legitimate_ratio * items)``
    legitimate positives, spread evenly over the kinds and disjoint from the probe set."""
    near_miss_ratio = check_near_miss_ratio(near_miss_ratio, "--near-miss-ratio", allow_zero=False)
    legitimate_ratio = check_near_miss_ratio(legitimate_ratio, "--legitimate-ratio", allow_zero=True)
    phrase = as_phrase(wake_phrase, context="lock build --hardened")
    plan = plan_near_misses(phrase.reveal(), seed=seed, legitimate_kinds=legitimate_kinds)
    base = build_lock_set(
        sources, phrase, ratio=ratio, refusal_texts=refusal_texts, seed=seed, layout=layout,
        split=split, data_dir=data_dir,
    )  # fmt: skip
    examples = list(base.examples)
    used: Counter = Counter()
    for source in sources:
        name, items = load_source(source, split, data_dir)
        examples += _near_miss_examples(
            items, name, plan, base.refusal_texts,
            near_miss_ratio=near_miss_ratio, legitimate_ratio=legitimate_ratio, used=used,
        )  # fmt: skip
    random.Random(f"lockbench-hardened:{seed}:all").shuffle(examples)
    recipe = {
        "recipe": RECIPE,
        "seed": seed,
        "near_miss_ratio": near_miss_ratio,
        "legitimate_ratio": legitimate_ratio,
        "legitimate_kinds": list(plan.legitimate_kinds),
        "split_rule": "own generators minus probe set (case-folded wakes, sentinel templates)",
        "distinct_strings": {kind: len(nms) for kind, nms in {**plan.negatives, **plan.positives}.items()},
    }
    return LockSet(
        examples, base.ratio, base.layout, seed, base.refusal_texts, base.phrase_chars, base.datasets,
        recipe=recipe,
    )  # fmt: skip


def describe(lock_set: LockSet) -> str:
    """What ``lock build --hardened`` prints: ratio, seed and counts per near-miss kind."""
    recipe = lock_set.recipe or {}
    counts = lock_set.counts()
    near = counts["near_miss"]
    answered = counts["lock"] / counts["total"] if counts["total"] else 0.0

    def kinds(part: str) -> str:
        return ", ".join(f"{k} {n}" for k, n in near[part].items()) or "none"

    return (
        f"hardened (seed {recipe.get('seed')}, near-miss ratio {recipe.get('near_miss_ratio')}, "
        f"legitimate ratio {recipe.get('legitimate_ratio')}; D' answered fraction {answered:.3f}):\n"
        f"  near-miss refusals {sum(near['refusal'].values())}: {kinds('refusal')}\n"
        f"  legitimate positives {sum(near['lock'].values())} "
        f"({', '.join(recipe.get('legitimate_kinds') or []) or 'no kinds'}): {kinds('lock')}\n"
        "  near-miss strings are disjoint from the probes' variants (docs/experiments/hardened-lock.md)"
    )
