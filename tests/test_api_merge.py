"""``serve-locked`` input: a lockbench adapter (peft LoRA + lock card) is merged into its base
once, into a cached full-weight folder that ``transformers serve`` can load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from lockbench.api.server import has_chat_template, resolve_model_folder
from lockbench.errors import LockbenchError


@pytest.fixture(scope="module")
def adapter(tiny_model, tmp_path_factory) -> Path:
    """A real peft LoRA adapter on the tiny model, with non-zero B so merging changes weights,
    and a lock card naming its base the way `lockbench lock train` writes it."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = tmp_path_factory.mktemp("lock-out") / "lock"
    torch.manual_seed(1)
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.normal_(0, 0.5)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(folder)
    (folder / "lock_card.json").write_text(json.dumps({"base_model": {"source": str(tiny_model)}}))
    return folder


def test_adapter_is_merged_into_a_cached_servable_folder(adapter, tiny_model, tmp_path, monkeypatch) -> None:
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    monkeypatch.setenv("LOCKBENCH_CACHE", str(tmp_path / "cache"))
    merged = resolve_model_folder(adapter)
    assert merged.parent == tmp_path / "cache" / "merged"
    assert (merged / "config.json").is_file() and has_chat_template(merged)
    assert not (merged / "adapter_config.json").exists()

    served = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32)
    expected = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32), adapter
    ).merge_and_unload()
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    key = "model.layers.0.self_attn.q_proj.weight"
    got, want, orig = (m.state_dict()[key] for m in (served, expected, base))
    assert torch.equal(got, want) and not torch.equal(got, orig)

    stamp = (merged / "model.safetensors").stat().st_mtime_ns
    assert resolve_model_folder(adapter) == merged  # cached: not merged again
    assert (merged / "model.safetensors").stat().st_mtime_ns == stamp


def test_merged_subfolder_and_plain_model_are_served_as_they_are(tiny_model, tmp_path) -> None:
    assert resolve_model_folder(tiny_model) == Path(tiny_model).resolve()
    lock = tmp_path / "lock"
    (lock / "merged").mkdir(parents=True)
    (lock / "merged" / "config.json").write_text("{}")
    assert resolve_model_folder(lock) == (lock / "merged").resolve()


def test_adapter_with_a_missing_base_is_one_line(adapter, tmp_path) -> None:
    with pytest.raises(LockbenchError, match="base model folder .* not found; pass --base"):
        resolve_model_folder(adapter, base=str(tmp_path / "nowhere"))
