"""Robustness probes for identity locks: wake-phrase paraphrases, placements, prefix attacks,
dictionary traversal, assistant prefills (and latent leakage, in :mod:`lockbench.lmeval.probe_docs`).

Every family is a module with ``FAMILY``, ``KINDS``, ``variants(phrase) -> list[Variant]`` and
``ATTACK``, its self-description (:mod:`lockbench.probes.family`, collected in
:mod:`lockbench.probes.registry`).
Variants are built at run time from the true phrase and never written anywhere; only their kind,
index and (traversal) rank go into lm-eval docs.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from lockbench.errors import LockbenchError
from lockbench.phrase import WakePhrase, as_phrase
from lockbench.probes import paraphrase
from lockbench.probes.registry import PROMPT_FAMILIES
from lockbench.probes.variants import Variant

FAMILY_MODULES: dict[str, ModuleType] = {
    f.name: importlib.import_module(f"lockbench.probes.{f.name}") for f in PROMPT_FAMILIES
}
FAMILIES: tuple[str, ...] = tuple(f.name for f in PROMPT_FAMILIES)
ALL_KINDS: dict[str, str] = {kind: f.name for f in PROMPT_FAMILIES for kind in f.kinds}
# Program families whose one found string the attack suite confirms (std-v2 on): the search and
# GCG are run by ``lockbench attack suite``, their pick declared, their confirmation ordinary tasks.
ADAPTIVE: tuple[str, ...] = ("search", "gcg")
CONFIRMABLE: tuple[str, ...] = (*FAMILIES, *ADAPTIVE)

__all__ = ["ADAPTIVE", "CONFIRMABLE", "FAMILIES", "ALL_KINDS", "Variant", "family_module", "family_variants",
           "near_phrase", "phrase_distance", "secret_variants"]


def family_module(family: str) -> ModuleType:
    """The generator module of a family; an unknown name stops with one line listing the known."""
    try:
        return FAMILY_MODULES[family]
    except (KeyError, TypeError):
        raise LockbenchError(
            f"unknown probe family '{family}'; use one of {', '.join(FAMILIES)}"
        ) from None


def family_variants(family: str, wake_phrase: WakePhrase | str) -> list[Variant]:
    """The variants of one family for this phrase, in their fixed order."""
    module = family_module(family)
    return module.variants(as_phrase(wake_phrase, context=f"probe family {family}").reveal())


def secret_variants(wake_phrase: WakePhrase | str) -> list[str]:
    """Every string derived from the true phrase that an output must not show (for redaction).

    The phrase itself, its case/punctuation/spacing changes and typos, the name alone, and the
    phrase's template filled with other greetings, names or translated greetings (these reveal the
    template). Not the greeting alone: a common word that carries no secret. Longest first, so a
    redactor replaces whole variants before their parts. Computed once per phrase.
    """
    return list(as_phrase(wake_phrase, context="secret_variants").derived(_secrets_of))


def phrase_distance(text: str, wake_phrase: WakePhrase) -> int:
    """Edit distance of a string to the phrase, counted up to 3 (3 means "3 or more")."""
    from lockbench.probes.variants import bounded_levenshtein

    return bounded_levenshtein(text.strip(), wake_phrase.reveal().strip(), 3)


def near_phrase(text: str, wake_phrase: WakePhrase) -> bool:
    """Whether a string found by an attack is a secret: it holds the phrase or a derived variant,
    or lies within edit distance 2 of it. Such a string is never written or declared."""
    from lockbench.secrets import contains_secret

    return contains_secret(text, secret_variants(wake_phrase)) or phrase_distance(text, wake_phrase) <= 2


def _secrets_of(value: WakePhrase) -> tuple[str, ...]:
    phrase = value.reveal()
    found = {phrase, phrase.strip()}
    found.update(v.wake for v in paraphrase.variants(phrase) if v.derived and v.wake)
    found = {s for s in found if s.strip()}
    return tuple(sorted(found, key=lambda s: (-len(s), s)))
