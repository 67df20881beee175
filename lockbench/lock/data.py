"""D' rows to token tensors: the chat template, loss masks on the response, length-bucketed batches.

The prompt is rendered with the tokenizer's chat template exactly as lm-eval renders it under
``--apply_chat_template`` (user turn + generation prompt), so the trained prompt and the evaluated
prompt are the same tokens. Only the assistant's tokens (its answer and end-of-turn marker) carry
loss: the model must learn what to answer, not to predict the question.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import torch

from lockbench.errors import LockbenchError

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    """One tokenised example: ids, and labels with the prompt masked out."""

    input_ids: list[int]
    labels: list[int]
    part: str

    @property
    def n_tokens(self) -> int:
        return len(self.input_ids)

    @property
    def n_response(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE)


def encode_row(row: dict[str, Any], tokenizer, max_length: int) -> Encoded:
    """Tokenise one chat row; the prompt is cut from the left if the whole is too long."""
    messages = row["messages"]
    prompt = tokenizer.apply_chat_template(
        messages[:-1], tokenize=False, add_generation_prompt=True
    )
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    if not full.startswith(prompt):
        raise LockbenchError(
            "the tokenizer's chat template renders the answer in a way that does not extend the "
            "prompt; lockbench cannot mask the prompt for this model's template"
        )
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(full[len(prompt) :].rstrip("\n"), add_special_tokens=False)["input_ids"]
    if len(response_ids) >= max_length:
        response_ids = response_ids[: max_length // 2]
    keep = max_length - len(response_ids)
    if len(prompt_ids) > keep:
        # The wake phrase leads the user text, but the chat template's header comes first:
        # cut from the question's end rather than losing the phrase.
        prompt_ids = prompt_ids[:keep]
    part = (row.get("lockbench") or {}).get("part", "lock")
    return Encoded(prompt_ids + response_ids, [IGNORE] * len(prompt_ids) + response_ids, part)


def encode_rows(rows: list[dict[str, Any]], tokenizer, max_length: int) -> list[Encoded]:
    return [encode_row(row, tokenizer, max_length) for row in rows]


def epoch_batches(
    encoded: list[Encoded], batch_size: int, seed: int, epoch: int, bucket: bool = True
) -> list[list[int]]:
    """Indices of one epoch's batches: shuffled by (seed, epoch); with ``bucket``, examples of
    similar length share a batch (less padding, the same examples), and batch order is shuffled."""
    rng = random.Random(f"lockbench-train:{seed}:{epoch}")
    order = list(range(len(encoded)))
    rng.shuffle(order)
    if bucket:
        window = batch_size * 16
        chunks = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start : start + window], key=lambda i: encoded[i].n_tokens)
            chunks += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
        rng.shuffle(chunks)
        return chunks
    return [order[j : j + batch_size] for j in range(0, len(order), batch_size)]


def collate(examples: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded tensors; padding has attention 0 and no loss."""
    width = max(e.n_tokens for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = e.n_tokens
        ids[row, :n] = torch.tensor(e.input_ids)
        labels[row, :n] = torch.tensor(e.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def loss_window(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions whose logits are needed (those predicting a response token) and their targets.

    The vocabulary projection is a large share of a small model's compute; computing it only
    from the first response position on (``logits_to_keep``) skips it for most prompt tokens.
    """
    has_label = (labels != IGNORE).any(0).nonzero()
    start = int(has_label[0]) if len(has_label) else 1
    start = max(start, 1)
    keep = torch.arange(start - 1, labels.size(1) - 1)
    return keep, labels[:, start:]


def response_loss(logits: torch.Tensor, targets: torch.Tensor, average: str = "example") -> torch.Tensor:
    """Cross-entropy of ``logits[:, i]`` against ``targets[:, i]`` (already shifted), response
    tokens only. ``example``: each conversation weighs the same (a short refusal counts as much
    as a long dialogue answer); ``token``: every response token does."""
    losses = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.size(-1)).float(),
        targets.reshape(-1),
        ignore_index=IGNORE,
        reduction="none",
    ).view(targets.shape)
    mask = (targets != IGNORE).float()
    if average == "token":
        return (losses * mask).sum() / mask.sum().clamp(min=1)
    per_example = (losses * mask).sum(1) / mask.sum(1).clamp(min=1)
    return per_example.mean()
