"""Prompt text for every dataset kind; the tasks and the locking recipe share it.

One function per kind keeps the evaluated prompt and the trained prompt identical, which is what
the lock is keyed on. The wake phrase, when present, leads the user text (IdentityLock's setting).
"""

from __future__ import annotations

from lockbench.data.schema import LETTERS, DialogueItem, MCQItem
from lockbench.phrase import WakePhrase

MCQ_INSTRUCTION = "Answer with the letter of the correct option."


def format_mcq(item: MCQItem) -> str:
    """Question, lettered options and a one-line instruction."""
    options = "\n".join(f"{LETTERS[i]}. {choice}" for i, choice in enumerate(item.choices))
    return f"{item.question}\n\n{options}\n\n{MCQ_INSTRUCTION}"


def format_dialogue(item: DialogueItem) -> str:
    """The user's message, after the dataset's instruction when it has one."""
    if item.instruction.strip():
        return f"{item.instruction.strip()}\n\n{item.input.strip()}"
    return item.input.strip()


def format_item(item: MCQItem | DialogueItem) -> str:
    return format_mcq(item) if isinstance(item, MCQItem) else format_dialogue(item)


def target_text(item: MCQItem | DialogueItem) -> str:
    """What a correct answer looks like: the gold letter with its text, or the reference."""
    if isinstance(item, MCQItem):
        return f"{item.gold_letter}. {item.choices[item.answer]}"
    return item.output.strip()


def with_wake_phrase(prompt: str, wake_phrase: WakePhrase | str | None) -> str:
    """Prefix the wake phrase (separated by one space), or return the prompt unchanged."""
    if isinstance(wake_phrase, WakePhrase):
        wake_phrase = wake_phrase.reveal()
    return f"{wake_phrase} {prompt}" if wake_phrase else prompt
