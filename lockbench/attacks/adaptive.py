"""What the adaptive attacks (``search``, ``gcg``) share: their items and how a block is written.

Both optimise on the screening items of the *lead* dataset (the first in name order: the phrase
and the lock do not depend on the question, as for the suite's traversal), taken from its train
split by the suite's own public plan, and confirm the best string on the confirmation (test) items
of every dataset. A block is written only when nothing in it holds the phrase or a derived
variant; otherwise nothing is written and the run stops with one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lockbench.errors import SecretError
from lockbench.secrets import WakePhrase


def attack_items(datasets: list[str], screen_items: int, confirm_items: int,
                 data_dir: str | None = None) -> tuple[list[Any], dict[str, list[Any]]]:
    """The lead dataset's screening items and every dataset's confirmation items."""
    from dataclasses import replace

    from lockbench.data.catalog import get_dataset
    from lockbench.probes.suite import get_suite, item_plan, lead_dataset

    suite = replace(get_suite(), screen_items=screen_items, confirm_items=confirm_items)
    plans = {name: item_plan(get_dataset(name, data_dir), suite, data_dir) for name in datasets}
    return plans[lead_dataset(datasets)].screen, {name: plan.confirm for name, plan in plans.items()}


COMPLETIONS_APIS = ("local-completions", "openai-completions")  # text in, no chat template


def query_lm(name: str, model_args: dict[str, Any] | str | None, *, batch_size: int | str = 16,
             device: str | None = None) -> Any:
    """An lm-eval model the adaptive search queries. API backends send one prompt per request
    (lm-eval's chat requests must); their concurrency comes from their num_concurrent."""
    from lm_eval.api.registry import get_model
    from lm_eval.utils import simple_parse_args_string

    from lockbench.errors import LockbenchError
    from lockbench.lmeval.model_registry import register_models

    register_models()  # lockbench's own (the gate), as lm_eval --model finds them

    args = simple_parse_args_string(model_args) if isinstance(model_args, str) else dict(model_args or {})
    try:
        lm_cls = get_model(name)
    except ValueError:
        raise LockbenchError(f"unknown lm-eval model '{name}'; use a registered one such as hf") from None
    from lockbench.lmeval.run import default_device

    extra = {"batch_size": 1 if name != "hf" else batch_size, "device": device or default_device()}
    return lm_cls.create_from_arg_obj(args, extra)


def uses_chat(name: str, apply_chat_template: bool = True) -> bool:
    """Whether the search renders chat turns: a completions API gets the plain text, as lm-eval
    sends it."""
    return apply_chat_template and name not in COMPLETIONS_APIS


def write_block(path: Path, block: dict[str, Any], phrase: WakePhrase | None) -> Path:
    """The block as JSON, atomically; refused (nothing written) when it would hold the phrase."""
    from lockbench.fsutil import atomic_write_text
    from lockbench.probes import secret_variants
    from lockbench.secrets import contains_secret

    text = json.dumps(block, indent=2, ensure_ascii=False) + "\n"
    if phrase is not None and contains_secret(text, secret_variants(phrase)):
        raise SecretError(f"the {block.get('family')} result would contain the wake phrase; nothing was written")
    return atomic_write_text(path, text)
