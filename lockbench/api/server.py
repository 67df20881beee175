"""A local OpenAI-compatible server for a locked model: ``transformers serve`` on 127.0.0.1.

Why a wrapper around ``transformers serve``:

* it takes a model *folder*; a lockbench adapter (peft LoRA) is merged into a cached full-weight
  folder first, because serving a peft adapter directly is not verified with transformers 5.x;
* it pins the server to that one model (``force_model``), so a request for another model name is
  refused with HTTP 400 instead of silently answered by the locked model or fetched from the hub;
* it adds an API key: ``transformers serve`` has none, yet the threat model is a leaked key, and
  lm-eval sends ``Authorization: Bearer $OPENAI_API_KEY``. With a key set, every ``/v1`` route
  answers 401 to a wrong or missing key (``/health`` stays open for readiness checks);
* it binds 127.0.0.1 only and runs in its own process group, so stopping it stops everything;
* a request whose last message is the assistant's is continued, not answered in a new turn
  (:func:`continue_trailing_assistant`): the assistant prefill that vLLM and hosted APIs offer.

Run as ``python -m lockbench.api.server FOLDER --port N`` (the key comes from the environment
variable ``LOCKBENCH_SERVE_API_KEY``, never from the command line, where ``ps`` would show it).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from lockbench.errors import LockbenchError

HOST = "127.0.0.1"
API_KEY_ENV = "LOCKBENCH_SERVE_API_KEY"


# ---------------------------------------------------------------------------------------------
# Which folder to serve
# ---------------------------------------------------------------------------------------------


def has_chat_template(folder: Path) -> bool:
    """Whether the tokenizer saved in ``folder`` carries a chat template (file or config key)."""
    folder = Path(folder)
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    config = folder / "tokenizer_config.json"
    if config.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            return bool(json.loads(config.read_text(encoding="utf-8")).get("chat_template"))
    return False


def _adapter_base(folder: Path, base: str | None) -> str:
    """The base model of an adapter: ``--base``, else the lock card, else adapter_config.json."""
    if base:
        return base
    card = folder / "lock_card.json"
    if card.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError, AttributeError):
            source = json.loads(card.read_text(encoding="utf-8")).get("base_model", {}).get("source")
            if source:
                return str(source)
    with contextlib.suppress(OSError, json.JSONDecodeError):
        source = json.loads((folder / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if source:
            return str(source)
    raise LockbenchError(f"{folder} is an adapter but names no base model; pass --base BASE_FOLDER")


def _fingerprint(paths: list[Path]) -> str:
    """Content hash of the adapter weights and the base weights' names and sizes (cache key)."""
    digest = hashlib.sha256()
    for path in paths:
        for file in sorted(p for p in Path(path).rglob("*") if p.is_file()):
            if file.suffix in (".safetensors", ".bin") or file.name.endswith("config.json"):
                digest.update(str(file.relative_to(path)).encode())
                stat = file.stat()
                digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def merge_adapter(adapter: Path, base: str, cache: Path | None = None) -> Path:
    """Merge a peft adapter into its base once; later calls reuse the cached merged folder."""
    from lockbench.models.packaged import _atomic_build, cache_dir

    base_path = Path(base).expanduser()
    if not base_path.is_dir():
        raise LockbenchError(
            f"base model folder '{base}' not found; pass --base with the folder the adapter was "
            "trained on (for the packaged SmolLM2: `lockbench model smollm2`)"
        )
    key = _fingerprint([adapter, base_path])
    target = (Path(cache) if cache else cache_dir() / "merged") / f"{adapter.name}-{key}"

    def build(tmp: Path) -> None:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32)
        merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
        merged.save_pretrained(tmp)
        # The adapter folder's tokenizer is the one training used (it may carry a chat template
        # the base lacked); fall back to the base's.
        source = adapter if (adapter / "tokenizer_config.json").is_file() else base_path
        AutoTokenizer.from_pretrained(source).save_pretrained(tmp)

    try:
        return _atomic_build(target, build)
    except LockbenchError:
        raise
    except Exception as exc:  # peft/transformers mismatch, wrong base for this adapter
        raise LockbenchError(
            f"could not merge adapter {adapter} into {base_path} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); check --base is the model "
            "the adapter was trained on"
        ) from None


def resolve_model_folder(path: str | Path, base: str | None = None) -> Path:
    """A servable full-weight folder from a lock output, an adapter (+ base) or a model folder.

    * ``lockbench lock train`` output with ``merged/``: that merged folder;
    * a folder with ``adapter_config.json`` (lock output or any peft adapter): merged with its base;
    * a folder with ``config.json``: served as it is.
    """
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise LockbenchError(f"model folder '{path}' not found; give a lock output, adapter or model folder")
    if (folder / "merged" / "config.json").is_file() and base is None:
        return folder / "merged"
    if (folder / "adapter_config.json").is_file():
        return merge_adapter(folder, _adapter_base(folder, base))
    if (folder / "config.json").is_file():
        return folder
    raise LockbenchError(
        f"{folder} holds neither a model (config.json) nor an adapter (adapter_config.json); give "
        "the folder `lockbench lock train` wrote"
    )


# ---------------------------------------------------------------------------------------------
# The server process
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


class LocalServer:
    """``transformers serve`` for one model folder on 127.0.0.1, in its own process group.

    Use as a context manager (or ``start()`` / ``stop()``); ``stop()`` is safe to call twice.
    """

    def __init__(
        self,
        model_folder: str | Path,
        *,
        port: int | None = None,
        api_key: str | None = None,
        log_path: str | Path | None = None,
        require_chat_template: bool = True,
        keep_log: bool = False,
    ) -> None:
        self.model_folder = Path(model_folder).expanduser().resolve()
        self.port = int(port) if port else free_port()
        self.api_key = api_key or None
        self.require_chat_template = require_chat_template
        # A log we made ourselves is removed on stop() unless keep_log (serve-locked keeps it).
        self._remove_log = log_path is None and not keep_log
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="lockbench-serve-", suffix=".log")
            os.close(fd)
            log_path = name
        self.log_path = Path(log_path)
        self.process: subprocess.Popen | None = None

    @property
    def model(self) -> str:
        """The model name requests must carry (the folder path, as transformers serve names it)."""
        return str(self.model_folder)

    @property
    def root_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI ``/v1`` root (``/chat/completions`` and ``/completions`` hang under it)."""
        return f"{self.root_url}/v1"

    def start(self, timeout: float = 300.0) -> LocalServer:
        """Start the server and wait until ``/health`` answers; one-line error if it cannot."""
        if not (self.model_folder / "config.json").is_file():
            raise LockbenchError(f"{self.model_folder} is not a model folder (no config.json)")
        if self.require_chat_template and not has_chat_template(self.model_folder):
            raise LockbenchError(
                f"the tokenizer in {self.model_folder} has no chat template, so "
                "local-chat-completions and --apply_chat_template cannot work; add one "
                "(tokenizer.chat_template = ...; tokenizer.save_pretrained(folder)) or pass "
                "--no-chat to serve it for local-completions only"
            )
        if port_in_use(self.port):
            raise LockbenchError(f"port {self.port} on {HOST} is in use; pick another with --port")
        env = dict(os.environ)
        env.pop(API_KEY_ENV, None)
        if self.api_key:
            env[API_KEY_ENV] = self.api_key
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed in stop()
        self._log_handle = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "lockbench.api.server", str(self.model_folder), "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # own process group: stop() signals the group, nothing else
        )
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LockbenchError(
                    f"the model server exited with status {self.process.returncode} before it was "
                    f"ready: {self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.root_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        raise LockbenchError(
            f"the model server did not answer /health within {timeout:.0f} s (last log line: "
            f"{self.log_tail()}); raise --timeout on a slow machine"
        )

    def log_tail(self, lines: int = 1) -> str:
        """The last meaningful line(s) of the server log (for one-line error messages)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        wanted = [t for t in text if t.strip() and not t.startswith((" ", "\t"))]
        return " | ".join(wanted[-lines:]) if wanted else "(empty log)"

    def stop(self, grace: float = 10.0) -> None:
        """SIGINT (uvicorn's clean shutdown) to the server's process group, then SIGKILL."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            for sig, wait in ((signal.SIGINT, grace), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, sig)
                try:
                    process.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        handle = getattr(self, "_log_handle", None)
        if handle is not None:
            handle.close()
            self._log_handle = None
        if self._remove_log:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Child process: transformers serve with an API key
# ---------------------------------------------------------------------------------------------


def _add_api_key(app, key: str) -> None:
    """401 on every /v1 route without ``Authorization: Bearer <key>`` (OpenAI's error shape)."""
    import hmac

    from fastapi import Request
    from fastapi.responses import JSONResponse

    expected = f"Bearer {key}".encode()

    @app.middleware("http")
    async def require_api_key(request: Request, call_next):
        if request.url.path.startswith("/v1"):
            given = request.headers.get("authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                return JSONResponse(
                    {"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                               "code": "invalid_api_key"}},
                    status_code=401,
                )
        return await call_next(request)


def continue_trailing_assistant() -> None:
    """Continue a chat whose last message is the assistant's (an assistant prefill).

    ``transformers serve`` renders every request with ``add_generation_prompt=True``, so a trailing
    assistant message would be closed and a fresh assistant turn opened after it. vLLM's
    ``continue_final_message`` and most hosted chat APIs let a client pre-fill the reply instead,
    and lm-eval sends exactly that for a task with ``gen_prefix`` (the ``prefill`` probe family).
    Patched in the server process only: such a request is rendered with
    ``continue_final_message=True``, as lm-eval's ``hf`` backend renders the same prompt.
    """
    import functools

    from transformers.tokenization_utils_base import PreTrainedTokenizerBase

    original = PreTrainedTokenizerBase.apply_chat_template
    if getattr(original, "_lockbench_prefill", False):
        return

    @functools.wraps(original)
    def apply_chat_template(self, conversation, *args, **kwargs):
        last = conversation[-1] if isinstance(conversation, list) and conversation else None
        if (isinstance(last, dict) and last.get("role") == "assistant" and kwargs.get("add_generation_prompt")
                and not kwargs.get("continue_final_message")):
            kwargs = {**kwargs, "add_generation_prompt": False, "continue_final_message": True}
        return original(self, conversation, *args, **kwargs)

    apply_chat_template._lockbench_prefill = True  # type: ignore[attr-defined]
    PreTrainedTokenizerBase.apply_chat_template = apply_chat_template


def main(argv: list[str] | None = None) -> int:
    """Child entry point: serve FOLDER pinned, on 127.0.0.1, with the key from the environment."""
    parser = argparse.ArgumentParser(prog="python -m lockbench.api.server")
    parser.add_argument("folder")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    key = os.environ.pop(API_KEY_ENV, "")

    # transformers' Serve builds its FastAPI app through this module attribute at call time:
    # wrapping it is the one place to add a middleware before uvicorn starts.
    from transformers.cli.serving import server as serving_server

    original = serving_server.build_server

    def build_server(*a, **k):
        app = original(*a, **k)
        if key:
            _add_api_key(app, key)
        return app

    serving_server.build_server = build_server
    continue_trailing_assistant()
    from transformers.cli.serve import Serve

    Serve(force_model=args.folder, host=HOST, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
