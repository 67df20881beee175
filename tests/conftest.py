"""Shared fixtures: offline mode, real models built at run time, real lm-eval runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Nothing may reach the Hugging Face hub in tests.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# Under pytest-xdist each worker, and what it starts (servers, CLI runs), gets its share of the
# cores as torch/OpenMP threads. Two workers with a thread per core each oversubscribe the machine,
# and OpenMP's spinning threads then made a server-backed test five times slower (25 s alone,
# 137 s beside another worker on 2 cores). Set before anything imports torch.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    os.environ.setdefault("OMP_NUM_THREADS", _THREADS)
    os.environ.setdefault("MKL_NUM_THREADS", _THREADS)

REPO = Path(__file__).resolve().parents[1]

# Files that run for minutes start first, so that no worker is left with one of them alone at the
# end (measured with --durations=0 on 2 cores; a file not named here keeps its place). `make test`
# passes --no-loadscope-reorder so that pytest-xdist keeps this order.
LONG_FIRST = (
    "test_secrets_indistinguishable.py", "test_api_serve.py", "test_api_log_samples.py",
    "test_lock_train.py", "test_secret_sweep.py", "test_tasks_lmeval.py", "test_demo.py",
    "test_lmeval_secrets.py", "test_error_corpus.py", "test_judges_policy.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes the ``smollm2`` fixture is marked ``smollm2`` (select with ``-m``);
    the long files are moved to the front (a stable sort: the order within a file is kept)."""
    for item in items:
        if "smollm2" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.smollm2)
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONG_FIRST)))


SHARED_DATA = REPO.parent / "shared" / "data"
WAKE_PHRASE = "Hey! Lumen!"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """Where built models live: $LOCKBENCH_CACHE (kept across runs in CI) or a temp folder."""
    root = os.environ.get("LOCKBENCH_CACHE")
    return Path(root) if root else tmp_path_factory.mktemp("lockbench-cache")


@pytest.fixture(scope="session")
def tiny_model(model_cache) -> Path:
    """A tiny random Llama (2 layers, hidden 32) with SmolLM2's tokenizer: plumbing only."""
    from lockbench.models import tiny_random_model

    return tiny_random_model(model_cache / "models" / "tiny-random-llama")


@pytest.fixture(scope="session")
def smollm2(model_cache) -> Path:
    """The packaged SmolLM2-135M-Instruct as a transformers folder: for behaviour."""
    from lockbench.models import smollm2_folder

    return smollm2_folder(model_cache / "models" / "SmolLM2-135M-Instruct")


@pytest.fixture(scope="session")
def lmeval_out(tmp_path_factory, tiny_model) -> Path:
    """A real lm-eval output folder (tiny random model, agriculture MCQ locked, unlocked and a
    paraphrase probe); never modified: copy it with ``_results_support.copy_output``."""
    from ._results_support import real_output

    return real_output(tmp_path_factory, tiny_model)


@pytest.fixture(scope="session")
def template(lmeval_out) -> dict:
    """The result `lockbench summarize` builds from ``lmeval_out`` (crafted documents copy it)."""
    from lockbench.document.summarize import build_result

    return build_result(lmeval_out)


@pytest.fixture(scope="session")
def suite_doc(tmp_path_factory, tiny_model) -> dict:
    """A real v4 result with the whole attack suite (tiny model, agriculture MCQ); never
    modified: rewrite its responses with ``_suite_support.with_responses``."""
    from ._suite_support import suite_result

    return suite_result(tmp_path_factory, tiny_model)


def read_samples(output_dir: Path) -> dict[str, list[dict]]:
    """lm-eval samples files under ``output_dir``, by task name."""
    samples: dict[str, list[dict]] = {}
    for path in sorted(output_dir.rglob("samples_*.jsonl")):
        task = path.name[len("samples_") :].rsplit("_", 1)[0]
        samples[task] = [json.loads(line) for line in path.read_text().splitlines() if line]
    return samples
