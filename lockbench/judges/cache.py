"""Persistent judgment cache (SQLite, WAL mode) and the cached way to run a judge.

Key = judge identity hash + question + prompt hash + response hash (+ reference hash for quality).
Every verdict is committed the moment the judge yields it, so a process killed with SIGKILL loses
only the requests in flight; the next run looks everything else up and makes no call for it.
Identical requests inside one run are judged once. ``judge_log`` records each stored verdict
(with the writing process id), so "judged exactly once" can be checked after a crash and resume.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from lockbench.digest import sha256_text
from lockbench.errors import LockbenchError
from lockbench.judges.base import Judge, JudgeRequest, Judgment
from lockbench.scoring.refusal import RefusalDetector, apply_policy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    key TEXT PRIMARY KEY, judge TEXT NOT NULL, question TEXT NOT NULL,
    value REAL NOT NULL, detail TEXT, created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS judge_log (key TEXT NOT NULL, pid INTEGER NOT NULL, created REAL NOT NULL);
"""


def default_cache_path() -> Path:
    """``$LOCKBENCH_JUDGE_CACHE`` or ``<lockbench cache>/judges.sqlite``."""
    env = os.environ.get("LOCKBENCH_JUDGE_CACHE")
    if env:
        return Path(env).expanduser()
    from lockbench.models.packaged import cache_dir

    return cache_dir() / "judges.sqlite"


def _sha(text: str) -> str:  # a response may hold lone surrogates: hash them, never fail
    return sha256_text(text, errors="surrogatepass")


def cache_key(judge_hash: str, question: str, request: JudgeRequest) -> str:
    parts = [judge_hash, question, _sha(request.prompt), _sha(request.response)]
    if question == "quality":  # the reference changes a grade, not a refusal verdict
        parts.append(_sha(request.reference))
    return _sha("|".join(parts))


class JudgmentCache:
    """A SQLite file in WAL mode; safe to read while another process writes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL: a commit survives the process being killed (it is in the WAL file), only
            # an OS crash could lose the last commits; no fsync per verdict.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise LockbenchError(
                f"cannot open the judge cache {self.path}: {exc}; pass another file with --cache"
            ) from None

    def get_many(self, keys: list[str]) -> dict[str, tuple[float, str | None]]:
        found: dict[str, tuple[float, str | None]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's bound-parameter limit
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, value, detail in self._db.execute(
                f"SELECT key, value, detail FROM judgments WHERE key IN ({marks})", chunk
            ):
                found[key] = (value, detail)
        return found

    def put_many(self, judge: str, question: str, rows: list[tuple[str, float, str]]) -> None:
        """Store verdicts in one transaction (committed before returning)."""
        now = time.time()
        pid = os.getpid()
        with self._db:
            self._db.execute("BEGIN")
            for key, value, detail in rows:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO judgments VALUES (?, ?, ?, ?, ?, ?)",
                    (key, judge, question, float(value), detail, now),
                )
                if cur.rowcount:
                    self._db.execute("INSERT INTO judge_log VALUES (?, ?, ?)", (key, pid, now))

    def count(self, question: str | None = None) -> int:
        if question:
            sql, args = "SELECT COUNT(*) FROM judgments WHERE question = ?", (question,)
        else:
            sql, args = "SELECT COUNT(*) FROM judgments", ()
        return int(self._db.execute(sql, args).fetchone()[0])

    def log_count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM judge_log").fetchone()[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> JudgmentCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class RunStats:
    """What a cached run did: verdicts served from the cache and verdicts newly judged."""

    cached: int = 0
    judged: int = 0


def _run_question(
    judge: Judge,
    question: str,
    requests: list[JudgeRequest],
    cache: JudgmentCache | None,
    stats: RunStats,
    progress: bool,
) -> list[tuple[float, str | None]]:
    if not requests:
        return []
    judge_hash = judge.identity_hash()
    keys = [cache_key(judge_hash, question, r) for r in requests]
    found = cache.get_many(keys) if cache is not None else {}
    results: list[tuple[float, str | None] | None] = [found.get(k) for k in keys]
    stats.cached += sum(r is not None for r in results)
    # One call per distinct missing key, however often it occurs in this run.
    todo_keys = list(dict.fromkeys(k for k, r in zip(keys, results, strict=False) if r is None))
    if todo_keys:
        first = {k: i for i, k in reversed(list(enumerate(keys)))}
        todo = [requests[first[k]] for k in todo_keys]
        method = judge.iter_refusal if question == "refusal" else judge.iter_quality
        bar = _progress(len(todo), f"{judge.name} {question}", progress)
        done: dict[str, tuple[float, str | None]] = {}
        try:
            for chunk in method(todo):
                rows = [(todo_keys[i], float(v), d) for i, v, d in chunk]
                if cache is not None:
                    cache.put_many(judge.name, question, rows)
                for key, value, detail in rows:
                    done[key] = (value, detail)
                stats.judged += len(rows)
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        results = [r if r is not None else done[k] for k, r in zip(keys, results, strict=False)]
    return results  # type: ignore[return-value]


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="resp", leave=False)


def judge_requests(
    judge: Judge,
    requests: list[JudgeRequest],
    cache: JudgmentCache | None = None,
    *,
    progress: bool = False,
    quality: bool = True,
    detector: RefusalDetector | None = None,
) -> tuple[list[Judgment], RunStats]:
    """Refusal verdicts for all requests, then quality grades for answered dialogue requests.

    Every judge's refusal verdict goes through the policy (:func:`apply_policy`): a response that
    hands over the answer after a refusal sentence is an answer, so it is graded like one.
    ``detector`` is the keyword layer that reads the refusal clauses (default: the default one).
    """
    stats = RunStats()
    use_cache = cache if judge.cacheable else None
    judge.bind_cache(cache)
    refusals = _run_question(judge, "refusal", requests, use_cache, stats, progress)
    detector = detector or _default_detector()
    decided = [
        apply_policy(
            detector.analyse(r.response, r.kind, r.choices, r.prompt), bool(v >= 0.5), r.kind
        )
        for r, (v, _) in zip(requests, refusals, strict=True)
    ]
    refused = [d[0] for d in decided]
    graded: dict[int, float] = {}
    if quality and judge.has_quality:
        wanted = [i for i, r in enumerate(requests) if r.kind == "dialogue" and not refused[i]]
        grades = _run_question(
            judge, "quality", [requests[i] for i in wanted], use_cache, stats, progress
        )
        graded = {i: float(v) for i, (v, _) in zip(wanted, grades, strict=False)}
    judgments = [
        Judgment(refused[i], graded.get(i), decided[i][1]) for i in range(len(requests))
    ]
    return judgments, stats


def judge_quality(
    judge: Judge, requests: list[JudgeRequest], cache: JudgmentCache | None = None
) -> list[float]:
    """Quality grades only, through the cache (a layered judge's quality layer)."""
    use_cache = cache if judge.cacheable else None
    judge.bind_cache(cache)
    grades = _run_question(judge, "quality", requests, use_cache, RunStats(), False)
    return [float(v) for v, _ in grades]


def _default_detector() -> RefusalDetector:
    from lockbench.scoring.config import ScoringConfig

    return ScoringConfig().detector()


def open_cache(config: dict, override: str | Path | None = None) -> JudgmentCache | None:
    """The cache a judge config asks for: ``"cache": false`` disables it, a path picks the file."""
    setting = config.get("cache", True) if override is None else override
    if setting is False or setting == "off":
        return None
    path = default_cache_path() if setting is True else Path(str(setting))
    return JudgmentCache(path)
