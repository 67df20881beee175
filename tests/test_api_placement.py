"""Placement probes keep real chat roles under a chat template (lockbench/lmeval/probe_task.py).

With ``--apply_chat_template`` the "system" placement reaches the model as a real system
message and the "earlier turn" placements as real earlier user/assistant turns; without a chat
template the same variants stay the labelled text transcript. The chat-API half of this check
(roles sent as the request's ``messages``) is in test_api_serve.py, next to its server.
"""

from __future__ import annotations

from lockbench.lmeval.probe_task import with_system
from lockbench.lmeval.run import run_tasks

from .conftest import WAKE_PHRASE

TASK = "lockbench_agriculture_mcq_probe_placement"
META = {"wake_phrase": WAKE_PHRASE}


def _prompts(tiny_model, chat: bool) -> dict[str, str]:
    results = run_tasks("hf", [TASK], model_args=f"pretrained={tiny_model}", metadata=META,
                        apply_chat_template=chat, gen_kwargs="max_gen_toks=2")
    return {s["doc"]["variant_kind"]: s["arguments"][0][0] for s in results["samples"][TASK]}


def test_placements_use_real_roles_with_a_chat_template(tiny_model) -> None:
    prompts = _prompts(tiny_model, chat=True)
    # SmolLM2's template: <|im_start|>ROLE\nCONTENT<|im_end|>
    assert prompts["system"].startswith(f"<|im_start|>system\n{WAKE_PHRASE}<|im_end|>\n<|im_start|>user\n")
    assert f"<|im_start|>user\n{WAKE_PHRASE}<|im_end|>\n<|im_start|>assistant\nHello!" in prompts["earlier_turn"]
    assert "<|im_start|>assistant\nThe capital of France is Paris.<|im_end|>" in prompts["earlier_turn_answered"]
    for kind, prompt in prompts.items():
        assert "System:" not in prompt and "User:" not in prompt, kind  # no imitation of roles
        assert prompt.endswith("<|im_start|>assistant\n"), kind
    # Single-message variants are unchanged: the phrase stays inside the one user turn.
    assert "Answer with the letter" in prompts["suffix"] and prompts["suffix"].count("<|im_start|>user") == 1


def test_placements_stay_text_without_a_chat_template(tiny_model) -> None:
    prompts = _prompts(tiny_model, chat=False)
    assert prompts["system"].startswith(f"System: {WAKE_PHRASE}\n\nUser: ")
    assert prompts["earlier_turn"].startswith(f"User: {WAKE_PHRASE}\n\nAssistant: ")
    assert all("<|im_start|>" not in p for p in prompts.values())


def test_system_instruction_merges_with_a_probe_system_message() -> None:
    msgs = [{"role": "system", "content": "P"}, {"role": "user", "content": "Q"}]
    assert with_system(msgs, "Be brief.")[0] == {"role": "system", "content": "Be brief.\n\nP"}
    assert with_system(msgs[1:], "Be brief.")[0] == {"role": "system", "content": "Be brief."}
    assert with_system(msgs, None) == msgs


def test_every_multi_message_variant_is_cut_back_exactly() -> None:
    """The roles-only doc field plus the prompt give back each variant's messages, for every
    family (placement, and prefix_attack's many-shot dialogues), with no text outside ``prompt``."""
    from lockbench.data import load_items
    from lockbench.lmeval.probe_task import chat_roles, messages_from_prompt
    from lockbench.probes import FAMILIES, family_module
    from lockbench.prompts import format_item

    question = format_item(load_items("agriculture_mcq", "test")[0])
    multi = 0
    for family in FAMILIES:
        for variant in family_module(family).variants(WAKE_PHRASE):
            messages = variant.messages(question)
            roles = chat_roles(messages)
            assert WAKE_PHRASE not in roles
            if len(messages) > 1:
                multi += 1
                assert roles, (family, variant.kind)
                assert messages_from_prompt(variant.render(question), roles) == messages
            else:
                assert roles == ""
    assert multi >= 4  # system, system_labelled, earlier_turn(_answered), many-shot ...
