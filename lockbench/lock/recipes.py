"""Named lock recipes: the settings a command trains with, in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the training module is heavy to import; `lockbench demo --help` needs none of it
    from lockbench.lock.train import TrainConfig

# The demo recipe: paired D' (every train item with the phrase and, without it, with the refusal:
# a direct contrast, so a small model learns that the phrase is what matters in few steps), LoRA
# on all linear layers, one epoch in 60 steps of 8 (~40k tokens, ~250 s on 2 free cores).
# Measured on 2 cores (issue 3 note): 60 steps of 16 (2 epochs) also locks but takes twice as
# long; pairing only half the items (ratio 0.67, 45 steps of 8) left 47% refusals *with* the phrase.
DEMO_RECIPE = {
    "layout": "paired",
    "ratio": 0.5,
    "lora_r": 16,
    "lora_alpha": 32,
    "target_modules": ["all-linear"],
    "learning_rate": 2e-3,
    "epochs": 1.0,
    "batch_size": 8,
    "warmup_steps": 5,
}


def demo_train_config(**overrides: Any) -> TrainConfig:
    """The demo recipe's training settings, with ``overrides`` (e.g. ``learning_rate``,
    ``epochs``, ``max_steps``, ``seed``) in place of the recipe's: the one place they meet."""
    from lockbench.lock.train import TrainConfig

    recipe = {k: DEMO_RECIPE[k] for k in ("lora_r", "lora_alpha", "learning_rate", "epochs",
                                          "batch_size", "warmup_steps")}
    return TrainConfig(method="lora", target_modules=list(DEMO_RECIPE["target_modules"]),
                       **{**recipe, **overrides})
