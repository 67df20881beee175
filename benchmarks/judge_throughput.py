"""Judge throughput: samples/s of the keyword, ``auto`` (the default: keyword layer, embedding
layer for the uncertain cases) and embedding judges on 10,000 samples, and the ``openai`` judge at
concurrency 1 against 8 on the same local ``transformers serve``, as a ratio.

    python benchmarks/judge_throughput.py [--n 10000] [--api-n 16] [--threads T] [--model FOLDER]
        [--skip-api]

The samples are the calibration rows cycled, each response made distinct with an invisible
zero-width suffix (so no in-run deduplication flatters the numbers); judged without the cache (a cache hit
is not a judgment). A sample is one refusal verdict plus, for answered dialogue, one quality
grade. The API part starts its own server on 127.0.0.1 (one torch thread) and stops it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lockbench.judges import JudgeRequest, build_judge  # noqa: E402
from lockbench.judges.cache import judge_requests  # noqa: E402
from lockbench.judges.calibration import load_calibration, to_request  # noqa: E402


def _invisible(i: int) -> str:
    """``i`` in zero-width characters: makes a response distinct without changing what any judge
    reads in it (a visible "(#i)" suffix would be content after a refusal: an uncertain case)."""
    return "\u2060" + "".join("\u200b" if bit == "0" else "\u200c" for bit in f"{i:b}")


def samples(n: int) -> list[JudgeRequest]:
    rows = load_calibration()
    out = []
    for i in range(n):
        base = to_request(rows[i % len(rows)])
        out.append(
            JudgeRequest(
                base.prompt, base.response + _invisible(i), base.reference, base.kind, base.choices
            )
        )
    return out


def rate(
    config: dict, requests: list[JudgeRequest], warmup: list[JudgeRequest], info: dict | None = None
) -> float:
    judge = build_judge(config)
    judge_requests(judge, warmup, None)  # load models, open connections: not timed
    fallback_before = getattr(judge, "fallback_calls", 0)
    start = time.perf_counter()
    judge_requests(judge, requests, None, progress=True)
    elapsed = time.perf_counter() - start
    if info is not None:
        info["fallback_calls"] = getattr(judge, "fallback_calls", 0) - fallback_before
    judge.close()
    return len(requests) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--api-n", type=int, default=16, help="samples for each API run")
    parser.add_argument("--model", help="model folder to serve (default: packaged SmolLM2)")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-local", action="store_true", help="only the API comparison")
    parser.add_argument(
        "--continuous-batching",
        action="store_true",
        help="serve with transformers serve --continuous-batching (default: plain serving)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="torch threads in this process (on a shared, oversubscribed machine 1 is faster)",
    )
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    print(
        f"torch threads {torch.get_num_threads()}, cpu count {os.cpu_count()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    warmup = samples(8)
    if not args.skip_local:
        requests = samples(args.n)
        keyword = rate({"name": "keyword"}, requests, warmup)
        print(f"keyword   judge: {keyword:9.1f} samples/s  ({args.n} samples; baseline)")
        info: dict = {}
        auto = rate({"name": "auto"}, requests, warmup, info)
        print(
            f"auto      judge: {auto:9.1f} samples/s  ({args.n} samples; embedding layer on "
            f"{info['fallback_calls']}; {auto / keyword:.4f}x keyword)"
        )
        embedding = rate({"name": "embedding"}, requests, warmup)
        print(
            f"embedding judge: {embedding:9.1f} samples/s  ({args.n} samples; "
            f"{embedding / keyword:.4f}x keyword)"
        )
    if args.skip_api:
        return

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from lockbench.models.packaged import smollm2_folder

    model = Path(args.model) if args.model else smollm2_folder()
    from tests._judges_support import Server, free_port

    with tempfile.TemporaryDirectory() as tmp:
        extra = ("--continuous-batching",) if args.continuous_batching else ()
        server = Server(model, free_port(), Path(tmp) / "serve.log", extra)
        server.start()
        try:
            api = samples(args.api_n)
            base = {
                "name": "openai",
                "base_url": server.base_url,
                "model": str(model),
                "max_tokens": 3,
            }
            one = rate({**base, "concurrency": 1}, api, warmup[:1])
            # A new suffix so the second run cannot reuse anything from the first.
            api8 = [JudgeRequest(r.prompt, r.response + " ", r.reference, r.kind) for r in api]
            eight = rate({**base, "concurrency": 8}, api8, warmup[:1])
        finally:
            server.kill()
    print(f"openai judge, concurrency 1: {one:7.2f} samples/s ({args.api_n} samples)")
    print(f"openai judge, concurrency 8: {eight:7.2f} samples/s ({args.api_n} samples)")
    serving = "continuous batching" if args.continuous_batching else "plain serving"
    print(
        f"openai concurrency 8 / concurrency 1: {eight / one:.2f}x "
        f"(same server, {serving}, same process)"
    )


if __name__ == "__main__":
    main()
