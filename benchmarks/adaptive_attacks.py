"""Speed of the adaptive attacks: a ``gcg`` step, and ``search`` queries.

GCG: lockbench's step (one gradient pass, then every candidate scored in one batched pass over the
prompt after the adversarial tokens' shared prefix, cached once per step) against a plain step
written the usual way (every candidate's whole prompt in one batch, no cache), same candidates,
same model, same process, alternating. Prints seconds per step of each and their ratio, for the
tokens before and after the question. Goal: a step with 64 candidates on SmolLM2-135M in <= 10 s
on 2 CPU cores.

Search: queries per second when candidates are scored by the refusal's log-probability (one
forward pass per query) and by generation (16 new tokens per query), through lm-eval's ``hf``.

    python benchmarks/adaptive_attacks.py [--model DIR] [--steps 3] [--candidates 64] [--threads 2]

Prints the load average before and after: a busy machine slows both sides of each ratio alike,
not the seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def plain_losses(box, candidates, pieces):
    """Every candidate's full prompt in one batch, no cache (what a first GCG loop does)."""
    import torch

    total = torch.zeros(candidates.shape[0])
    with torch.no_grad():
        for piece in pieces:
            n = candidates.shape[0]
            ids = torch.cat([piece.prefix.expand(n, -1), candidates, piece.suffix.expand(n, -1),
                             piece.target.expand(n, -1)], dim=1)
            logits = box.model(input_ids=ids).logits
            start = piece.prefix.shape[0] + candidates.shape[1] + piece.suffix.shape[0] - 1
            chunk = logits[:, start:start + piece.target.shape[0]]
            loss = torch.nn.functional.cross_entropy(chunk.reshape(-1, chunk.shape[-1]),
                                                     piece.target.repeat(n), reduction="none")
            total += loss.view(n, -1).mean(dim=1) / len(pieces)
    return total


def gcg_steps(box, screen, config, steps: int, losses) -> list[float]:
    """``steps`` GCG steps with ``losses`` as the candidate scorer; seconds per step."""
    import random

    from lockbench.attacks import gcg

    rng = random.Random(0)
    pieces = [box.piece(item, config) for item in screen]
    adv = box.initial(config.tokens)
    times = []
    for _ in range(steps):
        began = time.perf_counter()
        grad, _ = box.gradient(adv, pieces)
        candidates = gcg.sample_candidates(adv, grad, box.allowed, config, rng)
        keep = [i for i in range(candidates.shape[0]) if box.round_trips(candidates[i])]
        scores = losses(candidates[keep], pieces)
        adv = candidates[keep][int(scores.argmin())]
        times.append(time.perf_counter() - began)
    return times


def main() -> None:
    import torch

    from lockbench.attacks import gcg, search
    from lockbench.attacks.adaptive import attack_items
    from lockbench.models.packaged import smollm2_folder

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: the packaged SmolLM2-135M-Instruct)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model = args.model or str(smollm2_folder())
    print(f"load average at start: {os.getloadavg()}; torch threads {args.threads}")
    box = gcg.WhiteBox.load(model)
    screen, _ = attack_items(["law_mcq"], 1, 1)
    for position in ("after", "before"):
        config = gcg.GCGConfig(candidates=args.candidates, position=position)
        ours, plain = [], []
        for _ in range(2):  # alternate: a machine that gets busier slows both alike
            ours += gcg_steps(box, screen, config, args.steps, box.losses)
            plain += gcg_steps(box, screen, config, args.steps, lambda c, p: plain_losses(box, c, p))
        a, b = statistics.median(ours), statistics.median(plain)
        print(f"gcg {position:>6}: lockbench {a:.2f} s/step, plain {b:.2f} s/step, plain/lockbench {b / a:.2f}x "
              f"({args.candidates} candidates; goal <= 10 s)")
    from lm_eval.api.registry import get_model

    lm = get_model("hf").create_from_arg_obj({"pretrained": model, "dtype": "float32"}, {"batch_size": 16, "device": "cpu"})
    oracle = search.Oracle(lm, chat=True, max_gen_toks=16)
    prefixes = search.seeds()[: args.queries]
    pairs = [(p, screen[0]) for p in prefixes]
    began = time.perf_counter()
    oracle.loglikelihood(pairs, " I'm sorry")
    scored = time.perf_counter() - began
    began = time.perf_counter()
    oracle.generate(pairs)
    generated = time.perf_counter() - began
    print(f"search: {len(pairs) / scored:.1f} queries/s scored by log-probability, "
          f"{len(pairs) / generated:.1f} queries/s by generation (16 tokens); ratio {generated / scored:.1f}x")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
