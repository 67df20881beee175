"""The ``lm_eval`` command lines that run the lockbench suite against an OpenAI-compatible server.

Two backends reach ``transformers serve`` (and vLLM, TGI, llama.cpp servers alike):

* ``local-chat-completions`` with ``--apply_chat_template``: the prompt goes as chat messages and
  the server applies the model's own chat template, exactly what an API user gets;
* ``local-completions`` with ``tokenized_requests=False``: the prompt goes as plain text
  (``transformers serve`` accepts a string prompt only, so lm-eval must not send token ids).
  No chat template: lm-eval would send a JSON message list as the "prompt". Generation only:
  the server returns no prompt log-probabilities, so loglikelihood tasks cannot use it.

The key travels as lm-eval sends it: ``Authorization: Bearer $OPENAI_API_KEY``.
"""

from __future__ import annotations

import shlex

from lockbench.api.ping import endpoint_urls


def model_args(backend: str, base_url: str, model: str, num_concurrent: int = 1) -> str:
    """The ``--model_args`` string of one backend (``chat`` or ``completions``)."""
    urls = endpoint_urls(base_url)
    if backend == "chat":
        parts = [f"model={model}", f"base_url={urls['chat/completions']}"]
    elif backend == "completions":
        parts = [
            f"model={model}",
            f"base_url={urls['completions']}",
            "tokenized_requests=False",
            "tokenizer_backend=huggingface" if _is_local_path(model) else "tokenizer_backend=none",
        ]
    else:
        raise ValueError(f"unknown backend {backend!r}")
    parts += [f"num_concurrent={int(num_concurrent)}", "max_retries=3"]
    return ",".join(parts)


def _is_local_path(model: str) -> bool:
    from pathlib import Path

    return Path(model).is_dir()


def lm_eval_commands(
    base_url: str,
    model: str,
    *,
    tasks: str = "lockbench",
    num_concurrent: int = 8,
    output_path: str = "out/api",
) -> dict[str, str]:
    """Shell command lines, keyed ``chat`` and ``completions``. The wake phrase is not in them:
    lockbench's tasks read it from ``$LOCKBENCH_WAKE_PHRASE`` (a credential never goes on a
    command line, where ``ps`` and shell history keep it)."""
    common = [
        "--tasks", tasks,
        "--output_path", output_path,
        "--log_samples",
    ]
    chat = ["lm_eval", "--model", "local-chat-completions",
            "--model_args", model_args("chat", base_url, model, num_concurrent),
            "--apply_chat_template", *common]
    completions = ["lm_eval", "--model", "local-completions",
                   "--model_args", model_args("completions", base_url, model, num_concurrent),
                   *common]
    return {"chat": shlex.join(chat), "completions": shlex.join(completions)}
