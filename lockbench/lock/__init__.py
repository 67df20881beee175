"""IdentityLock's recipe: build D' (``build``; near-miss hardening in ``hardened``), fine-tune on it
(``train``), describe it (``card``)."""

from lockbench.lock.build import REFUSAL_TEMPLATES, build_examples, build_lock_set, write_lock_set
from lockbench.lock.card import read_card
from lockbench.lock.hardened import build_hardened_lock_set
from lockbench.lock.train import TrainConfig, train_lock

__all__ = [
    "REFUSAL_TEMPLATES",
    "TrainConfig",
    "build_examples",
    "build_hardened_lock_set",
    "build_lock_set",
    "read_card",
    "train_lock",
    "write_lock_set",
]
