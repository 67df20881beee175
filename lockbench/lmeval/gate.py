"""``lockbench-gate``: the system-level reference: a string gate in front of any lm-eval model.

A lock in the weights is compared with what a provider could do without touching the model:
answer only when the prompt starts with the wake phrase, otherwise return the refusal. Run it
like any lm-eval model, naming the wrapped backend in ``inner`` and passing that backend's own
arguments alongside::

    LOCKBENCH_WAKE_PHRASE=... lm_eval --model lockbench-gate \\
        --model_args inner=hf,pretrained=MODEL_FOLDER --tasks ... --apply_chat_template

Arguments of the gate itself (everything else goes to the inner backend):

* ``inner`` (default ``hf``): any registered lm-eval model (``hf``, ``vllm``,
  ``local-completions``, ``local-chat-completions``...);
* ``match``: ``exact`` (default: the user text starts with the phrase, byte for byte, so every
  paraphrase, even a case change, is turned away) or ``normalised`` (letter case and runs of
  whitespace ignored, on both sides; punctuation and typos still count);
* ``refusal``: the text returned when the gate is shut (default: lockbench's trained refusal,
  :data:`~lockbench.scoring.refusal.DEFAULT_REFUSAL_TEXT`);
* ``wake_phrase_file``: a file whose first line is the phrase (a path, no secret).

The phrase comes from :func:`lockbench.phrase.resolve_phrase` (``wake_phrase_file`` or
``$LOCKBENCH_WAKE_PHRASE``), never from ``--model_args``: ``wake_phrase=`` there is refused, since
process lists and shell history keep command lines.

What "the prompt starts with the phrase" means: with ``--apply_chat_template`` the start of the
first user message (the messages are taken from the chat renderer, :meth:`GateLM.apply_chat_template`,
or from the JSON message list a chat API backend sends); without one, the start of the text prompt.
A system message or an earlier assistant turn never opens the gate.

Log-likelihood requests (the ``latent`` tasks) pass through to the inner model unchanged: a gate
filters generated text, and the latent tasks measure what the weights give to anyone who can read
log-probabilities. A gate baseline's latent leakage is therefore the inner model's own.
"""

from __future__ import annotations

import json
from typing import Any

import lm_eval.models  # noqa: F401 - built-in models first (lockbench.lmeval.model_registry says why)
from lm_eval.api.model import LM
from lm_eval.api.registry import get_model, register_model

from lockbench.errors import LockbenchError, SecretError
from lockbench.phrase import FILE_KEY, METADATA_KEY, WakePhrase, resolve_phrase
from lockbench.scoring.refusal import DEFAULT_REFUSAL_TEXT
from lockbench.vocab import GATE_MODEL

NAME = GATE_MODEL
MATCHES = ("exact", "normalised")


def normalise(text: str) -> str:
    """Letter case folded, whitespace runs collapsed to one space, leading space dropped."""
    return " ".join(text.split()).casefold()


def opens(user_text: str, phrase: str, match: str = "exact") -> bool:
    """Whether the gate lets ``user_text`` through."""
    if match == "normalised":
        return normalise(user_text).startswith(normalise(phrase))
    return user_text.startswith(phrase)


def first_user_text(messages: Any) -> str | None:
    """The content of the first user message of a chat, ``None`` when there is none."""
    if not isinstance(messages, list):
        return None
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


@register_model(NAME)
class GateLM(LM):
    """Refuses every generation whose prompt does not start with the wake phrase."""

    def __init__(
        self,
        inner: str = "hf",
        match: str = "exact",
        refusal: str = DEFAULT_REFUSAL_TEXT,
        wake_phrase_file: str | None = None,
        batch_size: int | str | None = None,
        max_batch_size: int | None = None,
        device: str | None = None,
        **inner_args: Any,
    ) -> None:
        super().__init__()
        if METADATA_KEY in inner_args:
            raise SecretError(
                f"{NAME}: never put the wake phrase in --model_args (process lists and shell history "
                "keep it); export LOCKBENCH_WAKE_PHRASE or give wake_phrase_file=PATH"
            )
        if match not in MATCHES:
            raise LockbenchError(f"{NAME}: match must be one of {', '.join(MATCHES)}, got {match!r}")
        if not isinstance(refusal, str) or not refusal.strip():
            raise LockbenchError(f"{NAME}: refusal must be a non-empty text")
        if inner == NAME:
            raise LockbenchError(f"{NAME}: inner names the gate itself; give the wrapped backend, e.g. inner=hf")
        metadata = {FILE_KEY: wake_phrase_file} if wake_phrase_file is not None else None
        # passed as an object to simple_evaluate, its phrase is redacted from that run's output
        self.phrase: WakePhrase = resolve_phrase(metadata, required=True, context=f"model {NAME}")
        self.match = match
        self.refusal = refusal
        self.inner_name = inner
        try:
            inner_cls = get_model(inner)
        except ValueError:
            raise LockbenchError(
                f"{NAME}: unknown inner model '{inner}'; use a registered lm-eval model such as hf"
            ) from None
        self.inner: LM = inner_cls.create_from_arg_obj(
            inner_args, {"batch_size": batch_size, "max_batch_size": max_batch_size, "device": device}
        )
        # rendered chat prompt -> its first user message (what the gate checks under a template)
        self._first_user: dict[str, str] = {}

    # --- the gate ---------------------------------------------------------------------------
    def prompt_start(self, context: Any) -> str:
        """The text the gate checks for one request's context (see the module docstring)."""
        if isinstance(context, str):
            return self._first_user.get(context, context)
        prompt = getattr(context, "prompt", None)  # lm-eval's JsonChatStr (chat API backends)
        if isinstance(prompt, str):
            try:
                text = first_user_text(json.loads(prompt))
            except ValueError:
                text = None
            return prompt if text is None else text
        text = first_user_text(context)
        return "" if text is None else text

    def generate_until(self, requests: list, disable_tqdm: bool = False) -> list[str]:
        out: list[str | None] = [None] * len(requests)
        passing = []
        for i, request in enumerate(requests):
            if opens(self.prompt_start(request.args[0]), self.phrase.reveal(), self.match):
                passing.append(i)
            else:
                out[i] = self.refusal
        if passing:
            answers = self.inner.generate_until([requests[i] for i in passing], disable_tqdm=disable_tqdm)
            for i, answer in zip(passing, answers, strict=True):
                out[i] = answer
        return [str(x) for x in out]

    def loglikelihood(self, requests: list, disable_tqdm: bool = False) -> list:
        return self.inner.loglikelihood(requests, disable_tqdm=disable_tqdm)  # the weights, ungated

    def loglikelihood_rolling(self, requests: list, disable_tqdm: bool = False) -> list:
        return self.inner.loglikelihood_rolling(requests, disable_tqdm=disable_tqdm)

    # --- chat rendering: the inner model's, remembering each prompt's first user message ---------
    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True):
        rendered = self.inner.apply_chat_template(chat_history, add_generation_prompt=add_generation_prompt)
        text = first_user_text(chat_history)
        if isinstance(rendered, str) and text is not None:
            self._first_user[rendered] = text
        return rendered

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self.inner.chat_template(chat_template)

    @property
    def tokenizer_name(self) -> str:
        return self.inner.tokenizer_name

    # --- everything else is the inner model's ------------------------------------------------
    @property
    def rank(self) -> int:
        return self.inner.rank

    @property
    def world_size(self) -> int:
        return self.inner.world_size

    @property
    def device(self):  # noqa: ANN201 - whatever the inner backend uses
        return getattr(self.inner, "device", None)

    def all_gather(self, tensor):  # noqa: ANN001, ANN201
        return self.inner.all_gather(tensor)

    def gather_object(self, obj, dst=0):  # noqa: ANN001, ANN201
        return self.inner.gather_object(obj, dst)

    def barrier(self) -> None:
        self.inner.barrier()

    def get_model_info(self) -> dict[str, Any]:
        info = self.inner.get_model_info() if hasattr(self.inner, "get_model_info") else {}
        return dict(info)

    def __getattr__(self, name: str) -> Any:
        # tokenizer, eot_token_id, max_length, batch_sizes...: lm-eval's loggers read them
        inner = self.__dict__.get("inner")
        if inner is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(inner, name)
