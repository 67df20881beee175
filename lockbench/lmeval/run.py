"""Run lockbench tasks through lm-eval from Python, writing the same files as the ``lm_eval`` CLI.

Used by ``lockbench demo`` and the tests. It builds a TaskManager over lockbench's folder only
(``include_defaults=False``): indexing lm-eval's thousands of built-in YAMLs costs ~30 s per run
and adds nothing here. Metadata must go to the TaskManager: ``simple_evaluate`` ignores its own
``metadata`` argument when a task manager is passed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lockbench import tasks_path


def task_manager(metadata: dict[str, Any] | None = None, extra_paths: list[Path] | None = None):
    """A TaskManager that sees lockbench's tasks (and ``extra_paths``) only."""
    from lm_eval.tasks import TaskManager

    paths = [str(tasks_path()), *(str(p) for p in extra_paths or [])]
    return TaskManager(include_path=paths, include_defaults=False, metadata=metadata or {})


def expand_patterns(manager: Any, tasks: list[str]) -> list[str]:
    """Expand ``fnmatch`` patterns the way the ``lm_eval`` CLI does (the Python API does not)."""
    names = []
    for spec in tasks:
        matched = manager.match_tasks([spec]) if any(c in spec for c in "*?[") else [spec]
        if not matched:
            from lockbench.errors import LockbenchError

            raise LockbenchError(f"no lockbench task matches '{spec}'")
        names += [n for n in matched if n not in names]
    return names


def default_device() -> str:
    """cuda where there is one, else cpu (lm-eval's hf defaults to cuda even on a CPU-only machine)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def run_tasks(
    model: Any,
    tasks: list[str],
    *,
    model_args: str | dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    output_path: str | Path | None = None,
    apply_chat_template: bool = False,
    limit: int | float | None = None,
    batch_size: int | str = 1,
    gen_kwargs: str | dict | None = None,
    extra_paths: list[Path] | None = None,
    device: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """``simple_evaluate`` on lockbench tasks; with ``output_path`` also saves results and samples
    like ``lm_eval --output_path ... --log_samples``. Returns lm-eval's results dict."""
    from lockbench.lmeval.redact_on_write import install

    # lm-eval writes full prompts and hashes of them: redact as it writes, even with the start-up
    # hook switched off (LOCKBENCH_DISABLE_LM_EVAL_HOOK) or not installed. First: it patches the
    # simple_evaluate imported below.
    install()
    from lm_eval import simple_evaluate
    from lm_eval.loggers import EvaluationTracker

    device = device or default_device()
    tracker = EvaluationTracker(output_path=str(output_path)) if output_path else None
    manager = task_manager(metadata, extra_paths)
    results = simple_evaluate(
        model=model,
        model_args=model_args,
        tasks=expand_patterns(manager, tasks),
        task_manager=manager,
        apply_chat_template=apply_chat_template,
        limit=limit,
        batch_size=batch_size,
        gen_kwargs=gen_kwargs,
        log_samples=True,
        evaluation_tracker=tracker,
        device=device,
        **kwargs,
    )
    if tracker is not None and results is not None:
        samples = results.pop("samples")
        tracker.save_results_aggregated(results=results, samples=samples)
        for task_name in results["configs"]:
            tracker.save_results_samples(task_name=task_name, samples=samples[task_name])
        results["samples"] = samples
    return results


def _versioned(key: dict[str, Any]) -> dict[str, Any]:
    import lm_eval

    from lockbench import __version__

    return {**key, "lockbench": __version__, "lm_eval": lm_eval.__version__}


def finished(out: Path, key: dict[str, Any]) -> bool:
    """Whether ``out`` holds a finished :func:`run_tasks_once` run made from exactly ``key``."""
    from lockbench.fsutil import done_with

    return done_with(out, _versioned(key))


def run_tasks_once(out: Path, key: dict[str, Any], *, overwrite: bool = False, **kwargs: Any) -> bool:
    """:func:`run_tasks` into ``out`` (``kwargs``: its arguments but ``output_path``), unless ``out``
    holds a finished run made from exactly ``key`` plus the lockbench and lm-eval versions.
    ``key`` names everything that shapes the outputs and never the phrase: it is written to disk.
    True when the earlier run was reused."""
    import shutil

    from lockbench.fsutil import mark_done

    if finished(out, key) and not overwrite:
        return True
    shutil.rmtree(out, ignore_errors=True)
    run_tasks(output_path=out, **kwargs)
    mark_done(out, _versioned(key))
    return False
