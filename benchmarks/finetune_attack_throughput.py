"""Training throughput of ``lockbench attack finetune`` against a plain peft loop on the same data.

The attack's side is its own code path (:func:`lockbench.attacks.finetune.train_on`: the k
answered examples from the train splits, written and trained on top of the locked model through
``lockbench lock train``'s loop); the plain side is what a user writes from the peft docs (LoRA
with the attack's settings, AdamW, batches padded to the longest, full-vocabulary logits, loss on
response tokens). Same model, same k examples, same batch size, rank, targets and learning rate.

The machine this runs on is shared, so both loops are timed in CPU seconds of this process
(``time.process_time``: all of torch's threads) as well as wall seconds, run alternately for
``--rounds`` rounds, from the end of their first step (warm-up: allocator, kernels) to the end of
their last. With k equal to the batch size (the default, k = 8) every step of both loops trains on
exactly the same 8 examples, so steps per CPU second compare like for like; the script prints
tokens/s too (non-padding tokens) and ``uptime`` before and after.

    python benchmarks/finetune_attack_throughput.py [--model DIR] [--k 8] [--steps 6] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

DATASETS = ["agriculture_mcq", "economics_mcq", "healthcare_mcq", "law_mcq",
            "agriculture_dialogue", "economics_dialogue", "healthcare_dialogue", "law_dialogue"]


def _tokens(rows, tokenizer) -> list[tuple[list[int], list[int]]]:
    examples = []
    for row in rows:
        prompt = tokenizer.apply_chat_template(row["messages"][:-1], tokenize=False, add_generation_prompt=True)
        full = tokenizer.apply_chat_template(row["messages"], tokenize=False).rstrip("\n")
        p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        examples.append((ids, [-100] * len(p_ids) + ids[len(p_ids):]))
    return examples


def plain_loop(model_dir: str, rows, config) -> dict[str, float]:
    """A plain peft loop; CPU and wall seconds and tokens of steps 2..N."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    targets = config.target_modules[0] if config.target_modules == ["all-linear"] else config.target_modules
    model = get_peft_model(model, LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=0.0,
                                             target_modules=targets, task_type="CAUSAL_LM"))
    model.train()
    examples = _tokens(rows, tokenizer)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    n = config.batch_size
    marks, tokens = {}, 0
    for step in range(config.max_steps):
        batch = [examples[(step * n + i) % len(examples)] for i in range(min(n, len(examples)))]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _ in batch])
        labels = torch.tensor([lab + [-100] * (width - len(lab)) for _, lab in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in batch])
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step == 0:
            marks = {"cpu": time.process_time(), "wall": time.perf_counter()}
        else:
            tokens += int(mask.sum())
    return {"cpu": time.process_time() - marks["cpu"], "wall": time.perf_counter() - marks["wall"],
            "tokens": tokens, "steps": config.max_steps - 1}


def attack_loop(locked, rows, config, work: Path) -> dict[str, float]:
    """The attack's training (train_on -> lock train's loop); the same window: steps 2..N."""
    from lockbench.attacks.finetune import train_on

    marks = {}

    def on_step(step, loss):
        if step == 1:
            marks.update(cpu=time.process_time(), wall=time.perf_counter())
        elif step == config.max_steps:
            marks.update(cpu_end=time.process_time(), wall_end=time.perf_counter())

    folder = work / f"attack-{time.time_ns()}"
    train_on(locked, rows, folder, config, progress=False, train_options={"on_step": on_step})
    # tokens of steps 2..N: with k equal to the batch size every step is the same k examples
    from transformers import AutoTokenizer

    per_step = sum(len(ids) for ids, _ in _tokens(rows, AutoTokenizer.from_pretrained(locked.full)))
    return {"cpu": marks["cpu_end"] - marks["cpu"], "wall": marks["wall_end"] - marks["wall"],
            "tokens": per_step * (config.max_steps - 1), "steps": config.max_steps - 1}


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "uptime unavailable"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="the (locked) model folder (default: the packaged SmolLM2)")
    parser.add_argument("--k", type=int, default=8, help="answered examples (default 8 = the batch size)")
    parser.add_argument("--steps", type=int, default=6, help="steps per run (the first is warm-up, not timed)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds of both loops")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    import torch

    from lockbench.attacks.data import attack_rows
    from lockbench.attacks.finetune import AttackConfig
    from lockbench.attacks.model import resolve_locked
    from lockbench.models import smollm2_folder

    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is warm-up)")
    if args.threads:
        torch.set_num_threads(args.threads)
    model = args.model or str(smollm2_folder())
    recipe = AttackConfig(steps=args.steps)
    config = recipe.train_config()
    rows = attack_rows(DATASETS, args.k, recipe.seed)
    if args.k != config.batch_size:
        print(f"note: k={args.k} differs from the batch size {config.batch_size}: the two loops batch "
              "the k examples differently, so compare tokens/s rather than steps/s")
    print(f"uptime before: {_uptime()}")
    print(f"model {model}; CPU, {torch.get_num_threads()} threads; k={args.k}, batch {config.batch_size}, "
          f"LoRA r={config.lora_r} on {config.target_modules}, {args.steps} steps x {args.rounds} rounds", flush=True)
    totals = {"plain": {"cpu": 0.0, "wall": 0.0, "tokens": 0, "steps": 0},
              "attack": {"cpu": 0.0, "wall": 0.0, "tokens": 0, "steps": 0}}
    with tempfile.TemporaryDirectory() as tmp:
        locked = resolve_locked(model, None, Path(tmp), progress=False)
        for round_ in range(args.rounds):
            order = ("plain", "attack") if round_ % 2 == 0 else ("attack", "plain")
            for label in order:
                run = plain_loop(str(locked.full), rows, config) if label == "plain" else attack_loop(
                    locked, rows, config, Path(tmp))
                for key in totals[label]:
                    totals[label][key] += run[key]
                print(f"round {round_ + 1} {label:6s}: {run['steps']} steps, {run['tokens']} tokens in "
                      f"{run['cpu']:.1f} CPU s ({run['wall']:.1f} wall s) = {run['tokens'] / run['cpu']:.0f} "
                      f"tokens per CPU s", flush=True)
    print(f"uptime after: {_uptime()}")
    plain, attack = totals["plain"], totals["attack"]
    cpu_ratio = (attack["tokens"] / attack["cpu"]) / (plain["tokens"] / plain["cpu"])
    wall_ratio = (attack["tokens"] / attack["wall"]) / (plain["tokens"] / plain["wall"])
    print(f"\n{'':8s} {'tokens/CPU s':>13s} {'tokens/wall s':>14s}")
    for label, t in (("plain", plain), ("attack", attack)):
        print(f"{label:8s} {t['tokens'] / t['cpu']:>13.0f} {t['tokens'] / t['wall']:>14.0f}")
    print(f"attack / plain: {cpu_ratio:.2f}x per CPU second, {wall_ratio:.2f}x per wall second (goal >= 0.95)")


if __name__ == "__main__":
    main()
