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


def write_block(path: Path, block: dict[str, Any], phrase: WakePhrase | None) -> Path:
    """The block as JSON, atomically; refused (nothing written) when it would hold the phrase."""
    from lockbench.fsutil import atomic_write_text
    from lockbench.probes import secret_variants
    from lockbench.secrets import contains_secret

    text = json.dumps(block, indent=2, ensure_ascii=False) + "\n"
    if phrase is not None and contains_secret(text, secret_variants(phrase)):
        raise SecretError(f"the {block.get('family')} result would contain the wake phrase; nothing was written")
    return atomic_write_text(path, text)
