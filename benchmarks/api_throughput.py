"""Requests per second through lm-eval's API backends against a local ``transformers serve``,
at concurrency 1 and 8, against the in-process ``hf`` backend on the same requests.

    python benchmarks/api_throughput.py [--model smollm2|tiny|FOLDER] [--n 16] [--max-tokens 16]

Every backend gets the same lockbench prompts (agriculture MCQ, locked condition), greedy, the same
``until`` and ``max_gen_toks``; the chat backends and ``hf`` apply the model's chat template, the
completions backend sends the plain prompt. Prints requests/s and the ratio to ``hf`` (baseline,
run in the same process before and after the API runs; the ratio uses their mean), and how many responses match the baseline's.
"""

from __future__ import annotations

import argparse
import os
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
    args = parser.parse_args()

    from lm_eval.api.registry import get_model

    from lockbench.api import LocalServer

    folder = model_folder(args.model)
    texts = prompts(args.n)
    gen_kwargs = {"until": ["\n\n"], "max_gen_toks": args.max_tokens, "do_sample": False,
                  "temperature": 0.0}
    chat = [[{"role": "user", "content": t}] for t in texts]
    print(f"model {folder.name}, {len(texts)} requests, max_gen_toks {args.max_tokens}, greedy")

    rows: list[tuple[str, float, list[str]]] = []
    hf = get_model("hf")(pretrained=str(folder), batch_size=1, device="cpu")
    hf_ctx = [hf.apply_chat_template(m) for m in chat]
    timed(hf, hf_ctx[:1], gen_kwargs)  # warm-up, as the server warms up on its first request
    seconds, out = timed(hf, hf_ctx, gen_kwargs)
    rows.append(("hf in-process (baseline, before)", seconds, out))

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
            timed(lm, contexts[:1], gen_kwargs)  # warm-up
            seconds, out = timed(lm, contexts, gen_kwargs)
            label = f"{backend} c={concurrency}" + ("" if is_chat else " (no chat template)")
            rows.append((label, seconds, out))

    # The baseline again after the API runs: on a shared machine the load drifts, and the ratio
    # uses the mean of both baseline runs (both are printed so the drift is visible).
    seconds, out = timed(hf, hf_ctx, gen_kwargs)
    rows.append(("hf in-process (baseline, after)", seconds, out))
    base_seconds = (rows[0][1] + rows[-1][1]) / 2
    base_out = [cut(t, gen_kwargs["until"]) for t in rows[0][2]]
    print(f"{'backend':44s} {'req/s':>7s} {'x hf':>6s} {'same as hf':>10s} {'chars/resp':>10s}")
    for label, seconds, out in rows:
        texts = [cut(a, gen_kwargs["until"]) for a in out]
        same = sum(a == b for a, b in zip(texts, base_out, strict=True))
        chars = sum(len(t) for t in texts) / max(1, len(texts))
        print(f"{label:44s} {len(out) / seconds:7.2f} {base_seconds / seconds:6.2f} "
              f"{same:>5d}/{len(out):<4d} {chars:10.1f}")


if __name__ == "__main__":
    main()
