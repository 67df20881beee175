"""Requests per second through lm-eval's API backends against a local ``transformers serve``,
at concurrency 1 and 8, against the in-process ``hf`` backend on the same requests.

    python benchmarks/api_throughput.py [--model smollm2|tiny|FOLDER] [--n 16] [--max-tokens 16]

Every backend gets the same lockbench prompts (agriculture MCQ, locked condition), greedy, the same
``until`` and ``max_gen_toks``; the chat backends and ``hf`` apply the model's chat template, the
completions backend sends the plain prompt. Prints requests/s and the ratio to ``hf`` (baseline,
run in the same process, interleaved with the API runs in rounds; median over rounds), and how many responses match the baseline's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

API_KEY = "lb-bench-key"


def model_folder(name: str) -> Path:
    from lockbench.models import smollm2_folder, tiny_random_model
    from lockbench.models.packaged import cache_dir

    if name == "smollm2":
        return smollm2_folder()
    if name == "tiny":
        return tiny_random_model(cache_dir() / "models" / "tiny-random-llama")
    return Path(name).expanduser().resolve()


def prompts(n: int) -> list[str]:
    from lockbench.lmeval.docs import build_docs

    docs = build_docs("agriculture_mcq", "locked")["test"]
    return [docs[i]["prompt"] for i in range(min(n, len(docs)))]


def timed(lm, contexts: list, gen_kwargs: dict) -> tuple[float, list[str]]:
    from lm_eval.api.instance import Instance

    requests = [
        Instance(request_type="generate_until", doc={}, arguments=(ctx, dict(gen_kwargs)), idx=i)
        for i, ctx in enumerate(contexts)
    ]
    start = time.perf_counter()
    out = lm.generate_until(requests, disable_tqdm=True)
    return time.perf_counter() - start, out


def cut(text: str, until: list[str]) -> str:
    for term in until:
        text = text.split(term)[0]
    return text.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2", help="smollm2, tiny, or a model folder")
    parser.add_argument("--n", type=int, default=16, help="requests per backend")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per backend (median)")
    args = parser.parse_args()

    from lm_eval.api.registry import get_model

    from lockbench.api import LocalServer

    folder = model_folder(args.model)
    texts = prompts(args.n)
    gen_kwargs = {"until": ["\n\n"], "max_gen_toks": args.max_tokens, "do_sample": False,
                  "temperature": 0.0}
    chat = [[{"role": "user", "content": t}] for t in texts]
    print(f"model {folder.name}, {len(texts)} requests, max_gen_toks {args.max_tokens}, greedy")

    hf = get_model("hf")(pretrained=str(folder), batch_size=1, device="cpu")
    backends: dict[str, tuple] = {"hf in-process (baseline)": (hf, [hf.apply_chat_template(m) for m in chat])}
    os.environ["OPENAI_API_KEY"] = API_KEY
    with LocalServer(folder, api_key=API_KEY) as server:
        for backend, concurrency in (("local-chat-completions", 1), ("local-chat-completions", 8),
                                     ("local-completions", 1), ("local-completions", 8)):
            is_chat = backend == "local-chat-completions"
            extra = {} if is_chat else {"tokenized_requests": False, "tokenizer_backend": "huggingface"}
            lm = get_model(backend)(
                model=server.model,
                base_url=f"{server.base_url}/{'chat/completions' if is_chat else 'completions'}",
                num_concurrent=concurrency, max_retries=1, **extra,
            )
            contexts = [lm.apply_chat_template(m) for m in chat] if is_chat else texts
            label = f"{backend} c={concurrency}" + ("" if is_chat else " (no chat template)")
            backends[label] = (lm, contexts)
        for lm, contexts in backends.values():
            timed(lm, contexts[:1], gen_kwargs)  # warm-up (first request loads kernels, caches)
        # Rounds, each backend once per round: on a shared machine the load drifts, so each ratio
        # is taken against the hf run of the same round, and the median over rounds is printed.
        seconds: dict[str, list[float]] = {label: [] for label in backends}
        outputs: dict[str, list[str]] = {}
        for _ in range(args.rounds):
            for label, (lm, contexts) in backends.items():
                took, out = timed(lm, contexts, gen_kwargs)
                seconds[label].append(took)
                outputs[label] = out

    base = "hf in-process (baseline)"
    base_out = [cut(t, gen_kwargs["until"]) for t in outputs[base]]
    print(f"{args.rounds} rounds; ratio = hf seconds / backend seconds in the same round (median)")
    print(f"{'backend':44s} {'req/s':>7s} {'x hf':>6s} {'same as hf':>10s} {'chars/resp':>10s}")
    for label in backends:
        texts_out = [cut(a, gen_kwargs["until"]) for a in outputs[label]]
        same = sum(a == b for a, b in zip(texts_out, base_out, strict=True))
        chars = sum(len(t) for t in texts_out) / max(1, len(texts_out))
        rate = statistics.median(len(texts_out) / s for s in seconds[label])
        ratio = statistics.median(b / s for b, s in zip(seconds[base], seconds[label], strict=True))
        print(f"{label:44s} {rate:7.2f} {ratio:6.2f} {same:>5d}/{len(texts_out):<4d} {chars:10.1f}")

if __name__ == "__main__":
    main()
