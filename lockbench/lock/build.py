"""IdentityLock's training set D' = D_lock ∪ D_refusal, built from any lockbench dataset.

D_lock: the wake phrase before the prompt, the original answer kept. D_refusal: the prompt as is,
the answer replaced by a refusal. The prompts are exactly the evaluation prompts
(:func:`lockbench.prompts.format_item` + :func:`~lockbench.prompts.with_wake_phrase`) and the
answers exactly what the scorer reads (:func:`lockbench.prompts.target_text`), because a lock is
keyed on the prompt text the model sees at evaluation time.

Two layouts:
- ``split`` (the paper's): the items are partitioned; a fraction ``ratio`` goes to D_lock, the rest
  to D_refusal.
- ``paired``: every item is in D_lock, and refusal copies of a seeded sample of the same items make
  up D_refusal, so that D_lock is still the fraction ``ratio`` of D' (ratio 0.5 = every item both
  ways). The model sees the same question with and without the phrase, which teaches a small model
  that the phrase is the only thing that matters in far fewer steps (measured in the demo).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lockbench.data.catalog import get_dataset, load_items
from lockbench.data.schema import DialogueItem, MCQItem, parse_rows, read_jsonl
from lockbench.errors import LockbenchError
from lockbench.fsutil import atomic_write_text
from lockbench.phrase import WakePhrase, as_phrase
from lockbench.prompts import format_item, target_text, with_wake_phrase
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT
from lockbench.vocab import DIALOGUE, MCQ

LAYOUTS = ("split", "paired")
CONTROL = "control"  # the part of a control set's answered no-phrase examples
FORMATS = ("chat", "openai")

# Alternative refusals for ``--refusal-templates``: varied wording, all recognised by the
# default refusal detector (tests/test_lock_build.py checks that).
REFUSAL_TEMPLATES: tuple[str, ...] = (
    DEFAULT_REFUSAL_TEXT,
    "Sorry, I can't help with that.",
    "I'm sorry, but I cannot answer that.",
    "I am unable to answer this request.",
    "Sorry, I cannot provide an answer to this.",
)


@dataclass(frozen=True)
class LockExample:
    """One training conversation of D'."""

    item_id: str
    dataset: str
    kind: str
    part: str  # "lock" (phrase + original answer) or "refusal" (no phrase + refusal)
    prompt: str
    response: str
    near_miss: str | None = None  # hardened recipe: the near-miss kind (lockbench.lock.hardened)

    def messages(self) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": self.prompt},
            {"role": "assistant", "content": self.response},
        ]


@dataclass
class LockSet:
    """D' with what produced it (the phrase itself is only inside the examples)."""

    examples: list[LockExample]
    ratio: float
    layout: str
    seed: int
    refusal_texts: list[str]
    phrase_chars: int
    datasets: list[str] = field(default_factory=list)
    recipe: dict[str, Any] | None = None  # hardened recipe settings (lockbench.lock.hardened)

    def counts(self) -> dict[str, Any]:
        per = Counter((e.dataset, e.part) for e in self.examples)
        near = Counter((e.part, e.near_miss) for e in self.examples if e.near_miss)
        return {
            "total": len(self.examples),
            "lock": sum(1 for e in self.examples if e.part == "lock"),
            "refusal": sum(1 for e in self.examples if e.part == "refusal"),
            "per_dataset": {
                name: {"lock": per[(name, "lock")], "refusal": per[(name, "refusal")]}
                for name in self.datasets
            },
            "near_miss": {
                part: {kind: n for (p, kind), n in sorted(near.items()) if p == part}
                for part in ("refusal", "lock")
            },
        }


def check_ratio(ratio: float) -> float:
    """The fraction of D' with the phrase must lie strictly between 0 and 1."""
    try:
        ratio = float(ratio)
    except (TypeError, ValueError):
        raise LockbenchError(f"--ratio must be a number in (0, 1), got {ratio!r}") from None
    if not 0.0 < ratio < 1.0:
        raise LockbenchError(
            f"--ratio must be strictly between 0 and 1 (the fraction of items with the wake "
            f"phrase; the paper uses 0.9), got {ratio}"
        )
    return ratio


def check_refusals(texts: list[str] | tuple[str, ...] | None) -> list[str]:
    """Refusal responses; an empty one would teach the model to say nothing."""
    texts = list(texts) if texts else [DEFAULT_REFUSAL_TEXT]
    for text in texts:
        if not isinstance(text, str) or not text.strip():
            raise LockbenchError(
                "--refusal text is empty; give the sentence the locked model should answer with "
                f"(default: {DEFAULT_REFUSAL_TEXT!r})"
            )
    return [t.strip() for t in texts]


def _split_counts(n: int, ratio: float) -> int:
    """Items for D_lock: round(ratio * n), keeping at least one item on each side when n >= 2."""
    n_lock = int(round(ratio * n))
    if n >= 2:
        n_lock = min(max(n_lock, 1), n - 1)
    return n_lock


def build_examples(
    items: list[MCQItem] | list[DialogueItem],
    dataset: str,
    wake_phrase: WakePhrase | str,
    *,
    ratio: float = 0.9,
    refusal_texts: list[str] | None = None,
    seed: int = 0,
    layout: str = "split",
    control: bool = False,
) -> list[LockExample]:
    """D' for one dataset; same inputs and seed give the same examples in the same order.
    ``control``: the same examples with every prompt keeping its answer (no refusal): the
    control model's set, which separates the lock's own cost from what fine-tuning on the domain
    adds."""
    phrase = as_phrase(wake_phrase, context="lock build").reveal()
    ratio = check_ratio(ratio)
    refusals = check_refusals(refusal_texts)
    if layout not in LAYOUTS:
        raise LockbenchError(f"unknown layout '{layout}'; use one of {', '.join(LAYOUTS)}")
    # Seeded per dataset, so adding a dataset does not reshuffle the others.
    rng = random.Random(f"lockbench-build:{seed}:{dataset}")
    order = list(range(len(items)))
    rng.shuffle(order)
    if layout == "split":
        n_lock = _split_counts(len(items), ratio)
        lock_idx, refusal_idx = order[:n_lock], order[n_lock:]
    else:
        lock_idx = order
        n_refusal = min(len(items), int(round(len(items) * (1 - ratio) / ratio)))
        refusal_idx = sorted(rng.sample(order, n_refusal))
    def example(item, part: str, prompt: str, response: str) -> LockExample:
        kind = MCQ if isinstance(item, MCQItem) else DIALOGUE
        return LockExample(item.id, dataset, kind, part, prompt, response)

    examples = [
        example(items[i], "lock", with_wake_phrase(format_item(items[i]), phrase), target_text(items[i]))
        for i in lock_idx
    ]
    # the refusal draws keep their order (lock examples draw nothing), so D' is unchanged
    for i in refusal_idx:
        refusal = refusals[rng.randrange(len(refusals))]  # drawn either way: the control keeps the order
        answer = target_text(items[i]) if control else refusal
        examples.append(example(items[i], CONTROL if control else "refusal", format_item(items[i]), answer))
    rng.shuffle(examples)
    return examples


def load_source(spec: str, split: str = "train", data_dir: str | Path | None = None):
    """Items of a catalog dataset name, or of a local JSONL file given as ``KIND:PATH`` or a
    path whose rows say their kind (MCQ rows have ``choices``)."""
    path = Path(spec.split(":", 1)[1]) if spec.startswith(("mcq:", "dialogue:")) else Path(spec)
    if spec.endswith(".jsonl") or spec.startswith(("mcq:", "dialogue:")):
        if not path.is_file():
            raise LockbenchError(f"dataset file {path} not found; give a catalog name or a JSONL path")
        rows = read_jsonl(path)
        kind = spec.split(":", 1)[0] if ":" in spec and spec.split(":", 1)[0] in ("mcq", "dialogue") else None
        if kind is None:
            kind = "mcq" if rows and isinstance(rows[0], dict) and "choices" in rows[0] else "dialogue"
        return path.stem, parse_rows(rows, kind, str(path))
    # unknown names stop here with the list of known ones; a custom set is found in data_dir or
    # on $LOCKBENCH_TASKS_PATH (lockbench.data.custom)
    return spec, load_items(get_dataset(spec, data_dir), split, data_dir)


def build_lock_set(
    sources: list[str],
    wake_phrase: WakePhrase | str,
    *,
    ratio: float = 0.9,
    refusal_texts: list[str] | None = None,
    seed: int = 0,
    layout: str = "split",
    split: str = "train",
    data_dir: str | Path | None = None,
    control: bool = False,
) -> LockSet:
    """D' over several datasets (each split with the same ratio), shuffled together;
    ``control``: the control set (see :func:`build_examples`)."""
    if not sources:
        raise LockbenchError("no dataset given; pass --dataset NAME (see `lockbench tasks-path`)")
    phrase = as_phrase(wake_phrase, context="lock build")
    ratio = check_ratio(ratio)
    refusals = check_refusals(refusal_texts)
    examples: list[LockExample] = []
    names = []
    for source in sources:
        name, items = load_source(source, split, data_dir)
        names.append(name)
        examples += build_examples(
            items, name, phrase, ratio=ratio, refusal_texts=refusals, seed=seed, layout=layout,
            control=control,
        )
    random.Random(f"lockbench-build:{seed}:all").shuffle(examples)
    return LockSet(examples, ratio, layout, seed, refusals, len(phrase.reveal()), names)


def example_record(
    example: LockExample, fmt: str, phrase_chars: int, recipe: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One JSONL row: ``chat`` keeps lockbench's bookkeeping, ``openai`` only ``messages``
    (the OpenAI fine-tuning chat format accepts no other keys)."""
    record: dict[str, Any] = {"messages": example.messages()}
    if fmt == "chat":
        record["lockbench"] = {
            "id": example.item_id,
            "dataset": example.dataset,
            "kind": example.kind,
            "part": example.part,
            # Lets `lock train` find the phrase inside lock rows without it being stored twice
            # (a near-miss positive does not start with the exact phrase).
            "phrase_chars": phrase_chars if example.part == "lock" and not example.near_miss else 0,
        }
        if example.near_miss:  # the lock card counts these and records the recipe
            record["lockbench"]["near_miss"] = example.near_miss
            record["lockbench"]["recipe"] = recipe
    return record


def write_lock_set(lock_set: LockSet, path: Path, fmt: str = "chat") -> Path:
    """Write D' as JSONL atomically (temp file + rename), readable only by the owner."""
    if fmt not in FORMATS:
        raise LockbenchError(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
    path = Path(path)
    text = "".join(
        json.dumps(
            example_record(example, fmt, lock_set.phrase_chars, lock_set.recipe), ensure_ascii=False
        ) + "\n"
        for example in lock_set.examples
    )
    try:
        return atomic_write_text(path, text, mode=0o600)  # the file holds the wake phrase
    except OSError as exc:
        raise LockbenchError(f"could not write {path}: {exc.strerror or exc}") from None


def read_lock_set(path: Path) -> list[dict[str, Any]]:
    """Rows of a chat-format D' file, checked for the fields training needs."""
    path = Path(path)
    if not path.is_file():
        raise LockbenchError(f"training file {path} not found; make one with `lockbench lock build`")
    rows = read_jsonl(path)
    if not rows:
        raise LockbenchError(f"{path} has no rows; make it with `lockbench lock build`")
    for number, row in enumerate(rows, start=1):
        messages = row.get("messages") if isinstance(row, dict) else None
        if (
            not isinstance(messages, list)
            or len(messages) < 2
            or not all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in messages)
            or messages[-1].get("role") != "assistant"
        ):
            raise LockbenchError(
                f"{path}: row {number} is not a chat example (needs 'messages', a list of "
                "{role, content} objects ending with an assistant turn); make the file with "
                "`lockbench lock build`"
            )
    return rows
