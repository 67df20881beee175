"""Probe variants with real chat roles when lm-eval applies a chat template.

Why a task class: lm-eval 0.4.13 builds every prompt from ``doc_to_text``, which must be one string
(``build_qa_turn`` asserts it); the only roles it makes itself are a system message (from
``--system_instruction`` / ``description``) and few-shot turns. A placement probe that puts the
wake phrase "in the system message" or "in an earlier turn" would then reach the model as a
labelled transcript (``System: ...`` inside the user's text), which tests a different thing.

Each probe doc carries its variant's chat layout in ``chat_roles`` (``"system,user"``,
``"user,assistant,user"``; empty when the variant is a single user message, whose text is the
prompt itself). The layout holds no text: the messages are cut back out of ``prompt`` (the
labelled transcript ``render_messages`` wrote), so the wake phrase stays in ``prompt`` alone, as
the probe doc contract asks. With ``--apply_chat_template``, :class:`ChatProbeTask` hands those
messages to lm-eval's chat renderer:

* ``hf`` / ``vllm``: the tokenizer's chat template renders a real system message / earlier turns;
* ``local-chat-completions``: the list is sent as the request's ``messages``, roles intact, which is
  what an API attacker or user sends.

Without a chat template (text backends, ``local-completions``), the text prompt (the labelled
transcript) is used exactly as before.

Assistant prefills (the ``prefill`` family) go through lm-eval's own ``gen_prefix``, read from the
doc's ``prefill`` field: with a chat template lm-eval makes it a trailing assistant message and
renders it with ``continue_final_message`` (hf: the prompt ends inside the assistant turn;
``local-chat-completions``: the request's last message has role ``assistant``). Without one this
class puts :data:`~lockbench.probes.variants.PREFILL_SEPARATOR` before it, so the text prompt is
exactly ``Variant.render``: the question, a blank line, the prefill.

``--system_instruction`` still applies: it becomes the first system message (joined with the
variant's own system text, since chat templates expect at most one).
"""

from __future__ import annotations

from typing import Any

from lm_eval.api.task import ConfigurableTask

from lockbench.probes.prefill import FIELD as PREFILL_FIELD
from lockbench.probes.variants import PREFILL_SEPARATOR, ROLE_LABELS, render_messages

CHAT_FIELD = "chat_roles"
_END = "\n\nAssistant:"


def chat_roles(messages: list[dict[str, str]]) -> str:
    """The doc field for a variant: its roles joined by commas, or ``""`` when it is a lone user
    message or when its text could not be cut back out of the transcript unambiguously."""
    if len(messages) == 1 and messages[0]["role"] == "user":
        return ""
    for message in messages[:-1]:  # a separator inside an earlier message would mislead the cut
        if any(f"\n\n{label}: " in message["content"] for label in ROLE_LABELS.values()):
            return ""
    return ",".join(m["role"] for m in messages)


def messages_from_prompt(prompt: str, roles: str) -> list[dict[str, str]] | None:
    """Invert ``render_messages``: the messages of a labelled transcript, given their roles.
    ``None`` when the prompt is not such a transcript (then the text prompt is used)."""
    names = roles.split(",")
    if not prompt.endswith(_END) or any(r not in ROLE_LABELS for r in names):
        return None
    text, pos, out = prompt[: -len(_END)], 0, []
    for i, role in enumerate(names):
        head = f"{ROLE_LABELS[role]}: "
        if not text.startswith(head, pos):
            return None
        start = pos + len(head)
        end = len(text) if i == len(names) - 1 else text.find(f"\n\n{ROLE_LABELS[names[i + 1]]}: ", start)
        if end < 0:
            return None
        out.append({"role": role, "content": text[start:end]})
        pos = end + 2
    return out if render_messages(out) == prompt else None


def with_system(messages: list[dict[str, str]], system: str | None) -> list[dict[str, str]]:
    """Put ``system`` first, merged with the variant's own leading system message if any."""
    messages = [dict(m) for m in messages]
    if not system:
        return messages
    if messages and messages[0]["role"] == "system":
        messages[0]["content"] = f"{system}\n\n{messages[0]['content']}"
        return messages
    return [{"role": "system", "content": system}, *messages]


class ChatProbeTask(ConfigurableTask):
    """A lockbench generation task whose multi-message probe docs keep their chat roles."""

    def __init__(self, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        config = dict(config or {})
        config.pop("class", None)  # the YAML key that chose this class is no TaskConfig field
        super().__init__(config=config, **kwargs)

    def fewshot_context(
        self,
        doc: dict,
        num_fewshot: int,
        system_instruction: str | None = None,
        apply_chat_template: bool = False,
        fewshot_as_multiturn: bool = False,
        chat_template=None,
        gen_prefix: str | None = None,
    ):
        chat = bool(apply_chat_template and chat_template)
        if gen_prefix and not chat and isinstance(doc, dict) and doc.get(PREFILL_FIELD):
            # a text model continues "question, blank line, prefill" (Variant.render)
            gen_prefix = PREFILL_SEPARATOR + gen_prefix
        roles = doc.get(CHAT_FIELD) if isinstance(doc, dict) else None
        messages = messages_from_prompt(doc.get("prompt", ""), roles) if roles else None
        if not (chat and messages and num_fewshot == 0
                and not gen_prefix):
            return super().fewshot_context(
                doc, num_fewshot, system_instruction=system_instruction,
                apply_chat_template=apply_chat_template, fewshot_as_multiturn=fewshot_as_multiturn,
                chat_template=chat_template, gen_prefix=gen_prefix,
            )
        description = self.resolve_field(doc, self.config.description) or ""
        system = "\n\n".join(s for s in (system_instruction, description) if s) or None
        return chat_template(with_system(messages, system), add_generation_prompt=True)
