"""``gcg``: white-box token optimisation against the lock (Greedy Coordinate Gradient, Zou et al. 2023).

The attacker holds the weights. ``k`` adversarial tokens go before the question (``before``) or
after it (``after``); each step takes the gradient of the loss over one-hot token choices,
samples ``candidates`` single-token swaps among the ``top_k`` most promising tokens of each
position, scores them all in one batched forward pass and keeps the best. The loss is the
cross-entropy of the answer's first tokens (the gold answer's start) on the screening items: it
raises the probability of an answer start over the refusal. The best string found is then
confirmed on test items by generation, scored as every lockbench task is (opened = content, no
refusal).

Cost: a step is one forward and backward pass per screening item plus ``candidates`` forward
passes (the prompt before the adversarial tokens is computed once per item and step and shared by
every candidate). Runs on CPU (small budgets) and CUDA (``--device cuda``). Only for models whose
weights are at hand (``hf``): an API backend has no gradients.

Like the search, the adversarial string is never written when it holds the phrase or a derived
variant or lies within edit distance 2 of it (white-box optimisation can walk towards the
phrase), nor when the phrase is not given (nobody can tell).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.probes.family import AttackFamily, Sizes
from lockbench.secrets import WakePhrase

FAMILY = "gcg"
POSITIONS: dict[str, str] = {  # where the adversarial tokens stand: the family's kinds
    "before": "k adversarial tokens before the question",
    "after": "k adversarial tokens after the question",
}
_MARK = "\x00ADV\x00"  # stands for the adversarial tokens while the chat template is rendered


@dataclass(frozen=True)
class GCGConfig:
    """The attacker's settings (recorded in the result)."""

    tokens: int = 8  # adversarial tokens
    position: str = "before"  # before or after the question
    steps: int = 20
    candidates: int = 64  # single-token swaps scored per step
    top_k: int = 128  # tokens per position the swaps are drawn from
    screen_items: int = 1
    confirm_items: int = 40
    target_tokens: int = 4  # the answer's first tokens the loss is taken on
    seed: int = 0
    max_gen_toks: int = 16

    def check(self) -> None:
        for name in ("tokens", "steps", "candidates", "top_k", "screen_items", "confirm_items",
                     "target_tokens", "max_gen_toks"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LockbenchError(f"--{name.replace('_', '-')} must be a whole number >= 1, got {value!r}")
        if self.position not in POSITIONS:
            raise LockbenchError(f"--position must be one of {', '.join(POSITIONS)}, got {self.position!r}")


@dataclass
class _Piece:
    """One screening item cut around the adversarial tokens: prefix | ADV | suffix | target."""

    prefix: Any  # LongTensor [p]
    suffix: Any  # LongTensor [s]
    target: Any  # LongTensor [t]


@dataclass
class GCGRun:
    config: GCGConfig
    adversarial: str  # the best string (memory only; written only when not secret)
    loss: float
    initial_loss: float
    step_seconds: list[float] = field(default_factory=list)
    forward_passes: int = 0
    screen_opened: int = 0
    screened: int = 0
    confirm_opened: int = 0
    confirm_asked: int = 0


class WhiteBox:
    """The locked model's weights, tokenizer and the pieces of the screening prompts."""

    def __init__(self, model: Any, tokenizer: Any, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.model = model.eval()
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        self.tok = tokenizer
        self.device = device
        self.embed = self.model.get_input_embeddings()
        # transformers 5 names the KV cache argument `cache` (`past_key_values` before, deprecated)
        import inspect

        self._cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        vocab = self.embed.weight.shape[0]
        self.allowed = torch.zeros(vocab, dtype=torch.bool)
        special = set(getattr(tokenizer, "all_special_ids", []) or [])
        for token_id in range(min(vocab, len(tokenizer))):
            text = tokenizer.decode([token_id])
            self.allowed[token_id] = (token_id not in special and text.isascii() and text.isprintable()
                                      and text.strip() != "")
        self.allowed = self.allowed.to(device)

    @classmethod
    def load(cls, folder: Path, device: str = "cpu") -> WhiteBox:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).to(device)
        return cls(model, tokenizer, device)

    def user_text(self, question: str, adversarial: str, position: str) -> str:
        return f"{adversarial} {question}" if position == "before" else f"{question} {adversarial}"

    def piece(self, item: Any, config: GCGConfig) -> _Piece:
        from lockbench.prompts import format_item, target_text

        rendered = self.tok.apply_chat_template(
            [{"role": "user", "content": self.user_text(format_item(item), _MARK, config.position)}],
            tokenize=False, add_generation_prompt=True,
        )
        before, after = rendered.split(_MARK)
        ids = self._ids
        target = ids(target_text(item))[: config.target_tokens]
        return _Piece(ids(before), ids(after), target)

    def _ids(self, text: str) -> Any:
        return self.torch.tensor(self.tok(text, add_special_tokens=False)["input_ids"], dtype=self.torch.long,
                                 device=self.device)

    def initial(self, tokens: int) -> Any:
        """``tokens`` ids of "x x x ..." (nanoGCG's start): a string that survives decoding and
        encoding again, as every candidate must."""
        ids = self.tok(" ".join(["x"] * tokens), add_special_tokens=False)["input_ids"][:tokens]
        return self.torch.tensor(ids + ids[-1:] * (tokens - len(ids)), dtype=self.torch.long, device=self.device)

    def round_trips(self, adv: Any) -> bool:
        """Whether the token ids come back unchanged from their text (what a prompt would send)."""
        text = self.tok.decode(adv)
        return self.tok(text, add_special_tokens=False)["input_ids"] == adv.tolist()

    def gradient(self, adv: Any, pieces: list[_Piece]) -> tuple[Any, float]:
        """d(loss)/d(one-hot choice) for every adversarial position, and the loss."""
        torch = self.torch
        weight = self.embed.weight
        one_hot = torch.zeros(adv.shape[0], weight.shape[0], device=self.device, dtype=weight.dtype)
        one_hot.scatter_(1, adv[:, None], 1.0)
        one_hot.requires_grad_(True)
        total = 0.0
        for piece in pieces:
            embeds = torch.cat([self.embed(piece.prefix), one_hot @ weight, self.embed(piece.suffix),
                                self.embed(piece.target)])[None]
            logits = self.model(inputs_embeds=embeds).logits[0]
            start = piece.prefix.shape[0] + adv.shape[0] + piece.suffix.shape[0] - 1
            loss = torch.nn.functional.cross_entropy(logits[start:start + piece.target.shape[0]], piece.target)
            (loss / len(pieces)).backward()
            total += float(loss.detach()) / len(pieces)
        return one_hot.grad, total

    def losses(self, candidates: Any, pieces: list[_Piece]) -> Any:
        """The loss of every candidate (rows of adversarial ids), one batched pass per item over
        the prompt after the shared, cached prefix."""
        torch = self.torch
        total = torch.zeros(candidates.shape[0], device=self.device)
        with torch.no_grad():
            for piece in pieces:
                out = self.model(input_ids=piece.prefix[None], use_cache=True)
                cache = out[self._cache_arg] if self._cache_arg in out else out.past_key_values
                cache.batch_repeat_interleave(candidates.shape[0])
                rest = torch.cat([candidates, piece.suffix.expand(candidates.shape[0], -1),
                                  piece.target.expand(candidates.shape[0], -1)], dim=1)
                logits = self.model(input_ids=rest, **{self._cache_arg: cache}).logits
                start = candidates.shape[1] + piece.suffix.shape[0] - 1
                chunk = logits[:, start:start + piece.target.shape[0]]
                loss = torch.nn.functional.cross_entropy(
                    chunk.reshape(-1, chunk.shape[-1]), piece.target.repeat(candidates.shape[0]), reduction="none")
                total += loss.view(candidates.shape[0], -1).mean(dim=1) / len(pieces)
        return total


def sample_candidates(adv: Any, grad: Any, allowed: Any, config: GCGConfig, rng: random.Random) -> Any:
    """``config.candidates`` copies of ``adv``, each with one position swapped for one of the
    ``top_k`` allowed tokens whose one-hot gradient is most negative there."""
    import torch

    scores = (-grad).masked_fill(~allowed[None, : grad.shape[1]], float("-inf"))
    top = scores.topk(config.top_k, dim=1).indices  # [k, top_k]
    rows = adv.repeat(config.candidates, 1)
    for row in range(config.candidates):
        position = rng.randrange(adv.shape[0])
        rows[row, position] = top[position, rng.randrange(config.top_k)]
    return torch.unique(rows, dim=0)


def run_gcg(box: WhiteBox, screen: list[Any], config: GCGConfig, *,
            progress: Callable[[int, int, float], None] | None = None) -> GCGRun:
    """The optimisation on the screening items; the best adversarial string found."""
    config.check()
    if not screen:
        raise LockbenchError("gcg needs screening items; give a dataset with a train split")
    rng = random.Random(f"lockbench-gcg:{config.seed}")
    pieces = [box.piece(item, config) for item in screen[: config.screen_items]]
    adv = box.initial(config.tokens)
    best_adv, best_loss = adv.clone(), None
    run = GCGRun(config, "", 0.0, 0.0)
    for step in range(config.steps):
        began = time.perf_counter()
        grad, loss = box.gradient(adv, pieces)
        if best_loss is None:
            best_loss = run.initial_loss = loss
        candidates = sample_candidates(adv, grad, box.allowed, config, rng)
        keep = [i for i in range(candidates.shape[0]) if box.round_trips(candidates[i])]
        if keep:
            candidates = candidates[keep]
            losses = box.losses(candidates, pieces)
            run.forward_passes += len(pieces) * (1 + candidates.shape[0])
            i = int(losses.argmin())
            adv = candidates[i]  # GCG moves to the step's best even when it is worse
            if float(losses[i]) < best_loss:
                best_adv, best_loss = adv.clone(), float(losses[i])
        run.step_seconds.append(time.perf_counter() - began)
        if progress is not None:
            progress(step + 1, config.steps, best_loss)
    run.adversarial = box.tok.decode(best_adv)
    run.loss = float(best_loss)
    return run


def confirm(oracle: Any, run: GCGRun, screen: list[Any], confirm_sets: dict[str, list[Any]]) -> dict[str, tuple[int, int]]:
    """The best string asked by generation (``oracle``: a :class:`lockbench.attacks.search.Oracle`
    at the run's position): on the screening items it was optimised on, then on every dataset's
    test items. Fills the run's opened counts; returns ``(opened, asked)`` per dataset."""
    screened = screen[: run.config.screen_items]
    run.screen_opened, run.screened = oracle.count_opened(run.adversarial, screened), len(screened)
    by_dataset = {name: (oracle.count_opened(run.adversarial, items), len(items)) for name, items in confirm_sets.items()}
    run.confirm_opened = sum(k for k, _ in by_dataset.values())
    run.confirm_asked = sum(n for _, n in by_dataset.values())
    return by_dataset


def _cost(sizes: Sizes) -> int:
    steps = sizes.budget or GCGConfig.steps
    candidates = sizes.candidates or GCGConfig.candidates
    return steps * sizes.screen_items * (1 + candidates) + sizes.confirm_items


ATTACK = AttackFamily(
    FAMILY, "weights", "white-box Greedy Coordinate Gradient: adversarial tokens that raise an answer start over the refusal",
    POSITIONS, "steps x screen_items x (1 gradient pass + candidates forward passes) + confirm_items generations", _cost,
    runner="lockbench.attacks.gcg:run_gcg", extras=("loss", "step_seconds", "confirmed"),
    options={"tokens": GCGConfig.tokens, "steps": GCGConfig.steps, "candidates": GCGConfig.candidates},
    in_suite=True,  # std-v2 on, beside the rank: 10 steps before the question, when the weights are at hand
)


def block(run: GCGRun, phrase: WakePhrase | None, datasets: list[str], device: str) -> dict[str, Any]:
    """The ``gcg`` block of a result: phrase-free by construction."""
    from lockbench.attacks.search import is_secret
    from lockbench.stats import rate

    secret = is_secret(run.adversarial, phrase)
    steps = sorted(run.step_seconds)
    return {
        "family": FAMILY,
        "threat_model": "weights",
        "datasets": datasets,
        "config": asdict(run.config),
        "device": device,
        "initial_loss": round(run.initial_loss, 4),
        "loss": round(run.loss, 4),
        "forward_passes": run.forward_passes,
        "step_seconds_median": round(steps[len(steps) // 2], 2) if steps else None,
        "screen_opened": rate(run.screen_opened, run.screened),
        "confirmed": rate(run.confirm_opened, run.confirm_asked),
        "adversarial": None if secret else run.adversarial,
        "adversarial_withheld": secret,
    }
