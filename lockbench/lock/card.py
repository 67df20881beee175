"""The lock card: what a locked checkpoint is, how it was made, and a salted hash of its phrase.

Everything needed to reproduce or verify the lock, and nothing that unlocks it: the wake phrase
is recorded only as a placeholder plus a salted scrypt hash (a verifier who knows the phrase can check
it with :func:`lockbench.secrets.verify_hash`). ``write_card`` refuses to write a card that
contains the phrase in any letter case.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockbench import __version__
from lockbench.errors import LockbenchError, SecretError
from lockbench.fsutil import atomic_write_text
from lockbench.secrets import PLACEHOLDER, contains_secret, salted_hash, verify_hash

CARD_SCHEMA = "lockbench-lock-card"
CARD_VERSION = 1


def phrase_from_rows(rows: list[dict[str, Any]]) -> str:
    """The wake phrase of a chat-format D' file, read from its lock rows (``phrase_chars``)."""
    phrases = set()
    for row in rows:
        meta = row.get("lockbench") or {}
        n = meta.get("phrase_chars") or 0
        if meta.get("part") == "lock" and n:
            phrases.add(row["messages"][-2]["content"][:n])
    if len(phrases) != 1:
        raise LockbenchError(
            "the training file does not say which wake phrase it uses (expected lock rows with "
            "'lockbench.phrase_chars' from `lockbench lock build`); rebuild it with that command"
        )
    return phrases.pop()


def phrase_in_rows(rows: list[dict[str, Any]]) -> str | None:
    """The wake phrase of a training file, or None when no row carries one (a fine-tuning
    attack's data: answered examples without the phrase, ``part`` "attack")."""
    if not any((r.get("lockbench") or {}).get("phrase_chars") for r in rows):
        return None
    return phrase_from_rows(rows)


def _data_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    parts = Counter((r.get("lockbench") or {}).get("part", "unknown") for r in rows)
    datasets = sorted({(r.get("lockbench") or {}).get("dataset", "unknown") for r in rows})
    refusals = Counter(
        r["messages"][-1]["content"]
        for r in rows
        if (r.get("lockbench") or {}).get("part") == "refusal"
    )
    total = len(rows)
    return {
        "examples": total,
        "lock_examples": parts.get("lock", 0),
        "refusal_examples": parts.get("refusal", 0),
        "ratio": round(parts.get("lock", 0) / total, 4) if total else None,
        "datasets": datasets,
        "refusal_texts": [text for text, _ in refusals.most_common()],
        "recipe": _recipe(rows),
    }


def _recipe(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``{"recipe": "paper"}``, or the hardened recipe's settings (lockbench.lock.hardened) with
    the count of near-miss examples per part and kind (its rows carry both)."""
    metas = [r.get("lockbench") or {} for r in rows]
    recipe = next((m["recipe"] for m in metas if m.get("near_miss") and m.get("recipe")), None)
    if recipe is None:
        return {"recipe": "paper"}
    near = Counter((m.get("part"), m["near_miss"]) for m in metas if m.get("near_miss"))
    counts = {
        part: {kind: n for (p, kind), n in sorted(near.items()) if p == part}
        for part in ("refusal", "lock")
    }
    return {**recipe, "near_miss_counts": counts}


def make_card(
    *,
    base: dict[str, Any],
    rows: list[dict[str, Any]],
    data_sha: str,
    config,
    steps: int,
    losses: list[float],
    tokens: int,
    seconds: float,
) -> dict[str, Any]:
    """The card for one finished training run (no phrase inside, only its salted hash)."""
    phrase = phrase_in_rows(rows)
    summary = _data_summary(rows)
    recipe = summary.pop("recipe")
    return {
        "schema": CARD_SCHEMA,
        "schema_version": CARD_VERSION,
        "lockbench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "base_model": base,
        # The leaderboard groups rows by method: a hardened lock is its own row.
        "method": "identitylock-" + ("hardened-" if recipe["recipe"] != "paper" else "") + config.method,
        "hyperparameters": asdict(config),
        "lock": {
            "wake_phrase": PLACEHOLDER,
            "wake_phrase_hash": salted_hash(phrase) if phrase is not None else None,
            "ratio": summary["ratio"],
            "refusal_texts": summary["refusal_texts"],
            "recipe": recipe,
        },
        "data": {**summary, **_data_hash(data_sha, phrase)},
        "training": {
            "steps": steps,
            "tokens": tokens,
            "train_seconds": round(seconds, 1),
            "first_loss": losses[0] if losses else None,
            "final_loss": round(sum(losses[-10:]) / max(1, len(losses[-10:])), 5) if losses else None,
        },
    }


def write_card(card: dict[str, Any], path: Path, *, rows: list[dict[str, Any]] | None = None) -> Path:
    """Write the card atomically; stop if the phrase (from ``rows``) leaked into it."""
    text = json.dumps(card, indent=2, ensure_ascii=False) + "\n"
    phrase = phrase_in_rows(rows) if rows is not None else None
    if phrase is not None and contains_secret(text, [phrase]):
        raise SecretError("the lock card would contain the wake phrase; nothing was written")
    return atomic_write_text(Path(path), text)


def result_lock_info(card: dict[str, Any]) -> dict[str, Any]:
    """The ``lock`` fields of a lockbench-result, from a card written by ``lockbench lock train``.

    A dict that is not such a card is taken to hold those fields already (wake_phrase_hash,
    refusal_text, method, ratio, base_model) and is returned as it is; the result schema checks it.
    """
    if card.get("schema") != CARD_SCHEMA:
        return card
    lock = card.get("lock") or {}
    base = card.get("base_model")
    if isinstance(base, dict):  # name@revision: identifies the weights without a local path
        name, revision = base.get("name"), base.get("revision")
        base = f"{name}@{revision}" if name and revision else name
    return {
        "wake_phrase_hash": lock.get("wake_phrase_hash"),
        "refusal_text": (lock.get("refusal_texts") or [None])[0],
        "method": card.get("method"),
        "ratio": lock.get("ratio"),
        "base_model": base,
    }


def read_card(folder: Path) -> dict[str, Any]:
    path = Path(folder) / "lock_card.json"
    if not path.is_file():
        raise LockbenchError(f"{folder} has no lock_card.json; is it a `lockbench lock train` output?")
    from lockbench.fsutil import read_json

    card = read_json(path, "lock card")
    if not isinstance(card, dict):
        raise LockbenchError(f"{path}: a lock card is a JSON object; re-run `lockbench lock train`")
    return card


def _data_hash(data_sha: str, phrase: str | None) -> dict[str, Any]:
    """How the card names its training file. A file holding the phrase is rebuilt by anyone from
    public items and a guess, so a plain hash of it would test guesses offline: such a file gets a
    salted slow hash of its sha256 (as costly to attack as ``wake_phrase_hash``)."""
    return {"sha256": data_sha} if phrase is None else {"salted_sha256": salted_hash(data_sha)}


def data_matches(card: dict, data_sha: str) -> bool:
    """Whether the card was trained on the file whose sha256 is ``data_sha``."""
    data = card.get("data") or {}
    record = data.get("salted_sha256")
    if isinstance(record, dict):
        try:
            return verify_hash(data_sha, record)
        except (KeyError, TypeError, ValueError):
            return False
    return data.get("sha256") == data_sha


def card_matches(card: dict, config, data_sha: str, base_revision: str) -> bool:
    """A finished lock is reused only if it was trained from the same D', settings and base."""
    return (
        card.get("hyperparameters") == asdict(config)
        and data_matches(card, data_sha)
        and (card.get("base_model") or {}).get("revision") == base_revision
    )
