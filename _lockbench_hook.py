"""Start-up hook that lets a plain ``lm_eval --tasks "lockbench_*"`` see lockbench's tasks.

lm-eval 0.4.13 has no plugin discovery: tasks outside its own folder are found only through
``TaskManager(include_path=...)``. The ``_lockbench_hook.pth`` file installed beside this module
calls :func:`install` at interpreter start-up; it adds one meta-path finder that waits until
``lm_eval.tasks`` is imported and then wraps ``TaskManager.__init__`` so that lockbench's task
folder is always part of ``include_path``, and so is every folder on ``$LOCKBENCH_TASKS_PATH``
(``os.pathsep``-separated): where ``lockbench dataset add`` registered a user's own datasets.

The same step registers lockbench's lm-eval models (``lockbench-gate``,
:mod:`lockbench.lmeval.model_registry`) as lazy placeholders and installs the redaction of
lm-eval's output (:mod:`lockbench.lmeval.redact_on_write`).

The same finder waits for two more modules: ``lm_eval.evaluator`` (it imports ``lm_eval.tasks``
half-way through), so the redaction can wrap ``simple_evaluate`` once it exists; and
``lm_eval._cli.harness``, where it wraps ``HarnessCLI.execute`` so that a lockbench error raised
inside an ``lm_eval`` run (``lm_eval ...`` or ``python -m lm_eval ...``) prints its one line and
exits 2, the documented code (as a ``SystemExit`` with a text message it would exit 1).

Fail-safe by construction: nothing is imported at start-up (neither lm_eval nor lockbench), every
step is guarded, and any failure leaves lm-eval exactly as it was. Set
``LOCKBENCH_DISABLE_LM_EVAL_HOOK=1`` to switch it off.
"""

from __future__ import annotations

import os
import sys

_TARGET = "lm_eval.tasks"
# lm_eval.evaluator imports lm_eval.tasks half-way through: redaction patches its simple_evaluate
# once it is loaded (lockbench.lmeval.redact_on_write.install)
_EVALUATOR = "lm_eval.evaluator"
_DISABLE_ENV = "LOCKBENCH_DISABLE_LM_EVAL_HOOK"
# Same name as lockbench.data.custom.TASKS_PATH_ENV (not imported: nothing is imported at start-up).
TASKS_PATH_ENV = "LOCKBENCH_TASKS_PATH"
_warned: set = set()


def user_task_dirs() -> list:
    """The existing folders on ``$LOCKBENCH_TASKS_PATH``; a missing one is named once on stderr
    (and skipped) so a typo does not pass for "task not found"."""
    dirs = []
    for raw in os.environ.get(TASKS_PATH_ENV, "").split(os.pathsep):
        if not raw.strip():
            continue
        path = os.path.abspath(os.path.expanduser(raw))
        if os.path.isdir(path):
            dirs.append(path)
        elif path not in _warned:
            _warned.add(path)
            sys.stderr.write(f"lockbench: warning: {TASKS_PATH_ENV} folder {path} does not exist; skipped\n")
    return dirs


def lockbench_tasks_dir() -> str | None:
    """The installed lockbench task folder, found without importing lockbench."""
    import importlib.util

    spec = importlib.util.find_spec("lockbench")
    if spec is None or not spec.submodule_search_locations:
        return None
    package_dir = list(spec.submodule_search_locations)[0]
    for candidate in (
        os.path.join(package_dir, "_tasks"),  # wheel install: tasks/ shipped as package data
        os.path.join(os.path.dirname(package_dir), "tasks"),  # source checkout / editable install
    ):
        if os.path.isdir(candidate):
            return candidate
    return None


def patch_task_manager(module: object) -> None:
    """Wrap ``TaskManager.__init__`` in ``module`` so it always includes lockbench's tasks."""
    manager_cls = getattr(module, "TaskManager", None)
    if manager_cls is None or getattr(manager_cls, "_lockbench_patched", False):
        return
    tasks_dir = lockbench_tasks_dir()
    if tasks_dir is None:
        return
    original_init = manager_cls.__init__

    def __init__(self, *args, **kwargs):  # noqa: N807 - mirrors the wrapped method
        try:
            include = kwargs.get("include_path") if len(args) < 2 else args[1]
            if include is None:
                paths = []
            elif isinstance(include, (list, tuple)):
                paths = list(include)
            else:
                paths = [include]
            for extra in [tasks_dir, *user_task_dirs()]:
                if not any(os.path.abspath(str(p)) == extra for p in paths):
                    paths.append(extra)
            if len(args) >= 2:
                args = (args[0], paths, *args[2:])
            else:
                kwargs["include_path"] = paths
        except Exception:  # never let the hook break lm-eval
            pass
        original_init(self, *args, **kwargs)

    __init__.__wrapped__ = original_init  # type: ignore[attr-defined]
    manager_cls.__init__ = __init__
    manager_cls._lockbench_patched = True


# --- lockbench errors exit 2 under lm_eval ------------------------------------------------------
_CLI_TARGET = "lm_eval._cli.harness"
# Keys of the running ``lm_eval`` command's --model_args (read by lockbench.lmeval.metadata, which
# otherwise cannot tell them from --metadata keys).
model_arg_keys: frozenset = frozenset()


def patch_cli(module: object) -> None:
    """Wrap ``HarnessCLI.execute`` in ``module``: a LockbenchError prints one line, exits 2."""
    cli_cls = getattr(module, "HarnessCLI", None)
    if cli_cls is None or getattr(cli_cls, "_lockbench_patched", False):
        return
    original_execute = cli_cls.execute

    def execute(self, *args, **kwargs):
        global model_arg_keys
        try:  # lm-eval merges --model_args into --metadata: remember which keys were model args
            model_args = getattr(args[0], "model_args", None) if args else None
            if isinstance(model_args, dict):
                model_arg_keys = frozenset(str(k) for k in model_args)
        except Exception:
            pass
        try:
            return original_execute(self, *args, **kwargs)
        except SystemExit as exc:
            errors = sys.modules.get("lockbench.errors")  # loaded if one of ours was raised
            if errors is None or not isinstance(exc, getattr(errors, "LockbenchError", ())):
                raise
            label = "internal error" if getattr(exc, "exit_code", 2) == 3 else "error"
            sys.stderr.write(f"lockbench: {label}: {exc.message}\n")
            sys.stderr.flush()
            raise SystemExit(exc.exit_code) from None

    execute.__wrapped__ = original_execute  # type: ignore[attr-defined]
    cli_cls.execute = execute
    original_parse = getattr(cli_cls, "parse_args", None)
    if original_parse is not None:

        def parse_args(self, *args, **kwargs):
            problem = None
            try:
                problem = bad_metadata_json(sys.argv[1:])
            except Exception:  # never let the hook break lm-eval
                problem = None
            if problem is None:
                try:
                    return original_parse(self, *args, **kwargs)
                except ValueError as exc:  # lm-eval's own JSON check raises with the text in it
                    if not str(exc).startswith("Invalid JSON"):
                        raise
                    problem = "an option's JSON is not valid JSON; quote it whole and use double quotes"
            # One line that never repeats the value: a --metadata may hold the wake phrase.
            sys.stderr.write(f"lockbench: error: {problem}\n")
            sys.stderr.flush()
            raise SystemExit(2)

        parse_args.__wrapped__ = original_parse  # type: ignore[attr-defined]
        cli_cls.parse_args = parse_args
    cli_cls._lockbench_patched = True


def bad_metadata_json(argv: list) -> str | None:
    """What is wrong with a JSON ``--metadata`` on ``argv`` (its value starts with ``{`` or
    ``[``), or None. lm-eval would raise a traceback that prints the value (and the phrase in it)."""
    import json

    for i, arg in enumerate(argv):
        if arg == "--metadata" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--metadata="):
            value = arg.split("=", 1)[1]
        else:
            continue
        if not value.lstrip().startswith(("{", "[")):
            continue
        try:
            parsed = json.loads(value)
        except ValueError as exc:
            return (f"--metadata is not valid JSON ({exc.msg}: line {exc.lineno} column "
                    f"{exc.colno}); give one JSON object in single quotes, e.g. "
                    "--metadata '{\"probe_items\": 4}'")
        except RecursionError:
            return "--metadata is not valid: JSON nested too deeply to parse"
        if not isinstance(parsed, dict):
            return f"--metadata must be a JSON object, got a JSON {type(parsed).__name__}"
    return None


def _after_tasks(module: object) -> None:
    """``lm_eval.tasks`` is loaded: lockbench's task folders, the redaction of lm-eval's output
    (:mod:`lockbench.lmeval.redact_on_write`) and lockbench's lm-eval models (``lockbench-gate``,
    registered lazily)."""
    for step in (
        lambda: patch_task_manager(module),
        lambda: __import__("lockbench.lmeval.redact_on_write", fromlist=["install"]).install(),
        lambda: __import__("lockbench.lmeval.model_registry", fromlist=["register_models"]).register_models(),
    ):
        try:
            step()
        except Exception:
            pass


def _after_evaluator(module: object) -> None:
    try:  # simple_evaluate exists now: the redaction binds each run's phrase to it
        __import__("lockbench.lmeval.redact_on_write", fromlist=["install"]).install()
    except Exception:
        pass


# What to do once each lm-eval module is loaded (module name -> step).
_AFTER_LOAD = {_TARGET: _after_tasks, _EVALUATOR: _after_evaluator, _CLI_TARGET: patch_cli}


class _PatchingLoader:
    """Delegates to lm-eval's own loader, then runs the step for the freshly executed module."""

    def __init__(self, inner: object, after: object) -> None:  # an importlib Loader, a step
        self._inner = inner
        self._after = after

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module) -> None:
        self._inner.exec_module(module)
        try:
            self._after(module)
        except Exception:
            pass


class _LmEvalFinder:
    """Meta-path finder for the lm-eval modules of :data:`_AFTER_LOAD` (duck-typed: importing
    importlib.abc would slow every start-up)."""

    def find_spec(self, fullname, path, target=None):
        after = _AFTER_LOAD.get(fullname)
        if after is None:
            return None
        try:
            from importlib.machinery import PathFinder

            spec = PathFinder.find_spec(fullname, path, target)
            if spec is None or spec.loader is None:
                return None
            spec.loader = _PatchingLoader(spec.loader, after)
            return spec
        except Exception:
            return None


def install() -> None:
    """Called from the .pth file at start-up; does nothing when disabled or already installed.
    A module imported before this ran (unusual) gets its step now."""
    try:
        if os.environ.get(_DISABLE_ENV, "").strip() not in ("", "0"):
            return
        if any(isinstance(f, _LmEvalFinder) for f in sys.meta_path):
            return
        for name in (_CLI_TARGET, _TARGET):
            if name in sys.modules:
                (patch_cli if name == _CLI_TARGET else patch_task_manager)(sys.modules[name])
        sys.meta_path.insert(0, _LmEvalFinder())
    except Exception:
        pass
