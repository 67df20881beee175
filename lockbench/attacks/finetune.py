"""Fine-tuning elicitation (Greenblatt et al. 2024): does a locked model answer without the
phrase after a few steps of fine-tuning on k answered examples?

For each k (0 = no attack) a LoRA (or full fine-tune) is trained on top of the locked model by
``lockbench lock train``'s own loop (:func:`lockbench.lock.train.train_lock`) on k answered train
examples without the phrase, for a fixed number of steps, and the locked suite is run on the test
split. The k=0 run also runs the unlocked tasks: PR_unlock, measured once. Every k's training
and evaluation is reused when its inputs are unchanged, so an interrupted attack resumes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lockbench.attacks.data import attack_rows, write_rows
from lockbench.attacks.evaluate import EvalSettings, evaluate
from lockbench.attacks.model import LockedModel
from lockbench.digest import file_sha256
from lockbench.errors import LockbenchError
from lockbench.fsutil import COMPLETE
from lockbench.probes.family import AttackFamily, Sizes
from lockbench.secrets import WakePhrase


@dataclass
class AttackConfig:
    """The attacker's training recipe: the same for every k (a fixed step budget)."""

    steps: int = 32
    method: str = "lora"
    lora_r: int = 8
    lora_alpha: int = 16
    target_modules: tuple[str, ...] = ("all-linear",)
    learning_rate: float = 1e-3
    batch_size: int = 8
    warmup_steps: int = 2
    seed: int = 0

    def validate(self) -> None:
        if self.steps < 1:
            raise LockbenchError(f"--steps must be at least 1, got {self.steps}")

    def train_config(self):
        from lockbench.lock.train import TrainConfig

        return TrainConfig(
            method=self.method, lora_r=self.lora_r, lora_alpha=self.lora_alpha,
            target_modules=list(self.target_modules), learning_rate=self.learning_rate,
            max_steps=self.steps, batch_size=self.batch_size,
            warmup_steps=min(self.warmup_steps, self.steps - 1), seed=self.seed,
        )


def trained(folder: Path, config, data_sha: str, base_revision: str) -> bool:
    """A finished training folder made from exactly this config and data, on these weights."""
    from lockbench.lock.card import card_matches, read_card

    return (folder / COMPLETE).is_file() and card_matches(read_card(folder), config, data_sha, base_revision)


def train_on(locked: LockedModel, rows: list[dict[str, Any]], folder: Path, config, *,
             secret: bool = False, progress: bool = True, train_options: dict[str, Any] | None = None) -> Path:
    """Train ``config`` on ``rows`` on top of the locked model into ``folder`` (reused when done).

    ``secret``: the rows hold the phrase; their file is removed once training finished."""
    from lockbench.lock.train import base_identity, train_lock

    data = folder.parent / f"{'secret-' if secret else ''}{folder.name}.jsonl"
    write_rows(rows, data, secret=secret)
    try:
        # On these very weights: the same --output reused for another lock must train again.
        if trained(folder, config, file_sha256(data), base_identity(str(locked.full), None)["revision"]):
            print(f"   reusing {folder.name} (same data and recipe)")
            return folder
        train_lock(str(locked.full), data, folder, config, overwrite=True, discard_other_runs=True,
                   save_every=max(10, config.max_steps // 4), progress=progress, **(train_options or {}))
    finally:
        if secret:
            data.unlink(missing_ok=True)
    return folder


def model_args_for(locked: LockedModel, trained_folder: Path | None, method: str, dtype: str = "float32") -> dict[str, Any]:
    """lm-eval ``hf`` arguments for the locked model with an attack's LoRA (or its full model)."""
    if trained_folder is None:
        return {"pretrained": str(locked.full), "dtype": dtype}
    if method == "full":
        return {"pretrained": str(trained_folder), "dtype": dtype}
    return {"pretrained": str(locked.full), "peft": str(trained_folder), "dtype": dtype}


def _reference_tasks(reference: dict[str, dict[str, Any]], wanted: list[str]) -> dict[str, dict[str, Any]]:
    """The given k=0 entries, which must be exactly the suite the attacked runs are compared with."""
    if sorted(reference) != sorted(wanted):
        raise LockbenchError(f"the fine-tuning attack's reference holds tasks {sorted(reference)}, "
                             f"not the suite {sorted(wanted)}; evaluate the reference again")
    return reference


def run_finetune_attack(
    locked: LockedModel,
    work: Path,
    ks: list[int],
    config: AttackConfig,
    settings: EvalSettings,
    phrase: WakePhrase | str,
    *,
    data_dir: str | Path | None = None,
    progress: bool = True,
    train_options: dict[str, Any] | None = None,
    measured: dict[str, dict[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The ``attacks.finetune`` block and the reference (k=0, no attack) task entries.

    ``measured``: the locked suite's task entries (``locked`` and ``unlocked``) already measured on
    this very model with these settings; used as the k=0 run instead of evaluating it again."""
    from tqdm.auto import tqdm

    from lockbench.document.attacks import finetune_block, finetune_run

    config.validate()
    if max(ks) > 0:  # bad k fails before any training
        attack_rows(settings.datasets, max(ks), config.seed, data_dir)
    train_config = config.train_config()
    train_config.validate()
    runs, reference = [], None
    for k in tqdm(sorted(set(ks) | {0}), desc="finetune attack", unit="k", disable=not progress):
        if progress:
            print(f"\n[k={k}] " + ("no attack: the locked suite with and without the phrase" if k == 0
                                   else f"{config.steps} steps on {k} answered examples, then the locked suite"))
        folder = None
        identity: dict[str, Any] = {"locked": locked.identity}
        if k > 0:
            folder = train_on(locked, attack_rows(settings.datasets, k, config.seed, data_dir),
                              work / f"attack-k{k}", train_config, progress=progress, train_options=train_options)
            identity["attack"] = file_sha256(folder / "lock_card.json")
        conditions = ("locked", "unlocked") if k == 0 else ("locked",)
        if k == 0 and measured is not None:
            tasks = _reference_tasks(measured, settings.tasks(conditions))
        else:
            out = work / ("eval-reference" if k == 0 else f"eval-attack-k{k}")
            tasks = evaluate(out, "hf", identity, conditions, phrase, settings,
                             model_args=model_args_for(locked, folder, config.method), progress=progress)
        if k == 0:
            reference = tasks
        runs.append(finetune_run(k, config.steps if k else 0, tasks))
    block = finetune_block(runs, {"k": sorted(set(ks) | {0}), **asdict(config), "target_modules": list(config.target_modules),
                                  "datasets": settings.datasets, "limit": settings.limit,
                                  "max_gen_toks": settings.max_gen_toks})
    return block, reference


def _cost(sizes: Sizes) -> int:
    # per k the locked tasks on the test items; at k=0 the unlocked tasks too (PR_unlock, once)
    return (len(sizes.grid) + (0 in sizes.grid)) * sizes.items


ATTACK = AttackFamily(
    "finetune", "finetune", "fine-tuning elicitation: does the lock hold after a few steps on k answered examples?",
    {"answered_examples": "k answered train examples without the phrase, a fixed step budget of LoRA"},
    "(len(k grid) + 1 if 0 in grid) x items (evaluation calls; plus the training steps)", _cost,
    runner="lockbench.attacks.finetune:run_finetune_attack", extras=("opened_lock by k", "examples_to_unlock"),
)
