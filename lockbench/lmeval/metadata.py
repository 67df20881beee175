"""The run-time settings lockbench reads from lm-eval's ``--metadata``, checked once per task.

lm-eval hands ``--metadata`` to a task's ``custom_dataset`` merged with the model arguments, so a
misspelt key (``wake_phrse``, ``rouge_treshold``) would otherwise be ignored in silence and the run
would use a default the user did not choose. :func:`check_metadata` refuses a key that is neither
a lockbench setting nor a model argument, with a did-you-mean.
"""

from __future__ import annotations

import difflib
import inspect
import sys
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, ValidationError

from lockbench.errors import LockbenchError
from lockbench.scoring.config import ScoringSettings


class RunMetadata(ScoringSettings):
    """Every ``--metadata`` key lockbench reads (where it is read, for the full rules).

    The scoring keys come fully typed from :class:`lockbench.scoring.config.ScoringSettings`;
    for the others the types here are the loose outer shape, and the modules that use a key check
    its value in detail (the wake phrase in lockbench.secrets, probe counts in
    lockbench.lmeval.probe_docs) and name the fix.
    """

    model_config = ConfigDict(extra="allow")  # model arguments arrive in the same dict

    # lockbench.lmeval.docs
    wake_phrase: Any = None
    wake_phrase_file: Any = None  # checked by lockbench.phrase.resolve_phrase (clearer message)
    data_dir: str | Path | None = None
    # lockbench.lmeval.probe_docs.ProbeOptions (the attack suite)
    suite: str | None = None
    screen_items: int | str | None = None
    keep: int | str | None = None
    confirm_items: int | str | None = None
    traversal_budget: int | str | None = None
    legitimate_kinds: list[str] | str | None = None
    confirm_variants: dict[str, Any] | None = None
    adaptive: dict[str, Any] | None = None  # the adaptive families' declared finds (std-v2 on)
    # ... and the scoring keys of lockbench.scoring.config.ScoringSettings


LOCKBENCH_KEYS: tuple[str, ...] = (
    *(k for k in RunMetadata.model_fields if k not in ScoringSettings.model_fields),
    *ScoringSettings.model_fields,
)
# What lm-eval itself adds to a task's metadata (the YAML's block, lm_eval/tasks/_factory.py).
LMEVAL_KEYS = frozenset({"version", "config_source", "config", "_metadata"})

# Common lm-eval model arguments (hf, vllm, local-completions, ...), for Python callers whose model
# class is not imported yet, and keyword arguments that the hf backend passes on to transformers'
# ``from_pretrained`` (they are not in the backend's own signature).
FROM_PRETRAINED_KEYS = frozenset({
    "pretrained", "model", "base_url", "tokenizer", "tokenizer_backend", "dtype", "device",
    "batch_size", "max_batch_size", "max_length", "revision", "trust_remote_code", "parallelize",
    "peft", "delta", "gguf_file", "backend", "tokenized_requests", "num_concurrent", "max_retries",
    "timeout", "max_gen_toks", "seed", "add_bos_token", "tensor_parallel_size",
    "data_parallel_size", "gpu_memory_utilization", "max_model_len", "enforce_eager",
    "use_fast_tokenizer", "truncation", "logits_cache", "verify_certificate", "eos_string",
    "attn_implementation", "low_cpu_mem_usage", "load_in_8bit", "load_in_4bit", "device_map",
    "torch_dtype", "quantization_config", "subfolder", "cache_dir", "token", "use_safetensors",
    "offload_folder", "max_memory", "variant", "local_files_only", "use_cache",
})


def model_argument_keys() -> frozenset[str]:
    """Names that may be model arguments: the running ``lm_eval`` command's ``--model_args``
    (recorded by the start-up hook), the parameters of every lm-eval model class imported so
    far, and the ``from_pretrained`` keywords the hf backend passes on."""
    keys: set[str] = set(FROM_PRETRAINED_KEYS)
    hook = sys.modules.get("_lockbench_hook")
    keys |= set(getattr(hook, "model_arg_keys", ()) or ())
    for name, module in list(sys.modules.items()):
        if not (name.startswith("lm_eval.models.") or name.startswith("lockbench.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if inspect.isclass(value) and hasattr(value, "generate_until") and hasattr(value, "loglikelihood"):
                try:
                    keys |= set(inspect.signature(value.__init__).parameters) - {"self", "args", "kwargs"}
                except (TypeError, ValueError):
                    continue
    return frozenset(keys)


# Keys of earlier lockbench versions, with what replaced them.
RETIRED_KEYS = {
    "probe_items": "the attack suite asks every variant on its screening items (screen_items) and "
                   "the picked ones on confirm_items test items",
    "traversal_items": "traversal screening asks each candidate on the suite's first screening item",
}


def _unknown_key(key: str) -> LockbenchError:
    if key in RETIRED_KEYS:
        return LockbenchError(f"--metadata '{key}' is no longer read: {RETIRED_KEYS[key]}")
    close = difflib.get_close_matches(key, LOCKBENCH_KEYS, n=1, cutoff=0.7)
    hint = (f"did you mean '{close[0]}'?" if close
            else f"lockbench reads: {', '.join(LOCKBENCH_KEYS)}; model settings go in --model_args")
    return LockbenchError(f"unknown --metadata key '{key}'; {hint}")


def check_metadata(metadata: dict[str, Any]) -> dict[str, Any]:
    """Refuse unknown keys and wrong outer types; return ``metadata`` with the values normalised
    (e.g. ``replace_default_refusals: "false"`` becomes False)."""
    if not isinstance(metadata, dict):
        raise LockbenchError(f"--metadata must be a JSON object, got {type(metadata).__name__}")
    unknown = [k for k in metadata if k not in RunMetadata.model_fields and k not in LMEVAL_KEYS]
    if unknown:
        allowed = model_argument_keys()
        for key in unknown:
            if key not in allowed:
                raise _unknown_key(key)
    try:
        checked = RunMetadata.model_validate(metadata)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "metadata"
        # the message names the expected type only: a value may be the wake phrase
        raise LockbenchError(f"--metadata '{key}': {first['msg'].lower()}") from None
    known = {k: getattr(checked, k) for k in RunMetadata.model_fields if k in metadata}
    return {**metadata, **known}
