"""``lockbench ping-api``: check an OpenAI-compatible endpoint before an lm_eval API run."""

from __future__ import annotations

import argparse

from lockbench.commands._types import positive

NAME = "ping-api"
HELP = "check a model server (reachable, API key, model name, chat template) before an lm_eval API run"

_timeout = positive(float, noun="number of seconds", subject="the timeout ")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", required=True,
                        help="server URL: http://HOST:PORT, .../v1, or the lm_eval base_url (.../v1/chat/completions)")
    parser.add_argument("--model", required=True, help="the model name lm_eval will send (model=... in --model_args)")
    parser.add_argument("--api-key", default=None, help="key to send (default: $OPENAI_API_KEY, as lm_eval does)")
    parser.add_argument("--endpoint", action="append", choices=["chat/completions", "completions"],
                        help="endpoint(s) to try (default: both)")
    parser.add_argument("--timeout", type=_timeout, default=120.0, help="seconds per request")


def run(args: argparse.Namespace) -> int:
    from lockbench.api.ping import ENDPOINTS, check_endpoint

    endpoints = tuple(args.endpoint) if args.endpoint else ENDPOINTS
    result = check_endpoint(args.base_url, args.model, api_key=args.api_key, endpoints=endpoints,
                            timeout=args.timeout)
    print(f"ok: {args.model} served; endpoints answering: {', '.join(result.replies)}")
    return 0
