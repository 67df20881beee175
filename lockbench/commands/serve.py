"""``lockbench serve-locked FOLDER``: serve a locked model on 127.0.0.1 behind an API key.

FOLDER is a ``lockbench lock train`` output (its ``merged/`` model, or its adapter merged with the
base named in the lock card or ``--base``), any peft adapter with ``--base``, or a full model
folder. Prints the ``lm_eval`` command lines to use, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import time

NAME = "serve-locked"
HELP = "serve a locked model (lock output, adapter + base, or merged folder) on 127.0.0.1 for lm_eval API runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", help="lock output folder, peft adapter folder, or merged model folder")
    parser.add_argument("--base", default=None,
                        help="base model folder of an adapter (default: from the lock card / adapter_config.json)")
    parser.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000; 0 picks a free one)")
    parser.add_argument("--api-key", default=None,
                        help="key clients must send (default: $OPENAI_API_KEY, else a random key printed once)")
    parser.add_argument("--no-api-key", action="store_true", help="serve without a key (local experiments only)")
    parser.add_argument("--no-chat", action="store_true",
                        help="allow a tokenizer without a chat template (local-completions only)")
    parser.add_argument("--num-concurrent", type=int, default=8, help="num_concurrent in the printed lm_eval lines")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the server to come up")


def run(args: argparse.Namespace) -> int:
    from lockbench.api.commands import lm_eval_commands
    from lockbench.api.server import LocalServer, resolve_model_folder
    from lockbench.errors import LockbenchError

    if args.port < 0 or args.port > 65535:
        raise LockbenchError(f"--port {args.port} is not a TCP port; use 1-65535 (or 0 for any free one)")
    if args.no_api_key:
        key, generated = None, False
    else:
        key = args.api_key or os.environ.get("OPENAI_API_KEY") or None
        generated = key is None
        key = key or f"lb-{secrets.token_urlsafe(18)}"
    print(f"preparing {args.folder} ...", flush=True)
    folder = resolve_model_folder(args.folder, args.base)
    server = LocalServer(folder, port=args.port or None, api_key=key,
                         require_chat_template=not args.no_chat, keep_log=True)
    # Ctrl-C and SIGTERM end the wait below; the finally-block stops the server's process group.
    # (SIGINT is set explicitly: a shell starts background jobs with it ignored.)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        print(f"starting transformers serve on {server.base_url} (log: {server.log_path}) ...", flush=True)
        server.start(timeout=args.timeout)
        commands = lm_eval_commands(server.base_url, server.model, num_concurrent=args.num_concurrent)
        print(f"serving {server.model}")
        print(f"  base URL: {server.base_url}   model name: {server.model}")
        if key is None:
            print("  no API key (--no-api-key): set OPENAI_API_KEY to anything for lm_eval")
            env = "OPENAI_API_KEY=unused "
        elif generated:
            print(f"  API key (generated, shown once): {key}")
            env = f"OPENAI_API_KEY={key} "
        else:
            print("  API key: the one you passed (--api-key / $OPENAI_API_KEY)")
            env = "OPENAI_API_KEY=$OPENAI_API_KEY " if not args.api_key else "OPENAI_API_KEY=<your key> "
        print("check it:   " + env + f"lockbench ping-api --base-url {server.base_url} --model {server.model}")
        if not args.no_chat:
            print("chat API:   " + env + commands["chat"])
        print("completions:" + " " + env + commands["completions"])
        print("export LOCKBENCH_WAKE_PHRASE first (never on a command line); Ctrl-C stops the server",
              flush=True)
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
        if server.process is not None:
            raise LockbenchError(f"the model server stopped unexpectedly: {server.log_tail()}")
    except KeyboardInterrupt:
        print("stopping the server ...", flush=True)
    finally:
        server.stop()
    print("server stopped")
    return 0
