"""The start-up hook that adds lockbench's tasks to every lm-eval TaskManager must be fail-safe."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import _lockbench_hook


def _python(code: str, tmp_path: Path, extra_path: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env}
    if extra_path is not None:  # shadow a real package with a broken one
        environ["PYTHONPATH"] = f"{extra_path}{os.pathsep}{environ.get('PYTHONPATH', '')}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environ, cwd=tmp_path, timeout=120)


def test_hook_is_installed_and_patches_task_manager(tmp_path: Path) -> None:
    result = _python(
        "import lm_eval.tasks as t; import lockbench;"
        "print(t.TaskManager._lockbench_patched)", tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "True", result.stderr


def test_hook_can_be_disabled(tmp_path: Path) -> None:
    result = _python("import lm_eval.tasks as t; print(getattr(t.TaskManager, '_lockbench_patched', False))",
                     tmp_path, LOCKBENCH_DISABLE_LM_EVAL_HOOK="1")
    assert result.stdout.strip() == "False"


def test_startup_does_not_import_lm_eval_or_lockbench(tmp_path: Path) -> None:
    result = _python("import sys; print('lm_eval' in sys.modules, 'lockbench' in sys.modules)", tmp_path)
    assert result.stdout.strip() == "False False"


def _fake_lm_eval(tmp_path: Path, tasks_source: str) -> Path:
    """A folder holding a stand-in ``lm_eval`` package whose ``lm_eval.tasks`` runs ``tasks_source``."""
    fake = tmp_path / "fake"
    (fake / "lm_eval" / "tasks").mkdir(parents=True)
    (fake / "lm_eval" / "__init__.py").write_text("")
    (fake / "lm_eval" / "tasks" / "__init__.py").write_text(tasks_source)
    return fake


def test_broken_lm_eval_never_breaks_the_interpreter(tmp_path: Path) -> None:
    broken = _fake_lm_eval(tmp_path, "raise RuntimeError('broken lm_eval')\n")
    plain = _python("print('alive')", tmp_path, broken)
    assert plain.returncode == 0 and plain.stdout.strip() == "alive"
    # the import error is lm-eval's own, passed through unchanged (our loader frame aside)
    failing = _python("import lm_eval.tasks", tmp_path, broken)
    assert failing.stderr.strip().splitlines()[-1] == "RuntimeError: broken lm_eval"


def test_lm_eval_without_task_manager_is_left_alone(tmp_path: Path) -> None:
    odd = _fake_lm_eval(tmp_path, "VALUE = 42\n")
    result = _python("import lm_eval.tasks as t; print(t.VALUE)", tmp_path, odd)
    assert result.returncode == 0 and result.stdout.strip() == "42"


def test_patch_keeps_user_include_paths(tmp_path: Path) -> None:
    class FakeManager:
        def __init__(self, verbosity=None, include_path=None, **kwargs):
            self.include_path = include_path

    module = types.SimpleNamespace(TaskManager=FakeManager)
    _lockbench_hook.patch_task_manager(module)
    ours = _lockbench_hook.lockbench_tasks_dir()
    assert FakeManager().include_path == [ours]
    assert FakeManager(include_path="mine").include_path == ["mine", ours]
    assert FakeManager(None, ["a", ours]).include_path == ["a", ours]  # no duplicate
    _lockbench_hook.patch_task_manager(module)  # idempotent
    assert FakeManager().include_path == [ours]


def test_cli_hook_passes_foreign_exits_through(tmp_path: Path) -> None:
    """Only lockbench's errors are turned into exit 2; lm-eval's own SystemExit keeps its code."""
    fake = tmp_path / "fake"
    (fake / "lm_eval" / "_cli").mkdir(parents=True)
    (fake / "lm_eval" / "__init__.py").write_text("")
    (fake / "lm_eval" / "_cli" / "__init__.py").write_text("")
    (fake / "lm_eval" / "_cli" / "harness.py").write_text(
        "import sys\n"
        "class HarnessCLI:\n"
        "    def execute(self, args):\n"
        "        if args == 'lockbench':\n"
        "            from lockbench.errors import DataError\n"
        "            raise DataError('bad row')\n"
        "        sys.exit(args)\n"
    )
    ours = _python("from lm_eval._cli.harness import HarnessCLI; HarnessCLI().execute('lockbench')",
                   tmp_path, fake)
    assert ours.returncode == 2 and ours.stderr.strip() == "lockbench: error: bad row", ours.stderr
    theirs = _python("from lm_eval._cli.harness import HarnessCLI; HarnessCLI().execute(7)", tmp_path, fake)
    assert theirs.returncode == 7 and theirs.stderr == ""
    off = _python("from lm_eval._cli.harness import HarnessCLI; HarnessCLI().execute('lockbench')",
                  tmp_path, fake, LOCKBENCH_DISABLE_LM_EVAL_HOOK="1")
    assert off.returncode == 1  # unpatched: Python's default for a SystemExit with a message


def test_cli_hook_leaves_an_odd_harness_alone(tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    (fake / "lm_eval" / "_cli").mkdir(parents=True)
    (fake / "lm_eval" / "__init__.py").write_text("")
    (fake / "lm_eval" / "_cli" / "__init__.py").write_text("")
    (fake / "lm_eval" / "_cli" / "harness.py").write_text("VALUE = 42\n")
    result = _python("import lm_eval._cli.harness as h; print(h.VALUE)", tmp_path, fake)
    assert result.returncode == 0 and result.stdout.strip() == "42"
