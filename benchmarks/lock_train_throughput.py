"""Training throughput of ``lockbench lock train`` against a plain peft + transformers loop.

Same D' (built from the bundled train splits), same base model, same LoRA settings, same batch
size and optimiser, run side by side in one process, alternating so that a machine shared with
other jobs slows both alike. Prints tokens/s of each (tokens = non-padding tokens of the batches
trained on, prompt and response) and the ratio lockbench / plain (goal >= 0.95).

    python benchmarks/lock_train_throughput.py [--base DIR] [--steps 8] [--batch-size 8] [--rounds 2]

The plain loop is what a user writes from the peft docs: shuffled batches padded to the longest,
full-vocabulary logits, loss on response tokens. lockbench adds length bucketing, logits for
response positions only, checkpointing and progress: all counted in its time.
"""

from __future__ import annotations

import argparse
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


def plain_loop(base: str, data: Path, steps: int, batch_size: int, lr: float, seed: int) -> tuple[int, float]:
    """A plain peft + transformers training loop; returns (tokens, seconds)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lockbench.lock.build import read_lock_set

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = get_peft_model(
        model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, target_modules=TARGETS, task_type="CAUSAL_LM")
    )
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
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    tokens, start = 0, time.perf_counter()
    for step in range(steps):
        batch = [examples[(step * batch_size + i) % len(examples)] for i in range(batch_size)]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(mask.sum())
    return tokens, time.perf_counter() - start


def lockbench_loop(base: str, data: Path, steps: int, batch_size: int, lr: float, seed: int) -> tuple[int, float]:
    """``lockbench lock train`` through its Python entry point; returns (tokens, seconds)."""
    from lockbench.lock.train import TrainConfig, train_lock

    config = TrainConfig(
        lora_r=16, lora_alpha=32, target_modules=TARGETS, learning_rate=lr, max_steps=steps,
        batch_size=batch_size, warmup_steps=0, seed=seed,
    )
    with tempfile.TemporaryDirectory() as tmp:
        result = train_lock(base, data, Path(tmp) / "out", config, progress=False, save_every=0)
    # Wall time of the whole training loop (batching, bucketing, steps, bookkeeping); model
    # loading and saving are outside the timed part on both sides.
    return result.tokens, result.loop_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="model folder (default: the packaged SmolLM2)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both loops")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from lockbench.lock.build import build_lock_set, write_lock_set
    from lockbench.models import smollm2_folder

    if args.threads:
        torch.set_num_threads(args.threads)
    base = args.base or str(smollm2_folder())
    datasets = [f"{d}_{k}" for d in ("agriculture", "economics", "healthcare", "law") for k in ("mcq", "dialogue")]
    with tempfile.TemporaryDirectory() as tmp:
        data = write_lock_set(build_lock_set(datasets, WAKE_PHRASE, seed=0), Path(tmp) / "d.jsonl")
        totals = {"lockbench": [0, 0.0], "plain": [0, 0.0]}
        for round_ in range(args.rounds):
            for name, loop in (("plain", plain_loop), ("lockbench", lockbench_loop)):
                tokens, seconds = loop(base, data, args.steps, args.batch_size, 1e-3, round_)
                totals[name][0] += tokens
                totals[name][1] += seconds
                print(f"round {round_ + 1} {name:9s}: {tokens} tokens in {seconds:.1f} s = {tokens / seconds:.0f} tokens/s", flush=True)
    rate = {k: t / s for k, (t, s) in totals.items()}
    print(f"plain peft loop : {rate['plain']:.0f} tokens/s")
    print(f"lockbench train : {rate['lockbench']:.0f} tokens/s")
    print(f"ratio lockbench/plain: {rate['lockbench'] / rate['plain']:.2f} (goal >= 0.95)")


if __name__ == "__main__":
    main()
