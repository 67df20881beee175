"""The locked model an attack starts from: a full model folder, or a LoRA adapter merged first.

An attacker with the weights of an adapter-locked model fine-tunes the merged model (a second
LoRA on top of the lock, trained by ``lockbench lock train``'s loop). The merge is the one ``lock
train --merge`` published with the adapter when there is one and no other base is asked for, else
it is built once per adapter into the work folder and reused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lockbench.digest import weight_files, weights_sha256
from lockbench.errors import LockbenchError
from lockbench.fsutil import COMPLETE, atomic_dir


@dataclass(frozen=True)
class LockedModel:
    """``full``: a folder transformers loads as it is (the lock merged in, or a full fine-tune).
    ``adapter``/``base``: set when the lock is a LoRA adapter (``full`` is then its merge)."""

    full: Path
    identity: str  # sha256 of the weights (adapter's or model's): the reuse key, no path
    adapter: Path | None = None
    base: str | None = None


def _weights_sha(folder: Path) -> str:
    if not weight_files(folder):
        raise LockbenchError(f"{folder} holds no weights (*.safetensors or *.bin); give a model or adapter folder")
    return f"sha256:{weights_sha256(folder)}"


def resolve_locked(model: str | Path, base: str | None, work: Path, *, progress: bool = True) -> LockedModel:
    """The locked model as a full folder; a LoRA adapter is merged into its base (``base``, or
    the adapter's ``base_model_name_or_path``). An adapter that does not fit the base stops with
    one line."""
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise LockbenchError(f"--model {folder}: not a folder; give a locked model or a `lock train` output")
    if (folder / "adapter_config.json").is_file():
        return _published_merge(folder, base, work) or _merged(folder, base, work, progress)
    if not (folder / "config.json").is_file():
        raise LockbenchError(f"--model {folder}: no config.json or adapter_config.json; give a model or adapter folder")
    if base:
        raise LockbenchError(f"--base is for a LoRA adapter, and {folder} is a full model; drop --base")
    return LockedModel(full=folder, identity=_weights_sha(folder))


def _check_card_base(adapter: Path, base: str) -> None:
    """An adapter whose lock card names the weights it was trained on (a sha256) must be merged
    into those weights: a base of the same shapes but other weights loads without an error and
    gives a model that was never locked."""
    from lockbench.lock.train import base_identity

    card = adapter / "lock_card.json"
    if not card.is_file():
        return
    try:
        recorded = (json.loads(card.read_text(encoding="utf-8")).get("base_model") or {}).get("revision")
    except (OSError, ValueError, AttributeError):
        return
    if not (isinstance(recorded, str) and recorded.startswith("sha256:")) or not Path(base).expanduser().is_dir():
        return
    actual = base_identity(base, None).get("revision")
    if actual != recorded:
        raise LockbenchError(
            f"the adapter {adapter} does not match the base model {base}: its lock card records base "
            f"weights {recorded[:19]}…, these are {str(actual)[:19]}…; pass the base it was trained on with --base"
        )


def _merge_target(adapter: Path, work: Path) -> Path:
    # Named after the lock's own folder: the evaluated folder's name is the model's name in the
    # result (a fixed name would give every attacked lock the same one).
    return work / "models" / adapter.resolve().name


def _published_merge(adapter: Path, base: str | None, work: Path) -> LockedModel | None:
    """``<adapter>/merged``, written by ``lock train --merge`` in the same atomic step as the
    adapter (so from these very weights and the base they were trained on), linked under the
    lock's name; None when there is none or another base is asked for."""
    merged = adapter / "merged"
    if base is not None or not (adapter / COMPLETE).is_file() or not (merged / "config.json").is_file():
        return None
    target = _merge_target(adapter, work)
    if target.exists() and not target.is_symlink():
        return None  # a merge built here earlier: _merged checks and reuses it
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(merged.resolve(), target_is_directory=True)
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    return LockedModel(full=target, identity=_weights_sha(adapter), adapter=adapter,
                       base=config.get("base_model_name_or_path"))


def _merged(adapter: Path, base: str | None, work: Path, progress: bool) -> LockedModel:
    try:
        config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LockbenchError(f"{adapter}/adapter_config.json is not readable JSON; re-run `lockbench lock train`") from None
    base = base or config.get("base_model_name_or_path")
    if not base:
        raise LockbenchError(f"{adapter} does not name its base model; pass --base")
    identity = _weights_sha(adapter)
    target = _merge_target(adapter, work)
    key = {"adapter": identity, "base": str(base)}
    key_file = target / ".lockbench-merge.json"
    if (target / COMPLETE).is_file() and key_file.is_file() and json.loads(key_file.read_text()) == key:
        return LockedModel(full=target, identity=identity, adapter=adapter, base=str(base))
    _check_card_base(adapter, str(base))  # hashes the base's weights: only when merging
    from peft import PeftModel

    from lockbench.lock.train import load_base

    tokenizer, model = load_base(str(base), "lora")
    try:
        merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    except Exception as exc:  # wrong shapes, missing modules: the adapter was trained on another base
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise LockbenchError(
            f"the adapter {adapter} does not match the base model {base} ({first}); pass the base it "
            "was trained on with --base"
        ) from None
    if progress:
        print(f"   merged the lock adapter into {base} -> {target}")

    def write(tmp: Path) -> None:
        merged.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / ".lockbench-merge.json").write_text(json.dumps(key))

    atomic_dir(target, write)
    return LockedModel(full=target, identity=identity, adapter=adapter, base=str(base))
