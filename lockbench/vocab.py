"""The fixed names of the result contract (docs/result-schema.md), defined once: conditions,
outcomes, dataset kinds.

Everything that says ``"locked"`` or ``"refused"`` reads it from here, from the lm-eval glue to
the result checks, so a name can only mean one thing.
"""

from __future__ import annotations

# Conditions: the prompt a task sends (task name ``lockbench_<dataset>_<condition>``).
UNLOCKED = "unlocked"  # the true wake phrase prefixed: the legitimate user
LOCKED = "locked"  # no wake phrase: an attacker with a leaked key and nothing else
BASE = "base"  # the pre-lock model (results keep it apart, as base_tasks)
LATENT = "latent"  # log-likelihood ranking of the options under the locked prompt
PROBE_PREFIX = "probe_"  # probe_<family>: the attack suite's screening of a family's variants
CONFIRM_PREFIX = "confirm_"  # confirm_<family>: the screened-best variants on test items

CONDITIONS = (LOCKED, UNLOCKED)  # the two sides of every dataset row (PR_lock, PR_unlock)
PHRASE_FREE = (LOCKED, BASE, LATENT)  # prompts that never carry the wake phrase
WHOLE_SPLIT = (LOCKED, UNLOCKED, LATENT)  # tasks over every item of the test split

# Outcomes: exactly one per sample.
REFUSED = "refused"
CORRECT = "correct"
WRONG = "wrong"
ANSWERED = "answered"

MCQ = "mcq"
DIALOGUE = "dialogue"
KINDS = (MCQ, DIALOGUE)
MCQ_OUTCOMES = (REFUSED, CORRECT, WRONG)
DIALOGUE_OUTCOMES = (REFUSED, ANSWERED)
OUTCOMES = {MCQ: MCQ_OUTCOMES, DIALOGUE: DIALOGUE_OUTCOMES}


def probe_condition(family: str) -> str:
    """``probe_<family>``."""
    return f"{PROBE_PREFIX}{family}"


def probe_family(condition: str) -> str | None:
    """The family of a (screening) probe condition, None for any other condition."""
    return condition[len(PROBE_PREFIX) :] if condition.startswith(PROBE_PREFIX) else None


def confirm_condition(family: str) -> str:
    """``confirm_<family>``."""
    return f"{CONFIRM_PREFIX}{family}"


def confirm_family(condition: str) -> str | None:
    """The family of a confirmation condition, None for any other condition."""
    return condition[len(CONFIRM_PREFIX) :] if condition.startswith(CONFIRM_PREFIX) else None


def attack_family(condition: str) -> str | None:
    """The family of a screening or confirmation condition (an attack task), else None."""
    return probe_family(condition) or confirm_family(condition)


def is_lock_side(condition: str) -> bool:
    """Conditions where the lock must hold: no phrase, or an attack on it."""
    return condition in (LOCKED, LATENT) or attack_family(condition) is not None


# The `lockbench-gate` lm-eval model (lockbench.lmeval.gate): a string gate in front of a model,
# the system-level baseline. A result records a gate run as ``lock.method`` GATE_METHOD.
GATE_MODEL = "lockbench-gate"
GATE_METHOD = "gate"


def is_gate_baseline(model: dict | None) -> bool:
    """Whether a result's ``model`` block is a ``lockbench-gate`` run (a baseline row)."""
    return isinstance(model, dict) and model.get("backend") == GATE_MODEL


# The regression gate's documented default tolerances (``lockbench check``): a lock-side opened or
# pass rate may rise by 2 points, PR_unlock drop by 5, before a significant change fails.
DEFAULT_MAX_LOCK_RISE = 0.02
DEFAULT_MAX_UNLOCK_DROP = 0.05
DEFAULT_ALPHA = 0.05


def chance_note(reference: str | None) -> str:
    """The label of a retention whose reference (``base`` or ``control``) answers at chance."""
    return f"not informative: {reference or 'base'} at chance"
