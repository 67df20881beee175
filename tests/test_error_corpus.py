"""A corpus of malformed inputs, one per row, against every entry point.

Each case must end with exit status 2, exactly one line on stderr that names the problem, no
traceback, and no file written or changed in its workspace (no partial output). Most cases call
``lockbench.cli.main`` in-process (fast); a few ``lm_eval`` cases run the real CLI in a
subprocess; the run-time ``--metadata`` cases also go through lm-eval's ``simple_evaluate``
in-process with lm-eval's own ``dummy`` model (the task is built before any model call).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lockbench.cli import main
from lockbench.errors import LockbenchError

from ._results_support import tree
from .conftest import REPO, WAKE_PHRASE

DEMO_RESULT = next(p for p in (REPO / "results" / "smollm2-135m-instruct-identitylock-demo").glob("*.json")
                   if not p.name.endswith(".verify.json"))
GOOD_MCQ = {"id": "q1", "question": "Which crop fixes nitrogen?",
            "choices": ["Wheat", "Beans", "Maize", "Rice"], "answer": 1}
GOOD_DIALOGUE = {"id": "d1", "input": "How do I store grain?", "output": "Keep it dry and cool."}
UNWRITABLE = "/proc/lockbench-corpus/out.json"  # cannot be created, even by root


@dataclass
class Case:
    id: str
    argv: list[str]
    setup: Callable[[Path], None] | None = None
    env: dict[str, str | None] = field(default_factory=dict)
    xfail: str | None = None
    needs_out: bool = False  # copies a real lm-eval output folder (tiny model) to {tmp}/out


CASES: list[Case] = []


def case(id: str, argv: list[str], setup=None, env=None, xfail=None, needs_out=False) -> None:
    CASES.append(Case(id, argv, setup, env or {}, xfail, needs_out))


# --- file builders ---------------------------------------------------------------------------
def write_lines(path: Path, lines: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if lines and isinstance(lines[0], bytes):
        path.write_bytes(b"\n".join(lines) + b"\n")
        return
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


def mcq_rows(**change) -> list:
    """One MCQ row with fields changed (``...`` drops the field)."""
    row = {**GOOD_MCQ, **change}
    return [{k: v for k, v in row.items() if v is not ...}]


# Malformed MCQ files: (id, lines). Each replaces agriculture/mcq_<split>.jsonl.
BAD_MCQ: list[tuple[str, list]] = [
    ("non-utf8", [b'{"id": "q1", "question": "Caf\xe9?", "choices": ["a","b","c","d"], "answer": 0}']),
    ("truncated-json", ['{"id": "q1", "question": "Q?", "choices": ["a", "b"']),
    ("nan-value", ['{"id": "q1", "question": "Q?", "choices": ["a","b","c","d"], "answer": NaN}']),
    ("row-is-list", [["q1", "Q?"]]),
    ("row-is-string", ['"just text"']),
    ("answer-boolean", mcq_rows(answer=True)),
    ("answer-out-of-range", mcq_rows(answer=4)),
    ("answer-negative", mcq_rows(answer=-1)),
    ("answer-letter-E", mcq_rows(answer="E")),
    ("answer-missing", mcq_rows(answer=...)),
    ("question-blank", mcq_rows(question="   ")),
    ("question-missing", mcq_rows(question=...)),
    ("three-choices", mcq_rows(choices=["a", "b", "c"])),
    ("empty-choice", mcq_rows(choices=["a", "", "c", "d"])),
    ("numeric-choices", mcq_rows(choices=[1, 2, 3, 4])),
    ("id-blank", mcq_rows(id=" ")),
    ("duplicate-id", [GOOD_MCQ, GOOD_MCQ]),
    ("empty-file", []),
]
BAD_DIALOGUE: list[tuple[str, list]] = [
    ("input-blank", [{**GOOD_DIALOGUE, "input": "  "}]),
    ("output-missing", [{"id": "d1", "input": "Q?"}]),
    ("input-number", [{**GOOD_DIALOGUE, "input": 42}]),
    ("non-utf8", [b'{"id": "d1", "input": "\xff\xfe", "output": "x"}']),
]


def data_dir_with(kind: str, split: str, lines: list) -> Callable[[Path], None]:
    return lambda tmp: write_lines(tmp / "data" / "agriculture" / f"{kind}_{split}.jsonl", lines)


for name, lines in BAD_MCQ:
    case(f"probes-data-mcq-{name}", ["probes", "--dataset", "agriculture_mcq", "--data-dir", "{tmp}/data"],
         data_dir_with("mcq", "test", lines))
    case(f"lock-build-data-dir-mcq-{name}",
         ["lock", "build", "--dataset", "agriculture_mcq", "--data-dir", "{tmp}/data", "-o", "{tmp}/d.jsonl"],
         data_dir_with("mcq", "train", lines))
    case(f"lock-build-file-mcq-{name}",
         ["lock", "build", "--dataset", "mcq:{tmp}/data/agriculture/mcq_train.jsonl", "-o", "{tmp}/d.jsonl"],
         data_dir_with("mcq", "train", lines))
for name, lines in BAD_DIALOGUE:
    case(f"probes-data-dialogue-{name}",
         ["probes", "--dataset", "agriculture_dialogue", "--data-dir", "{tmp}/data"],
         data_dir_with("dialogue", "test", lines))
    case(f"lock-build-file-dialogue-{name}",
         ["lock", "build", "--dataset", "dialogue:{tmp}/data/agriculture/dialogue_train.jsonl",
          "-o", "{tmp}/d.jsonl"], data_dir_with("dialogue", "train", lines))

# --- data_dir itself (before: every one of these silently used the bundled data) ---------------
BAD_DATA_DIRS = {
    "missing": (None, "{tmp}/nope"),
    "is-a-file": (lambda t: (t / "f.jsonl").write_text("{}\n"), "{tmp}/f.jsonl"),
    "no-layout": (lambda t: (t / "mine" / "questions.jsonl").parent.mkdir() or
                  (t / "mine" / "questions.jsonl").write_text(json.dumps(GOOD_MCQ) + "\n"), "{tmp}/mine"),
}
for name, (setup, path) in BAD_DATA_DIRS.items():
    case(f"probes-data-dir-{name}", ["probes", "--data-dir", path], setup)
    case(f"lock-build-data-dir-{name}",
         ["lock", "build", "--dataset", "agriculture_mcq", "--data-dir", path, "-o", "{tmp}/d.jsonl"], setup)
case("lock-build-real-set-missing-subject",
     ["lock", "build", "--dataset", "mmlu_jurisprudence", "--data-dir", "{tmp}/data", "-o", "{tmp}/d.jsonl"],
     lambda t: (t / "data" / "mmlu").mkdir(parents=True))

# --- wake phrase sources -----------------------------------------------------------------------
case("probes-phrase-file-non-utf8", ["probes", "--wake-phrase-file", "{tmp}/p.txt"],
     lambda t: (t / "p.txt").write_bytes(b"Hey! \xff\xfeLumen!\n"))
case("probes-phrase-file-empty", ["probes", "--wake-phrase-file", "{tmp}/p.txt"],
     lambda t: (t / "p.txt").write_text("\n"))
case("probes-phrase-file-missing", ["probes", "--wake-phrase-file", "{tmp}/p.txt"])
case("probes-phrase-file-is-folder", ["probes", "--wake-phrase-file", "{tmp}"])
case("lock-build-phrase-env-unset",
     ["lock", "build", "--dataset", "agriculture_mcq", "--wake-phrase-env", "LB_NOT_SET", "-o", "{tmp}/d.jsonl"],
     env={"LB_NOT_SET": None})
case("redact-phrase-env-unset", ["redact", "{tmp}", "--wake-phrase-env", "LB_NOT_SET"],
     env={"LB_NOT_SET": None})
case("probes-unknown-family", ["probes", "--family", "telepathy"])
case("probes-unknown-dataset", ["probes", "--dataset", "agriculture_mcqq"])
case("probes-zero-budget", ["probes", "--traversal-budget", "0"])
case("probes-negative-budget", ["probes", "--traversal-budget", "-3"])

# --- D' training files (lock train reads them before loading any model) ------------------------
GOOD_ROW = {"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]}
BAD_LOCK_SETS: list[tuple[str, list]] = [
    ("non-utf8", [b'{"messages": [{"role": "user", "content": "\xff"}]}']),
    ("truncated-json", ['{"messages": [{"role": "user"']),
    ("messages-string", [{"messages": "Q and A"}]),
    ("messages-list-of-strings", [{"messages": ["Q", "A"]}]),
    ("last-turn-user", [{"messages": [{"role": "assistant", "content": "A"}, {"role": "user", "content": "Q"}]}]),
    ("content-number", [{"messages": [{"role": "user", "content": 1}, {"role": "assistant", "content": "A"}]}]),
    ("single-turn", [{"messages": [{"role": "assistant", "content": "A"}]}]),
    ("row-is-list", [[GOOD_ROW]]),
    ("empty-file", []),
]
for name, lines in BAD_LOCK_SETS:
    case(f"lock-train-data-{name}",
         ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}/d.jsonl", "-o", "{tmp}/lock"],
         lambda t, lines=lines: write_lines(t / "d.jsonl", lines))
case("lock-train-data-missing",
     ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}/d.jsonl", "-o", "{tmp}/lock"])
case("lock-train-data-is-folder",
     ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}", "-o", "{tmp}/lock"])
for flag, value in [("--lr", "-1"), ("--epochs", "0"), ("--batch-size", "0"), ("--lora-r", "0"),
                    ("--max-length", "0"), ("--lr", "nan"), ("--batch-size", "two")]:
    case(f"lock-train-{flag.strip('-')}-{value}",
         ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}/d.jsonl", "-o", "{tmp}/lock", flag, value],
         lambda t: write_lines(t / "d.jsonl", [GOOD_ROW]))
case("lock-build-ratio-above-one", ["lock", "build", "--dataset", "agriculture_mcq", "--ratio", "1.5",
                                    "-o", "{tmp}/d.jsonl"])
case("lock-build-output-is-folder", ["lock", "build", "--dataset", "agriculture_mcq", "-o", "{tmp}"])
case("lock-build-openai-output-is-folder", ["lock", "build", "--dataset", "agriculture_mcq", "-o", "{tmp}/d.jsonl",
                                           "--openai-output", "{tmp}"])
case("lock-build-openai-output-unwritable", ["lock", "build", "--dataset", "agriculture_mcq", "-o",
                                             "{tmp}/d.jsonl", "--openai-output", UNWRITABLE])
case("lock-build-output-unwritable", ["lock", "build", "--dataset", "agriculture_mcq", "-o", UNWRITABLE])


# --- result files (check, report, submit, leaderboard) -----------------------------------------
def demo_doc() -> dict:
    return json.loads(DEMO_RESULT.read_text())


def result_file(mutate: Callable[[dict], object] | None = None, text: Callable[[str], str] | None = None,
                name: str = "r.json") -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        doc = demo_doc()
        if mutate:
            doc = mutate(doc) or doc
        out = json.dumps(doc, indent=1)
        (tmp / name).write_text(text(out) if text else out)
    return setup


def _set(path: list, value):
    def mutate(doc: dict):
        target = doc
        for key in path[:-1]:
            target = target[key] if not isinstance(target, list) else target[int(key)]
        target[path[-1]] = value
    return mutate


def _first_task(doc: dict) -> str:
    return sorted(doc["tasks"])[0]


BAD_RESULTS: list[tuple[str, Callable[[Path], None], str | None]] = [
    ("truncated", result_file(text=lambda s: s[: len(s) // 2]), None),
    ("empty", lambda t: (t / "r.json").write_text(""), None),
    ("json-list", lambda t: (t / "r.json").write_text("[]"), None),
    ("not-json", lambda t: (t / "r.json").write_text("schema: lockbench-result\n"), None),
    ("non-utf8", lambda t: (t / "r.json").write_bytes(b'{"schema": "\xff"}'), None),
    ("other-schema", result_file(_set(["schema"], "something-else")), None),
    ("no-tasks", result_file(lambda d: d.pop("tasks")), None),
    ("tasks-is-list", result_file(_set(["tasks"], [])), None),
    ("nan-lock-ratio", result_file(_set(["lock", "ratio"], float("nan"))), None),
    ("samples-not-list", result_file(lambda d: d["tasks"][_first_task(d)].__setitem__("samples", "x")), None),
    ("passed-is-text", result_file(lambda d: d["tasks"][_first_task(d)]["samples"][0].__setitem__("passed", "yes")),
     None),
]
for name, setup, xfail in BAD_RESULTS:
    case(f"check-baseline-{name}",
         ["check", "--baseline", "{tmp}/r.json", "--candidate", str(DEMO_RESULT),
          "--max-lock-rise", "0", "--max-unlock-drop", "0"], setup, xfail=xfail)
    case(f"report-{name}", ["report", "{tmp}/r.json", "-o", "{tmp}/report.html"], setup, xfail=xfail)
    case(f"submit-{name}", ["submit", "{tmp}/r.json", "--results-dir", "{tmp}/results"], setup, xfail=xfail)


def _drop_task(doc: dict) -> None:
    doc["tasks"].pop("lockbench_law_mcq_locked")


def _rename_items(doc: dict) -> None:
    for sample in doc["tasks"]["lockbench_law_mcq_locked"]["samples"]:
        sample["item_id"] = "other-" + sample["item_id"]
        sample["doc_id"] += 1000


GATE = ["--max-lock-rise", "0.02", "--max-unlock-drop", "0.05"]
case("check-candidate-lacks-a-task",
     ["check", "--baseline", str(DEMO_RESULT), "--candidate", "{tmp}/r.json", *GATE], result_file(_drop_task),
     xfail=None)
case("check-no-common-items",
     ["check", "--baseline", str(DEMO_RESULT), "--candidate", "{tmp}/r.json", *GATE], result_file(_rename_items))
case("check-baseline-missing", ["check", "--baseline", "{tmp}/nope.json", "--candidate", str(DEMO_RESULT), *GATE])
case("check-baseline-empty-folder", ["check", "--baseline", "{tmp}/out", "--candidate", str(DEMO_RESULT), *GATE],
     lambda t: (t / "out").mkdir())
for flag, value in [("--alpha", "2"), ("--alpha", "0"), ("--alpha", "nan"), ("--max-lock-rise", "-0.1"),
                    ("--max-unlock-drop", "1.5"), ("--max-lock-rise", "a lot")]:
    argv = ["check", "--baseline", str(DEMO_RESULT), "--candidate", str(DEMO_RESULT), *GATE, flag, value]
    case(f"check-{flag.strip('-')}-{value.replace(' ', '-')}", argv)
case("check-json-is-folder", ["check", "--baseline", str(DEMO_RESULT), "--candidate", str(DEMO_RESULT), *GATE,
                              "--json", "{tmp}"])
case("check-json-unwritable", ["check", "--baseline", str(DEMO_RESULT), "--candidate", str(DEMO_RESULT), *GATE,
                               "--json", UNWRITABLE])
case("report-output-is-folder", ["report", str(DEMO_RESULT), "-o", "{tmp}"])
case("report-output-unwritable", ["report", str(DEMO_RESULT), "-o", UNWRITABLE])
case("report-source-missing", ["report", "{tmp}/nope.json"])
case("submit-results-dir-is-file", ["submit", str(DEMO_RESULT), "--results-dir", "{tmp}/f"],
     lambda t: (t / "f").write_text("x"))
case("leaderboard-results-dir-missing", ["leaderboard", "--results-dir", "{tmp}/nope"])
case("leaderboard-results-dir-is-file", ["leaderboard", "--results-dir", "{tmp}/f"],
     lambda t: (t / "f").write_text("x"))
# A corrupt file under results/ is not the leaderboard's bad input: it is listed as rejected
# (tests/test_results_leaderboard.py), and the pages are built.

# --- summarize / judge / redact on folders -----------------------------------------------------
case("summarize-folder-missing", ["summarize", "{tmp}/nope"])
case("summarize-folder-is-file", ["summarize", "{tmp}/f"], lambda t: (t / "f").write_text("x"))
case("summarize-folder-empty", ["summarize", "{tmp}/out"], lambda t: (t / "out").mkdir())
case("summarize-results-truncated", ["summarize", "{tmp}/out"],
     lambda t: (t / "out" / "m").mkdir(parents=True) or (t / "out" / "m" / "results_2026.json").write_text('{"res'))
case("judge-folder-missing", ["judge", "{tmp}/nope", "--judge", "keyword"])
case("judge-unknown-name", ["judge", "{tmp}", "--judge", "oracle-of-delphi"])
case("judge-bad-json", ["judge", "{tmp}", "--judge", '{"name": "keyword",'])
case("judge-fuzzy-nan", ["judge", "{tmp}", "--judge", '{"name": "keyword", "fuzzy_threshold": NaN}'])
case("judge-batch-size-fraction", ["judge", "{tmp}", "--judge", '{"name": "embedding", "batch_size": 2.5}'])
case("judge-threshold-boolean", ["judge", "{tmp}", "--judge", '{"name": "keyword", "threshold": true}'])
case("judge-timeout-negative", ["judge", "{tmp}", "--judge", '{"name": "openai", "model": "m", "timeout": -1}'])
case("judge-eval-unknown-judge", ["judge-eval", "--judge", "oracle-of-delphi"])
case("judge-eval-data-missing", ["judge-eval", "--judge", "keyword", "--data", "{tmp}/nope.jsonl"])
case("judge-eval-data-non-utf8", ["judge-eval", "--judge", "keyword", "--data", "{tmp}/c.jsonl"],
     lambda t: (t / "c.jsonl").write_bytes(b'{"response": "\xff"}\n'))
case("redact-folder-missing", ["redact", "{tmp}/nope"])

# --- model, serve, ping-api, the parser --------------------------------------------------------
case("model-output-is-file", ["model", "smollm2", "--output", "{tmp}/f"], lambda t: (t / "f").write_text("x"))
case("serve-folder-missing", ["serve-locked", "{tmp}/nope"])
case("serve-folder-is-file", ["serve-locked", "{tmp}/f"], lambda t: (t / "f").write_text("x"))
case("ping-timeout-negative", ["ping-api", "--base-url", "http://127.0.0.1:9", "--model", "m", "--timeout", "-1"])
case("ping-timeout-text", ["ping-api", "--base-url", "http://127.0.0.1:9", "--model", "m", "--timeout", "soon"])
case("ping-url-no-scheme", ["ping-api", "--base-url", "127.0.0.1:8000", "--model", "m"])
case("ping-url-no-host", ["ping-api", "--base-url", "http://", "--model", "m"])
case("ping-url-bad-port", ["ping-api", "--base-url", "http://127.0.0.1:99999/v1", "--model", "m"])
case("ping-url-port-text", ["ping-api", "--base-url", "http://127.0.0.1:port/v1", "--model", "m"])
case("ping-url-space", ["ping-api", "--base-url", "http://exa mple.org/v1", "--model", "m"])
case("ping-refused", ["ping-api", "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--timeout", "5"])
for flag, value in [("--limit", "0"), ("--lr", "-1"), ("--max-steps", "0"), ("--epochs", "inf"),
                    ("--eval-batch-size", "many"), ("--threads", "-2")]:
    case(f"demo-{flag.strip('-')}-{value}", ["demo", "--output", "{tmp}/demo", flag, value])
case("demo-output-is-file", ["demo", "--output", "{tmp}/f"], lambda t: (t / "f").write_text("x"))
case("demo-submit-is-file", ["demo", "--output", "{tmp}/demo", "--submit", "{tmp}/f"],
     lambda t: (t / "f").write_text("x"))
case("attack-threads-negative", ["attack", "finetune", "--model", "{tmp}", "-o", "{tmp}/o", "--threads", "-1"])
case("attack-threads-zero", ["attack", "durability", "--model", "{tmp}", "-o", "{tmp}/o", "--threads", "0"])
case("attack-result-is-folder", ["attack", "finetune", "--model", "{tmp}", "-o", "{tmp}/o", "--k", "0",
                                 "--result", "{tmp}"])
case("model-output-unwritable", ["model", "smollm2", "--output", "/proc/lockbench-corpus/model"])

# --- on a real lm-eval output folder -----------------------------------------------------------
case("summarize-json-is-folder", ["summarize", "{tmp}/out", "--json", "{tmp}"], needs_out=True)
case("summarize-json-unwritable", ["summarize", "{tmp}/out", "--json", UNWRITABLE], needs_out=True)
case("summarize-no-folder", ["summarize"])
case("summarize-json-file-no-folder", ["summarize", "--json", "{tmp}/r.json"])
case("summarize-lock-card-missing", ["summarize", "{tmp}/out", "--lock-card", "{tmp}/card.json"], needs_out=True)
case("summarize-lock-card-truncated", ["summarize", "{tmp}/out", "--lock-card", "{tmp}/card.json"],
     lambda t: (t / "card.json").write_text('{"method": "lo'), needs_out=True)
case("summarize-lock-card-list", ["summarize", "{tmp}/out", "--lock-card", "{tmp}/card.json"],
     lambda t: (t / "card.json").write_text("[]"), needs_out=True)
case("summarize-base-missing", ["summarize", "{tmp}/out", "--base", "{tmp}/nope"], needs_out=True)
case("report-lmeval-output-is-folder", ["report", "{tmp}/out", "-o", "{tmp}/out"], needs_out=True)
case("check-folder-json-unwritable", ["check", "--baseline", "{tmp}/out", "--candidate", "{tmp}/out", *GATE,
                                      "--json", UNWRITABLE], needs_out=True)
case("redact-phrase-env-blank", ["redact", "{tmp}/out", "--wake-phrase-env", "LB_BLANK"], env={"LB_BLANK": " "},
     needs_out=True)
case("judge-nan-threshold-on-output", ["judge", "{tmp}/out", "--judge", '{"name": "keyword", "threshold": NaN}'],
     needs_out=True)
case("unknown-command", ["teleport"])
case("no-command", [])

# --- issue 27: inputs that used to end in an internal error (exit 3) ----------------------------
DEEP = "[" * 100_000 + "]" * 100_000  # deeper than Python's JSON parser can recurse


def deep_file(name: str) -> Callable[[Path], None]:
    return lambda t: (t / name).write_text(DEEP + "\n")


case("lock-train-output-is-file",
     ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}/d.jsonl", "-o", "{tmp}/f"],
     lambda t: write_lines(t / "d.jsonl", [GOOD_ROW]) or (t / "f").write_text("x"))
case("lock-train-output-under-a-file",
     ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}/d.jsonl", "-o", "{tmp}/f/lock"],
     lambda t: write_lines(t / "d.jsonl", [GOOD_ROW]) or (t / "f").write_text("x"))
case("submit-deep-json", ["submit", "{tmp}/r.json", "--results-dir", "{tmp}/results"], deep_file("r.json"))
case("report-deep-json", ["report", "{tmp}/r.json", "-o", "{tmp}/report.html"], deep_file("r.json"))
case("check-deep-json", ["check", "--baseline", "{tmp}/r.json", "--candidate", str(DEMO_RESULT), *GATE],
     deep_file("r.json"))
case("summarize-lock-card-deep-json", ["summarize", "{tmp}/out", "--lock-card", "{tmp}/card.json"],
     deep_file("card.json"), needs_out=True)
case("lock-train-data-deep-json",
     ["lock", "train", "--base", "{tmp}/no-base", "--data", "{tmp}/d.jsonl", "-o", "{tmp}/lock"], deep_file("d.jsonl"))
case("lock-build-file-deep-json", ["lock", "build", "--dataset", "mcq:{tmp}/d.jsonl", "-o", "{tmp}/o.jsonl"],
     deep_file("d.jsonl"))
case("judge-deep-json", ["judge", "{tmp}", "--judge", "{" + '"a":' * 1 + DEEP + "}"])
case("unknown-option", ["check", "--baseline", "a", "--candidate", "b", *GATE, "--strict"])



@pytest.mark.parametrize("c", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(reason=c.xfail, strict=True)]
                                            if c.xfail else []) for c in CASES])
def test_malformed_input_exits_2_in_one_line(c: Case, tmp_path: Path, monkeypatch, capsys, request) -> None:
    if c.needs_out:
        shutil.copytree(request.getfixturevalue("lmeval_out"), tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)
    for key, value in c.env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    if c.setup:
        c.setup(tmp_path)
    before = tree(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in c.argv]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    _, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("lockbench"), err
    assert WAKE_PHRASE not in err
    assert tree(tmp_path) == before, "a file was written or changed"


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 100, len(CASES)


class _NotJson(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that answers 200 with HTML: ping-api must say it is not an API."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<html>hello</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_ping_api_non_json_200(capsys) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotJson)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        code = main(["ping-api", "--base-url", f"http://127.0.0.1:{server.server_port}", "--model", "m",
                     "--timeout", "10"])
    finally:
        server.shutdown()
    err = capsys.readouterr().err
    assert code == 2 and "not with JSON" in err and len(err.strip().splitlines()) == 1, err


# --- lm-eval: run-time --metadata through the real harness -------------------------------------
BAD_METADATA = [
    ("typo-key", {"rouge_treshold": 0.3}, "did you mean 'rouge_threshold'"),
    ("unknown-key", {"colour": "blue"}, "unknown --metadata key 'colour'"),
    ("data-dir-missing", {"data_dir": "/nonexistent/lockbench"}, "does not exist"),
    ("data-dir-is-file", {"data_dir": str(DEMO_RESULT)}, "is a file"),
    ("data-dir-number", {"data_dir": 5}, "data_dir"),
    ("rouge-threshold-text", {"rouge_threshold": "high"}, "rouge_threshold"),
    ("rouge-threshold-above-one", {"rouge_threshold": 3}, "rouge_threshold"),
    ("replace-refusals-maybe", {"replace_default_refusals": "maybe"}, "replace_default_refusals"),
    ("refusal-patterns-number", {"refusal_patterns": 7}, "refusal_patterns"),
    ("refusal-pattern-bad-regex", {"refusal_patterns": ["(unclosed"]}, "regex|pattern"),
    ("judge-unknown", {"judge": "oracle-of-delphi"}, "unknown judge"),
    ("judge-nan", {"judge": {"name": "keyword", "fuzzy_threshold": float("nan")}}, "fuzzy_threshold"),
    ("unlocked-without-phrase", {}, "no wake phrase"),
]


@pytest.mark.parametrize("metadata, message", [pytest.param(m, msg, id=i) for i, m, msg in BAD_METADATA])
def test_bad_metadata_stops_the_lm_eval_run(metadata, message, tmp_path) -> None:
    from lockbench.lmeval.run import run_tasks

    if message != "no wake phrase":
        metadata = {"wake_phrase": WAKE_PHRASE, **metadata}
    with pytest.raises(LockbenchError) as info:
        run_tasks("dummy", ["lockbench_agriculture_dialogue_unlocked"], metadata=metadata,
                  output_path=tmp_path / "out", limit=1, device="cpu")
    assert info.value.exit_code == 2
    assert "\n" not in info.value.message and re.search(message, info.value.message)
    assert not (tmp_path / "out").exists()


LM_EVAL_RUNS = [
    ("console-script-typo", ["lm_eval"], {"wake_phrse": WAKE_PHRASE}, "did you mean 'wake_phrase'"),
    ("python-m-data-dir", ["python", "-m", "lm_eval"], {"data_dir": "/nonexistent/lockbench"}, "does not exist"),
]


@pytest.mark.slow
@pytest.mark.parametrize("how, metadata, message", [pytest.param(h, m, msg, id=i) for i, h, m, msg in LM_EVAL_RUNS])
def test_lm_eval_cli_exits_2_with_one_line(how, metadata, message, tmp_path) -> None:
    """The real ``lm_eval`` CLI: a lockbench error is one line and exit 2 (it used to exit 1)."""
    bindir = Path(sys.executable).parent
    cmd = [str(bindir / "lm_eval")] if how == ["lm_eval"] else [sys.executable, "-m", "lm_eval"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [*cmd, "--model", "dummy", "--tasks", "lockbench_agriculture_mcq_locked", "--limit", "1",
         "--metadata", json.dumps(metadata), "--output_path", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    ours = [line for line in proc.stderr.splitlines() if line.startswith("lockbench: error:")]
    assert len(ours) == 1 and message in ours[0], proc.stderr[-2000:]
    assert proc.stderr.rstrip().splitlines()[-1] == ours[0]
    assert not (tmp_path / "out").exists()


BAD_METADATA_JSON = [
    ("unclosed-object", ["--metadata", '{"wake_phrase": "' + WAKE_PHRASE + '"'], "--metadata is not valid JSON"),
    ("single-quotes", ["--metadata", "{'wake_phrase': '" + WAKE_PHRASE + "'}"], "--metadata is not valid JSON"),
    ("equals-form-list", ["--metadata=[1, 2]"], "--metadata must be a JSON object"),
    # 20,000 levels: past the parser's recursion limit, within one argument's size limit
    ("deep", ["--metadata", "[" * 20_000 + "]" * 20_000], "nested too deeply"),
]


@pytest.mark.parametrize("argv, message", [pytest.param(a, m, id=i) for i, a, m in BAD_METADATA_JSON])
def test_lm_eval_bad_metadata_json_is_one_line(argv, message, tmp_path) -> None:
    """The real ``lm_eval`` CLI with a --metadata that is not a JSON object: lm-eval's own parser
    raised a traceback that printed the value, phrase and all; the start-up hook answers first."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "lm_eval"), "--model", "dummy", "--tasks",
         "lockbench_agriculture_mcq_locked", "--limit", "1", *argv, "--output_path", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("lockbench: error:"), proc.stderr[-2000:]
    assert message in proc.stderr and WAKE_PHRASE not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_no_command_is_one_line_exit_2() -> None:
    """``lockbench`` alone (a real process): one error line on stderr, exit 2, not the help page."""
    proc = subprocess.run([sys.executable, "-m", "lockbench"], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "no command given" in proc.stderr


def test_unexpected_exception_is_exit_3_not_1(tmp_path, monkeypatch, capsys) -> None:
    """A bug must never read as "holds" (0) or "regression" (1) in CI."""
    import lockbench.commands.tasks_path as command

    def broken(args) -> int:  # a real fault cannot be provoked on demand: this stands in for a bug
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(command, "run", broken)
    assert main(["tasks-path"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: ZeroDivisionError" in err and "Traceback" not in err
    monkeypatch.setenv("LOCKBENCH_DEBUG", "1")
    assert main(["tasks-path"]) == 3
    assert "Traceback" in capsys.readouterr().err


def test_python_m_lockbench_runs(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "lockbench", "check", "--baseline", str(tmp_path / "x.json"),
                           "--candidate", str(DEMO_RESULT), *GATE], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
