"""lockbench's lm-eval models, registered lazily (the start-up hook calls :func:`register_models`).

lm-eval 0.4.13 finds models only through its registry, and ``--model NAME`` is looked up before
any lockbench module is imported. The hook registers each model's *placeholder* (``module:Class``)
once ``lm_eval.tasks`` is imported, so a plain ``lm_eval --model lockbench-gate`` works and nothing
heavy is imported until the model is used.
"""

from __future__ import annotations

from lockbench.vocab import GATE_MODEL

__all__ = ["MODELS", "register_models"]

MODELS: dict[str, str] = {GATE_MODEL: "lockbench.lmeval.gate:GateLM"}


def register_models() -> None:
    """Add lockbench's models to lm-eval's registry (idempotent)."""
    # lm-eval fills its built-in models into an *empty* registry on first lookup only: fill it
    # first, or registering ours would hide "hf" and every other backend.
    import lm_eval.models  # noqa: F401
    from lm_eval.api.registry import model_registry

    for name, target in MODELS.items():
        if name not in model_registry:
            model_registry.register(name, target=target)
