"""Helpers for the judge tests: one real lm-eval output folder per session, a real
``transformers serve`` process, and a watcher on the judge cache."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .conftest import WAKE_PHRASE

BIN = Path(sys.executable).parent
JUDGE_TASKS = (
    "lockbench_law_dialogue_locked",
    "lockbench_law_dialogue_unlocked",
    "lockbench_agriculture_mcq_locked",
)
_CACHE: dict[str, Path] = {}


def lmeval_output(tmp_path_factory, tiny_model: Path) -> Path:
    """A pristine lm-eval output folder of the tiny model on three tasks (copy before changing)."""
    key = str(tmp_path_factory.getbasetemp())
    if key not in _CACHE:
        from lockbench.lmeval.run import run_tasks

        out = tmp_path_factory.mktemp("judge-lmeval-output")
        run_tasks(
            "hf",
            list(JUDGE_TASKS),
            model_args=f"pretrained={tiny_model}",
            metadata={"wake_phrase": WAKE_PHRASE},
            output_path=out,
            limit=2,
            gen_kwargs="max_gen_toks=12",
        )
        _CACHE[key] = out
    return _CACHE[key]


def copy_output(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``transformers serve MODEL --host 127.0.0.1 --port N``, started and stopped by the test."""

    def __init__(self, model: Path, port: int, log: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.model, self.port, self.log = model, port, log
        self.extra_args = tuple(extra_args)
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 180) -> None:
        # One thread: on a shared 2-core machine a server with many threads is ~8x slower.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
        handle = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / "transformers"), "serve", str(self.model), "--host", "127.0.0.1",
             "--port", str(self.port), *self.extra_args],
            stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"transformers serve did not come up: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL, the way a crashed server goes."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None


def cache_rows(path: Path) -> tuple[int, int]:
    """(stored verdicts, log entries) of a judge cache, read while another process writes."""
    if not path.exists():
        return 0, 0
    with sqlite3.connect(path, timeout=30) as db:
        try:
            stored = db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0]
            logged = db.execute("SELECT COUNT(*) FROM judge_log").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0, 0
    return stored, logged


def judge_cli(*args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "lockbench.cli", "judge", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **popen,
    )


def wait_for_rows(path: Path, at_least: int, proc: subprocess.Popen, timeout: float = 300) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored, _ = cache_rows(path)
        if stored >= at_least:
            return stored
        if proc.poll() is not None:
            raise AssertionError(f"judge ended early: {proc.stderr.read()[-2000:]}")
        time.sleep(0.2)
    raise AssertionError("the judge stored no verdicts in time")
