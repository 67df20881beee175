"""Training throughput of ``lockbench lock train`` against a plain peft + transformers loop.

Same D' (built from the bundled train splits), same base model, same LoRA settings, same batch
size, optimiser, device and precision, run side by side in one process, alternating so that a
machine shared with other jobs slows both alike. Prints tokens/s of each (tokens = non-padding
tokens of the batches trained on, prompt and response) and the ratio lockbench / plain for each
batch size (goal: >= 0.95 on CPU, >= 1.0 on a GPU).

    python benchmarks/lock_train_throughput.py [--base DIR] [--device auto|cpu|cuda[:N]]
        [--dtype auto|float32|bfloat16|float16] [--batch-size 8 32] [--steps N] [--rounds 2]

The plain loop is what a user writes from the peft docs: shuffled batches padded to the longest,
full-vocabulary logits, loss on response tokens; on a GPU the model and batches on it, in the same
precision as lockbench (the frozen base stored in bf16/fp16, adapters fp32, autocast), no loss
read back per step (the fastest such loop). lockbench adds length bucketing, logits for response
positions only, clipping, the LR schedule, loss logging every 10 steps and progress (and, on
CUDA, the fused AdamW where the plain loop has torch's default): all counted in its time. On
CUDA an untimed warm-up run of each loop goes first (CUDA context, kernels), and each timed run
ends with a synchronize.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WAKE_PHRASE = "Hey! Lumen!"  # benchmark data only; never a real lock
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def plain_loop(base: str, data: Path, steps: int, batch_size: int, lr: float, seed: int,
               device: str = "cpu", dtype: str = "float32") -> tuple[int, float]:
    """A plain peft + transformers training loop; returns (tokens, seconds)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lockbench.lock.build import read_lock_set

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=getattr(torch, dtype))
    model = get_peft_model(
        model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS, task_type="CAUSAL_LM")
    )
    model.to(device)
    model.train()
    examples = []
    for row in read_lock_set(data):
        prompt = tokenizer.apply_chat_template(row["messages"][:-1], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(row["messages"], tokenize=False).rstrip("\n")
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        examples.append((ids, [-100] * len(p_ids) + ids[len(p_ids) :]))
    random.Random(seed).shuffle(examples)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    scaler = torch.amp.GradScaler("cuda") if dtype == "float16" else None
    kind = torch.device(device).type
    autocast = torch.autocast(kind, dtype=getattr(torch, dtype)) if dtype != "float32" else contextlib.nullcontext()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    tokens, start = 0, time.perf_counter()
    for step in range(steps):
        batch = [examples[(step * batch_size + i) % len(examples)] for i in range(batch_size)]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        with autocast:
            loss = model(input_ids=input_ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        optimizer.zero_grad()
        tokens += int(mask.sum())
    if kind == "cuda":
        torch.cuda.synchronize()
    return tokens, time.perf_counter() - start


def lockbench_loop(base: str, data: Path, steps: int, batch_size: int, lr: float, seed: int,
                   device: str = "cpu", dtype: str = "float32") -> tuple[int, float]:
    """``lockbench lock train`` through its Python entry point; returns (tokens, seconds)."""
    from lockbench.lock.train import TrainConfig, train_lock

    config = TrainConfig(
        lora_r=16, lora_alpha=32, target_modules=TARGETS, learning_rate=lr, max_steps=steps,
        batch_size=batch_size, warmup_steps=0, seed=seed,
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = train_lock(base, data, Path(tmp) / "out", config, progress=False, save_every=0,
                            device=device, dtype=dtype)
    # Wall time of the whole training loop (batching, bucketing, steps, bookkeeping, the final
    # loss read-back, which waits for the GPU); model loading and saving are outside the timed
    # part on both sides.
    return result.tokens, result.loop_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="model folder (default: the packaged SmolLM2)")
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda|cuda:N (default auto)")
    parser.add_argument("--dtype", default="auto", choices=("auto", "float32", "bfloat16", "float16"))
    parser.add_argument("--steps", type=int, default=None, help="timed steps per run (default: 8 on CPU, 60 on CUDA)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[8], help="one or more batch sizes")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both loops")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from lockbench.lock.build import build_lock_set, write_lock_set
    from lockbench.lock.device import Machine, resolve
    from lockbench.models import smollm2_folder

    if args.threads:
        torch.set_num_threads(args.threads)
    placement = resolve(args.device, args.dtype, Machine.probe())
    device, dtype = placement.device, placement.dtype
    on_cuda = placement.on_cuda
    name = torch.cuda.get_device_name(device) if on_cuda else f"CPU, {torch.get_num_threads()} threads"
    steps = args.steps or (60 if on_cuda else 8)
    base = args.base or str(smollm2_folder())
    print(f"device {device} ({name}), dtype {dtype}, {steps} steps x {args.rounds} rounds, base {base}", flush=True)
    datasets = [f"{d}_{k}" for d in ("agriculture", "economics", "healthcare", "law") for k in ("mcq", "dialogue")]
    loops = (("plain", plain_loop), ("lockbench", lockbench_loop))
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        data = write_lock_set(build_lock_set(datasets, WAKE_PHRASE, seed=0), Path(tmp) / "d.jsonl")
        for batch_size in args.batch_size:
            if on_cuda:  # untimed: CUDA context, cuBLAS handles, kernel selection for this shape
                for _, loop in loops:
                    loop(base, data, 3, batch_size, 1e-3, 99, device, dtype)
            totals = {"lockbench": [0, 0.0], "plain": [0, 0.0]}
            for round_ in range(args.rounds):
                for label, loop in loops:
                    tokens, seconds = loop(base, data, steps, batch_size, 1e-3, round_, device, dtype)
                    totals[label][0] += tokens
                    totals[label][1] += seconds
                    print(f"batch {batch_size} round {round_ + 1} {label:9s}: {tokens} tokens in {seconds:.2f} s "
                          f"= {tokens / seconds:.0f} tokens/s, {steps / seconds:.1f} steps/s", flush=True)
            rate = {k: t / s for k, (t, s) in totals.items()}
            summary.append((batch_size, rate["plain"], rate["lockbench"]))
    goal = 1.0 if on_cuda else 0.95
    print(f"\n{name}, {dtype}: tokens/s")
    print(f"{'batch':>5}  {'plain peft':>10}  {'lockbench':>10}  ratio (goal >= {goal})")
    for batch_size, plain, ours in summary:
        print(f"{batch_size:>5}  {plain:>10.0f}  {ours:>10.0f}  {ours / plain:.2f}")


if __name__ == "__main__":
    main()
