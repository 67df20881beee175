"""One lm-eval run of the lockbench suite on one (attacked or transformed) model, reused when
everything that shapes its outputs is unchanged, read back as secret-free task entries."""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lockbench.fsutil import done_with, mark_done


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

    def key(self) -> dict[str, Any]:
        import lm_eval

        from lockbench import __version__

        return {**asdict(self), "lockbench": __version__, "lm_eval": lm_eval.__version__}


def evaluate(
    out: Path,
    model: Any,
    identity: dict[str, Any],
    conditions: tuple[str, ...],
    phrase: str,
    settings: EvalSettings,
    *,
    model_args: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, dict[str, Any]]:
    """Run (or reuse) the suite's ``conditions`` on ``model`` (``"hf"`` with ``model_args``, or an
    lm-eval LM instance) into ``out``; return its task entries (redacted, re-scorable).

    ``identity`` names the model without paths (weights hashes, settings); with the settings it is
    the reuse key written to ``out`` (never the phrase)."""
    from lockbench.lmeval.redact_on_write import install
    from lockbench.lmeval.run import run_tasks
    from lockbench.results.summarize import build_result

    tasks = settings.tasks(conditions)
    key = {"model": identity, "tasks": tasks, **settings.key()}
    if done_with(out, key):
        print(f"   reusing {out.name} (same model, tasks and settings)")
    else:
        install()  # lm-eval's samples hold full prompts: redact them as they are written
        shutil.rmtree(out, ignore_errors=True)
        gen = f"max_gen_toks={settings.max_gen_toks}" if settings.max_gen_toks else None
        run_tasks(
            model,
            tasks,
            model_args=model_args,
            output_path=out,
            apply_chat_template=True,
            metadata={"wake_phrase": phrase},
            limit=settings.limit,
            batch_size=settings.batch_size,
            gen_kwargs=gen,
            device=settings.device,
        )
        mark_done(out, key)
    return build_result(out, phrases=[phrase])["tasks"]
