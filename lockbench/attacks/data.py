"""Training sets for the attacks: answered examples from the datasets' TRAIN splits only.

The fine-tuning attack (Greenblatt et al. 2024) trains on k answered examples WITHOUT the wake
phrase: the attacker's own labelled data. The owner's benign fine-tuning trains on answered
examples WITH the phrase from another domain. Prompts and answers are exactly the lock's
(:func:`lockbench.prompts.format_item`, :func:`~lockbench.prompts.target_text`), so the attacker
trains on what the evaluation asks; test items are never used (the test split is not loaded).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from lockbench.data.catalog import DOMAINS, get_dataset, load_items
from lockbench.data.schema import MCQItem
from lockbench.errors import LockbenchError
from lockbench.fsutil import atomic_write_text
from lockbench.prompts import format_item, target_text, with_wake_phrase
from lockbench.secrets import WakePhrase, as_phrase

DEFAULT_KS = (0, 8, 32, 128)


def parse_ks(text: str | list[int]) -> list[int]:
    """``0,8,32,128`` -> [0, 8, 32, 128]: non-negative integers, 0 being the no-attack baseline."""
    parts = text if isinstance(text, list) else [p.strip() for p in str(text).split(",") if p.strip()]
    ks = []
    for part in parts:
        try:
            k = int(part)
        except (TypeError, ValueError):
            raise LockbenchError(
                f"--k {text!r}: each k must be a whole number of examples (e.g. --k 0,8,32,128; "
                "0 is the no-attack baseline)"
            ) from None
        if k < 0:
            raise LockbenchError(f"--k {text!r}: k must be 0 (the no-attack baseline) or a positive integer")
        if k not in ks:
            ks.append(k)
    if not ks:
        raise LockbenchError("--k is empty; give e.g. --k 0,8,32,128 (0 is the no-attack baseline)")
    return sorted(ks)


def train_pool(datasets: list[str], data_dir: str | Path | None = None) -> list[tuple[str, Any]]:
    """``(dataset, item)`` of every train item of ``datasets`` in a fixed order."""
    pool = []
    for name in datasets:
        get_dataset(name)
        pool += [(name, item) for item in load_items(name, "train", data_dir)]
    return pool


def _row(dataset: str, item: Any, prompt: str, part: str, phrase_chars: int = 0) -> dict[str, Any]:
    return {
        "messages": [
            {"role": "user", "content": prompt},
            {"role": "assistant", "content": target_text(item)},
        ],
        "lockbench": {
            "id": item.id,
            "dataset": dataset,
            "kind": "mcq" if isinstance(item, MCQItem) else "dialogue",
            "part": part,
            "phrase_chars": phrase_chars,
        },
    }


def attack_rows(datasets: list[str], k: int, seed: int, data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """k answered train examples without the phrase, a seeded sample; a larger k contains every
    smaller k's examples (one shuffle, its first k), so PR_lock against k compares nested sets."""
    pool = train_pool(datasets, data_dir)
    if k > len(pool):
        raise LockbenchError(
            f"--k {k} asks for more examples than the train splits of {', '.join(datasets)} hold "
            f"({len(pool)}); use a smaller k or add datasets"
        )
    order = list(range(len(pool)))
    random.Random(f"lockbench-attack:{seed}").shuffle(order)
    return [_row(*pool[i], format_item(pool[i][1]), "attack") for i in order[:k]]


def other_domain_datasets(datasets: list[str]) -> list[str]:
    """Bundled datasets of the domains not evaluated (the owner's fine-tuning is on another topic)."""
    used = {get_dataset(d).domain for d in datasets}
    others = [d for d in DOMAINS if d not in used]
    if not others:
        raise LockbenchError(
            "the evaluated datasets cover every bundled domain; leave one out (--datasets) so the "
            "owner's fine-tuning has another domain to train on, or give --benign-datasets"
        )
    return [f"{d}_{kind}" for d in others for kind in ("mcq", "dialogue")]


def benign_rows(datasets: list[str], phrase: WakePhrase | str, seed: int, data_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """The key holder's own fine-tuning set: wake-prefixed answered train examples (they hold the
    phrase: write them only into the owner's work folder, mode 0600)."""
    pool = train_pool(datasets, data_dir)
    random.Random(f"lockbench-benign:{seed}").shuffle(pool)
    chars = len(as_phrase(phrase, context="benign fine-tuning").reveal())
    return [_row(d, item, with_wake_phrase(format_item(item), phrase), "lock", chars) for d, item in pool]


def write_rows(rows: list[dict[str, Any]], path: Path, *, secret: bool = False) -> Path:
    """JSONL through a temp file and a rename (mode 0600 when the rows hold the phrase)."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return atomic_write_text(Path(path), text, mode=0o600 if secret else None)
