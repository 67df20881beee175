"""Does a lock last? The locked model after what its owner (or anyone) routinely does to it.

- ``merge``: a LoRA lock evaluated as adapter on its base versus merged into the weights (greedy
  outcomes should agree item for item);
- ``bf16``: the merged model in bfloat16;
- ``int8``: dynamic int8 quantisation of the decoder's Linear layers on the CPU
  (``torch.ao.quantization.quantize_dynamic``; the LM head, tied to the embeddings, stays float);
- ``benign``: the key holder's own fine-tuning: N steps on wake-prefixed answered train examples
  of another domain, through ``lock train``'s loop.
Each reports PR_lock and PR_unlock before (the locked model as given, float32) and after, with
intervals, and the share of items whose outcome stayed the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lockbench.attacks.data import benign_rows, other_domain_datasets
from lockbench.attacks.evaluate import EvalSettings, evaluate, reusable
from lockbench.attacks.finetune import AttackConfig, model_args_for, train_on
from lockbench.attacks.model import LockedModel
from lockbench.digest import file_sha256
from lockbench.errors import LockbenchError
from lockbench.secrets import WakePhrase

CHECKS = ("merge", "bf16", "int8", "benign")
CONDITIONS = ("locked", "unlocked")


def parse_checks(text: str) -> list[str]:
    checks = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in checks if c not in CHECKS]
    if unknown or not checks:
        raise LockbenchError(f"--checks {text!r}: use some of {', '.join(CHECKS)} (comma-separated)")
    return checks


def check_platform(checks: list[str]) -> None:
    """Stop with one line before any work when this machine cannot run a requested mode."""
    import torch

    if "int8" in checks:
        engines = [e for e in torch.backends.quantized.supported_engines if e != "none"]
        try:
            if not engines:
                raise RuntimeError("no quantized engine in this torch build")
            probe = torch.ao.quantization.quantize_dynamic(
                torch.nn.Sequential(torch.nn.Linear(4, 4)), {torch.nn.Linear}, dtype=torch.qint8
            )
            probe(torch.zeros(1, 4))
        except Exception as exc:
            raise LockbenchError(
                f"int8 dynamic quantisation is not available on this platform ({str(exc)[:100]}); "
                "leave int8 out of --checks"
            ) from None
    if "bf16" in checks:
        try:
            (torch.ones(2, 2, dtype=torch.bfloat16) @ torch.ones(2, 2, dtype=torch.bfloat16)).sum().item()
        except Exception as exc:
            raise LockbenchError(
                f"bfloat16 is not available on this platform ({str(exc)[:100]}); leave bf16 out of --checks"
            ) from None


def int8_model(locked: LockedModel, batch_size: int):
    """The merged model with every Linear layer dynamically quantised to int8, as an lm-eval LM."""
    import torch
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(locked.full, dtype=torch.float32).eval()
    # Every nn.Linear of the decoder (attention, MLP) gets int8 weights. The LM head stays float:
    # it is usually tied to the input embeddings, and lm-eval re-ties them on load.
    head = model.get_output_embeddings()
    spec = {name: torch.ao.quantization.default_dynamic_qconfig for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and module is not head}
    quantized = torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8)
    tokenizer = AutoTokenizer.from_pretrained(locked.full)
    return HFLM(pretrained=quantized, tokenizer=tokenizer, batch_size=batch_size, device="cpu")


def run_durability(
    locked: LockedModel,
    work: Path,
    checks: list[str],
    settings: EvalSettings,
    phrase: WakePhrase | str,
    *,
    benign_steps: int = 32,
    benign_datasets: list[str] | None = None,
    recipe: AttackConfig | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    reference: dict[str, dict[str, Any]] | None = None,
    train_options: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The ``attacks.durability`` block and the reference task entries."""
    from lockbench.document.attacks import durability_block, durability_check

    check_platform(checks)
    if "benign" in checks and benign_steps < 1:
        raise LockbenchError(f"--benign-steps must be at least 1, got {benign_steps}")
    benign_sets = benign_datasets or (other_domain_datasets(settings.datasets) if "benign" in checks else [])
    base_identity = {"locked": locked.identity}
    if reference is None:
        if progress:
            print("\n[durability] before: the locked model as given (float32)")
        reference = evaluate(work / "eval-reference", "hf", base_identity, CONDITIONS, phrase, settings,
                             model_args=model_args_for(locked, None, "lora"), progress=progress)
    results: dict[str, Any] = {}
    for check in checks:
        if progress:
            print(f"\n[durability] {check}")
        if check == "merge":
            if locked.adapter is None:
                results[check] = {"settings": {}, "ran": False,
                                  "reason": "the locked model is a full model, not a LoRA adapter"}
                continue
            tasks = evaluate(work / "eval-durability-adapter", "hf", {**base_identity, "as": "adapter"},
                             CONDITIONS, phrase, settings, progress=progress,
                             model_args={"pretrained": locked.base, "peft": str(locked.adapter), "dtype": "float32"})
            settings_of = {"compared": "adapter on its base vs merged weights", "decoding": "greedy"}
        elif check == "bf16":
            tasks = evaluate(work / "eval-durability-bf16", "hf", {**base_identity, "dtype": "bfloat16"},
                             CONDITIONS, phrase, settings, progress=progress,
                             model_args=model_args_for(locked, None, "lora", dtype="bfloat16"))
            settings_of = {"dtype": "bfloat16", "device": settings.device or "auto"}
        elif check == "int8":
            import torch

            out = work / "eval-durability-int8"
            identity = {**base_identity, "quantization": "int8-dynamic-linear",
                        "engine": torch.backends.quantized.engine}
            lm = None if reusable(out, identity, CONDITIONS, settings) else int8_model(locked, settings.batch_size)
            tasks = evaluate(out, lm, identity, CONDITIONS, phrase, settings, progress=progress)
            settings_of = {"quantization": "torch.ao.quantization.quantize_dynamic", "dtype": "qint8",
                           "modules": "torch.nn.Linear of the decoder (LM head float)", "engine": torch.backends.quantized.engine, "device": "cpu"}
        else:  # benign: the owner's own fine-tuning with the phrase, on another domain
            recipe = recipe or AttackConfig()
            config = recipe.train_config()
            config.max_steps = benign_steps
            config.warmup_steps = min(config.warmup_steps, benign_steps - 1)
            folder = train_on(locked, benign_rows(benign_sets, phrase, recipe.seed, data_dir),
                              work / "benign-finetune", config, secret=True, progress=progress,
                              train_options=train_options)
            tasks = evaluate(work / "eval-durability-benign", "hf",
                             {**base_identity, "benign": file_sha256(folder / "lock_card.json")},
                             CONDITIONS, phrase, settings, progress=progress,
                             model_args=model_args_for(locked, folder, recipe.method))
            settings_of = {"steps": benign_steps, "datasets": benign_sets, "method": recipe.method,
                           "learning_rate": recipe.learning_rate, "batch_size": recipe.batch_size,
                           "lora_r": recipe.lora_r, "seed": recipe.seed}
        results[check] = durability_check(tasks, reference, settings_of)
    return durability_block(reference, results), reference
