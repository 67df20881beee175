"""One wake phrase pushed through every command that sees it; afterwards no file written and no
line printed holds the phrase or any variant derived from it (any letter case, JSON-escaped or
not), except the documented D' training files, which must hold it (they train the lock).

Commands: lock build, lock train (with checkpoints), demo (tiny base model), probes, lm_eval
(phrase from the environment), summarize, judge (with its cache), report, submit, leaderboard,
check, serve-locked (and its server log). Binary files (weights, the SQLite judge cache) are
scanned as bytes too.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from lockbench.document.redact import escaped_forms
from lockbench.probes import secret_variants
from lockbench.secrets import contains_secret

from ._results_support import BIN, run_cli

PHRASE = "Hey! Quillon!"
# The secret-bearing training files (documented: `lock build` and `demo` say they hold the phrase).
DPRIME = ("dprime.jsonl", "demo/secret-dprime.jsonl")


def _forms() -> list[str]:
    secrets = [PHRASE, *secret_variants(PHRASE)]
    return secrets + escaped_forms(secrets)


def _leaks(root: Path, allowed: set[Path]) -> list[str]:
    forms = _forms()
    found = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path not in allowed:
            text = path.read_bytes().decode("utf-8", errors="ignore")
            if contains_secret(text, forms):
                found.append(str(path.relative_to(root)))
    return found


def _serve_once(folder: Path, env: dict[str, str]) -> tuple[str, Path | None]:
    """Start `lockbench serve-locked`, wait until it serves, stop it; its output and log path."""
    proc = subprocess.Popen(
        [str(BIN / "lockbench"), "serve-locked", str(folder), "--port", "0", "--no-api-key"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C stops the server" in line:
                break
    finally:
        os.killpg(proc.pid, 2)  # Ctrl-C: serve-locked stops the server and prints it
        rest, _ = proc.communicate(timeout=120)
        lines.append(rest)
    output = "".join(lines)
    assert "serving" in output, output[-2000:]
    log = next((Path(w.split("log: ", 1)[1].split(")")[0]) for w in output.splitlines() if "log: " in w), None)
    return output, log


def test_one_phrase_through_every_command(tmp_path, tiny_model, capsys, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", PHRASE)
    monkeypatch.setenv("LOCKBENCH_JUDGE_CACHE", str(work / "judge-cache.sqlite"))
    outputs: dict[str, str] = {}

    def cli(name: str, *args) -> None:
        code, out, err = run_cli(list(args), capsys)
        assert code == 0, f"{name}: {err[-2000:]}"
        outputs[name] = out + err

    cli("lock build", "lock", "build", "--dataset", "agriculture_mcq", "--output", work / "dprime.jsonl")
    cli("lock train", "lock", "train", "--base", tiny_model, "--data", work / "dprime.jsonl",
        "--output", work / "locked", "--max-steps", "4", "--save-every", "2", "--batch-size", "4", "--merge")
    cli("demo", "demo", "--base", tiny_model, "--output", work / "demo", "--max-steps", "2",
        "--limit", "2", "--traversal-budget", "4", "--eval-batch-size", "8",
        "--wake-phrase-env", "LOCKBENCH_WAKE_PHRASE")
    cli("probes", "probes", "--json")

    env = dict(os.environ)
    out = work / "out"
    proc = subprocess.run(
        [str(BIN / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={work / 'locked' / 'merged'}",
         "--tasks", "lockbench_agriculture_mcq_locked,lockbench_agriculture_mcq_unlocked,"
                    "lockbench_agriculture_mcq_probe_paraphrase",
         "--gen_kwargs", "max_gen_toks=4", "--batch_size", "16",
         "--device", "cpu", "--output_path", str(out), "--log_samples", "--write_out"],
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert PHRASE not in " ".join(proc.args)
    outputs["lm_eval"] = proc.stdout + proc.stderr

    result = work / "result.json"
    cli("summarize", "summarize", out, "--json", result)
    cli("judge", "judge", out, "--judge", "keyword", "--json-path", work / "judged.json", "--quiet")
    cli("report", "report", result, "-o", work / "report.html")
    cli("submit", "submit", result, "--results-dir", work / "results")
    cli("leaderboard", "leaderboard", "--results-dir", work / "results")
    cli("check", "check", "--baseline", result, "--candidate", work / "judged.json",
        "--max-lock-rise", "0.02", "--max-unlock-drop", "0.05", "--json", work / "check.json")
    served, log = _serve_once(work / "locked", env)
    outputs["serve-locked"] = served

    # The training files hold the phrase (they must: the lock is trained on it) ...
    for name in DPRIME:
        assert PHRASE in (work / name).read_text(encoding="utf-8"), name
    # ... and nothing else does.
    allowed = {work / name for name in DPRIME}
    assert _leaks(work, set()) == sorted(DPRIME)  # the scan finds what is there
    assert _leaks(work, allowed) == []
    if log is not None and log.exists():
        assert not contains_secret(log.read_bytes().decode("utf-8", errors="ignore"), _forms()), log
    forms = _forms()
    leaked = [name for name, text in outputs.items() if contains_secret(text, forms)]
    assert leaked == [], leaked
    assert (work / "judge-cache.sqlite").stat().st_size > 0 and list((work / "results").rglob("*.json"))
