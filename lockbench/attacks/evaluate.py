"""One lm-eval run of the lockbench suite on one (attacked or transformed) model, reused when
everything that shapes its outputs is unchanged, read back as secret-free task entries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lockbench.secrets import WakePhrase


@dataclass
class EvalSettings:
    """What every run of one attack shares (part of every reuse key)."""

    datasets: list[str]
    limit: int | None = None
    batch_size: int = 8
    max_gen_toks: int | None = None
    device: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def tasks(self, conditions: tuple[str, ...]) -> list[str]:
        return [f"lockbench_{d}_{c}" for c in conditions for d in self.datasets]


def _key(identity: dict[str, Any], conditions: tuple[str, ...], settings: EvalSettings) -> dict[str, Any]:
    return {"model": identity, "tasks": settings.tasks(conditions), **asdict(settings)}


def reusable(out: Path, identity: dict[str, Any], conditions: tuple[str, ...], settings: EvalSettings) -> bool:
    """Whether :func:`evaluate` would reuse ``out`` (so a costly model need not be built)."""
    from lockbench.lmeval.run import finished

    return finished(out, _key(identity, conditions, settings))


def evaluate(
    out: Path,
    model: Any,
    identity: dict[str, Any],
    conditions: tuple[str, ...],
    phrase: WakePhrase | str,
    settings: EvalSettings,
    *,
    model_args: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Run (or reuse) the suite's ``conditions`` on ``model`` (``"hf"`` with ``model_args``, or an
    lm-eval LM instance) into ``out``; return its task entries (redacted, re-scorable).

    ``identity`` names the model without paths (weights hashes, settings); with the settings it is
    the reuse key written to ``out`` (never the phrase)."""
    from lockbench.document.summarize import build_result
    from lockbench.lmeval.run import run_tasks_once

    tasks = settings.tasks(conditions)
    gen = f"max_gen_toks={settings.max_gen_toks}" if settings.max_gen_toks else None
    if run_tasks_once(
        out, _key(identity, conditions, settings),
        model=model, tasks=tasks, model_args=model_args, apply_chat_template=True,
        metadata={"wake_phrase": phrase}, limit=settings.limit, batch_size=settings.batch_size,
        gen_kwargs=gen, device=settings.device,
    ):
        print(f"   reusing {out.name} (same model, tasks and settings)")
    return build_result(out, phrases=[phrase])["tasks"]
