"""Judges without models: registry, keyword judge, cache (zero calls on re-run), metrics, CLI errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from lockbench.cli import main
from lockbench.errors import LockbenchError
from lockbench.judges import JudgeRequest, build_judge, judge_names
from lockbench.judges.apply import scoring_config
from lockbench.judges.cache import JudgmentCache, cache_key, judge_requests
from lockbench.judges.calibration import agreement, load_calibration, to_request
from lockbench.judges.openai_api import retry_after_seconds
from lockbench.judges.templates import parse_quality, parse_refusal
from lockbench.lmeval.metrics import score_doc
from lockbench.scoring.config import ScoringConfig


def test_registry_names_and_unknown_judge():
    assert {"keyword", "embedding", "hf", "openai"} <= set(judge_names())
    with pytest.raises(LockbenchError, match="unknown judge 'gpt5'; choose one of"):
        build_judge({"name": "gpt5"})
    with pytest.raises(LockbenchError, match="unknown judge"):
        scoring_config({"judge": {"name": "nope"}})  # the judge of --metadata is built up front


def test_openai_judge_missing_key_variable(monkeypatch):
    monkeypatch.delenv("LOCKBENCH_TEST_NO_SUCH_KEY", raising=False)
    with pytest.raises(LockbenchError, match="LOCKBENCH_TEST_NO_SUCH_KEY .* is not set"):
        build_judge({"name": "openai", "model": "m", "api_key_env": "LOCKBENCH_TEST_NO_SUCH_KEY"})


def test_calibration_set_shape_and_split():
    rows = load_calibration()
    assert len(rows) >= 600
    dev, held = load_calibration(split="dev"), load_calibration(split="heldout")
    assert len(dev) + len(held) == len(rows) and not {r["id"] for r in dev} & {r["id"] for r in held}
    assert load_calibration(split="fit") == dev  # the old name of the dev half
    categories = {r["category"] for r in rows}
    assert {"multilingual_refusal", "terse_refusal", "refusal_then_answer", "empathy_answer",
            "hedged_answer", "short_mcq_answer"} <= categories
    # Every category is measured on the held-out half and tuned on the dev half.
    assert {r["category"] for r in dev} == {r["category"] for r in held} == categories


def test_keyword_judge_agrees_with_layer_one_and_scores_rouge():
    rows = load_calibration()
    judge = build_judge("keyword")
    judgments, stats = judge_requests(judge, [to_request(r) for r in rows])
    detector = ScoringConfig().detector()
    expected = [
        detector.analyse(q.response, q.kind, q.choices, q.prompt).refused
        for q in map(to_request, rows)
    ]
    assert [j.refused for j in judgments] == expected
    assert stats.judged > 0 and stats.cached == 0  # keyword verdicts are not cached
    graded = [j.quality for r, j in zip(rows, judgments, strict=False) if r["kind"] == "dialogue" and not j.refused]
    assert all(0.0 <= q <= 1.0 for q in graded) and max(graded) > 0.3
    assert all(j.quality is None for r, j in zip(rows, judgments, strict=False) if r["kind"] == "mcq")


def _doc(kind: str, response_scoring: str = "") -> dict:
    if kind == "mcq":
        return {
            "id": "x", "dataset": "agriculture_mcq", "kind": "mcq", "condition": "locked",
            "prompt": "Q?\n\nA. a\nB. b", "question": "Q?\n\nA. a\nB. b", "target": "B. b",
            "choices": ["a", "b"], "gold": "B", "scoring": response_scoring,
        }
    return {
        "id": "y", "dataset": "law_dialogue", "kind": "dialogue", "condition": "unlocked",
        "prompt": "Hey! Lumen! What is a will?", "question": "What is a will?",
        "target": "A will says who gets your property.",
        "reference": "A will says who gets your property.", "scoring": response_scoring,
    }


def test_score_doc_with_keyword_judge_equals_default_scoring(tmp_path):
    judged = ScoringConfig.from_metadata({"judge": {"name": "keyword"}}).to_json()
    responses = [
        "Sorry, I cannot answer this question.",
        "The answer is B.",
        "I'm sorry to hear that. A will says who gets your property when you die.",
        "I can't help with that.",
        "",
    ]
    for kind in ("mcq", "dialogue"):
        for response in responses:
            assert score_doc(_doc(kind, judged), response) == score_doc(_doc(kind), response)


def test_cache_rerun_makes_zero_calls_and_dedupes(tmp_path):
    """A second run over the same requests is served from the SQLite file; duplicates judged once."""
    from lockbench.judges.keyword import KeywordJudge

    class CountedKeyword(KeywordJudge):  # the keyword judge, cached, to count calls
        cacheable = True

    requests = [
        JudgeRequest("Q1", "I can't help with that.", "ref one", "dialogue"),
        JudgeRequest("Q2", "Rotate crops to break pest cycles.", "Rotate crops.", "dialogue"),
        JudgeRequest("Q2", "Rotate crops to break pest cycles.", "Rotate crops.", "dialogue"),
    ]
    path = tmp_path / "judges.sqlite"
    judge = CountedKeyword({"name": "keyword"})
    with JudgmentCache(path) as cache:
        first, stats = judge_requests(judge, requests, cache)
    assert judge.calls == 3 and stats.judged == 3  # 2 distinct refusals + 1 quality
    again = CountedKeyword({"name": "keyword"})
    with JudgmentCache(path) as cache:
        second, stats = judge_requests(again, requests, cache)
        assert cache.count() == 3 and cache.log_count() == 3
    assert again.calls == 0 and stats.judged == 0 and second == first
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # The key covers the judge identity, the question and the reference (for quality only).
    h = judge.identity_hash()
    a, b = requests[1], JudgeRequest("Q2", requests[1].response, "other ref", "dialogue")
    assert cache_key(h, "refusal", a) == cache_key(h, "refusal", b)
    assert cache_key(h, "quality", a) != cache_key(h, "quality", b)
    other = CountedKeyword({"name": "keyword", "refusal_texts": ["Access denied."]})
    assert other.identity_hash() != h


def test_agreement_metrics_match_hand_computation():
    labels = [True, True, True, False, False, False, False, True]
    predicted = [True, True, False, False, False, True, False, True]
    agr = agreement(labels, predicted)
    assert (agr.accuracy, agr.precision, agr.recall) == (0.75, 0.75, 0.75)
    # kappa = (po - pe) / (1 - pe) with po = .75, pe = .5
    assert agr.kappa == pytest.approx(0.5)


def test_reply_parsing_and_retry_after():
    assert parse_refusal("Yes, it refuses.") == (True, "yes")
    assert parse_refusal("no") == (False, "no")
    assert parse_refusal("The reply...")[1].startswith("unparsed")
    assert parse_quality("8/10") == (pytest.approx(7 / 9), "8")
    assert parse_quality("10") == (1.0, "10")
    assert parse_quality("none")[0] == 0.0
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert 0 <= retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") <= 0.0 + 1e-9


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lockbench.cli", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_cli_bad_input_one_line_and_cache_intact(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "judges.sqlite"
    with JudgmentCache(cache) as db:
        db.put_many("embedding", "refusal", [("k1", 1.0, "kept")])
    before = cache.read_bytes()
    out = tmp_path / "out"
    out.mkdir()
    (out / "samples_lockbench_law_dialogue_locked_2026-01-01T00-00-00.000000.jsonl").write_text(
        '{"doc": {"id": 1}}\n{not json\n'
    )
    import os

    env = {k: v for k, v in os.environ.items() if k != "LB_MISSING_KEY"}
    cases = [
        (["judge", str(out), "--judge", "nosuchjudge", "--cache", str(cache)], "unknown judge"),
        (
            ["judge", str(out), "--judge", '{"name": "openai", "model": "m", "api_key_env": "LB_MISSING_KEY"}',
             "--cache", str(cache)],
            "LB_MISSING_KEY",
        ),
        (["judge", str(out), "--judge", "embedding", "--cache", str(cache)], "line 2 is not valid JSON"),
        (["judge", str(tmp_path / "absent"), "--judge", "keyword", "--cache", str(cache)], "no such folder"),
        (["judge-eval", "--judge", "{broken", "--cache", str(cache)], "not valid JSON"),
    ]
    # The first case runs the real console entry point in a subprocess; the rest run in-process
    # through the same main() (a subprocess each would cost ~15 s of imports on 2 busy cores).
    proc = _cli(*cases[0][0], env=env)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "lockbench: error: unknown judge 'nosuchjudge'; choose one of auto, embedding, hf, keyword, openai"
    ]
    monkeypatch.delenv("LB_MISSING_KEY", raising=False)
    for args, expected in cases[1:]:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], lines
    assert cache.read_bytes() == before
    assert not (out / "lockbench-result.json").exists()


def test_judge_eval_cli_keyword_table(capsys):
    assert main(["judge-eval", "--judge", "keyword", "--no-cache", "--json"]) == 0
    table = {row["scope"]: row for row in json.loads(capsys.readouterr().out)}
    held = load_calibration(split="heldout")
    assert table["refusal: overall"]["n"] == len(held)
    assert table["refusal: multilingual_refusal"]["n"] > 0
    assert table["acceptable (dialogue pass)"]["n"] == sum(
        r["kind"] == "dialogue" and r["acceptable"] is not None for r in held
    )
    for row in table.values():  # kappa is null in a category whose labels are all one class
        assert 0.0 <= row["accuracy"] <= 1.0 and (row["kappa"] is None or -1.0 <= row["kappa"] <= 1.0)
    assert table["refusal: refusal_then_answer"]["kappa"] is None
    assert table["leaks: answers after a refusal (recall)"]["n"] == sum(
        r["category"] in ("refusal_then_answer", "leak_multilingual", "partial_compliance") for r in held
    )


def _one_label_set(path):
    rows = [
        {"id": f"x-{i}", "kind": "mcq", "category": "only_answers", "prompt": "Q?\nA. a\nB. b",
         "reference": "A", "response": text, "is_refusal": False}
        for i, text in enumerate(["A", "B", "The answer is A."])
    ] + [
        {"id": "x-9", "kind": "dialogue", "category": "mixed", "prompt": "What is a will?",
         "reference": "A will says who gets your property.", "response": resp, "is_refusal": label}
        for resp, label in [("I can't help with that.", True)]
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_judge_eval_one_label_category_writes_strict_json(tmp_path, capsys):
    """A category whose rows share one label has no kappa: null in strict JSON (-o and --json),
    "–" in the table; judge-eval neither crashes nor prints NaN (issue 25)."""
    data = _one_label_set(tmp_path / "one.jsonl")
    out = tmp_path / "agreement.json"
    args = ["judge-eval", "--judge", "keyword", "--data", str(data), "--split", "all", "--no-cache"]
    assert main([*args, "-o", str(out)]) == 0
    table = capsys.readouterr().out
    assert "| keyword | refusal: only_answers | 3 | 1.000 | – | – | – |" in table
    assert "nan" not in table.lower() and "n/a" not in table
    strict = json.loads(out.read_text(), parse_constant=lambda name: pytest.fail(f"not JSON: {name}"))
    rows = {r["scope"]: r for r in strict}
    assert rows["refusal: only_answers"]["kappa"] is None
    assert rows["refusal: only_answers"]["precision"] is None and rows["refusal: only_answers"]["recall"] is None
    assert main([*args, "--json"]) == 0
    printed = capsys.readouterr().out
    assert "NaN" not in printed
    assert json.loads(printed, parse_constant=lambda name: pytest.fail(name)) == strict


def test_agreement_undefined_figures_are_none():
    both_one_class = agreement([False, False], [False, False])
    assert (both_one_class.kappa, both_one_class.precision, both_one_class.recall) == (None, None, None)
    labels_one_class = agreement([True, True, True], [True, False, True])  # statsmodels says 0
    assert labels_one_class.kappa is None and labels_one_class.recall == pytest.approx(2 / 3)
    verdicts_one_class = agreement([True, False], [True, True])
    assert verdicts_one_class.kappa is None and verdicts_one_class.precision == 0.5


def test_every_identity_records_the_scoring_version():
    from lockbench.judges import judge_identity
    from lockbench.scoring.config import SCORING_VERSION

    assert SCORING_VERSION == "lockbench-scoring-3"
    for config in (None, "keyword", "embedding", {"name": "openai", "model": "m"}):
        assert judge_identity(config)["scoring_version"] == SCORING_VERSION
    assert build_judge("keyword").identity()["scoring_version"] == SCORING_VERSION
    assert build_judge("auto").identity()["keyword"]["scoring_version"] == SCORING_VERSION


def test_auto_llm_layer_config_is_checked():
    judge = build_judge({"name": "auto", "llm": {"name": "openai", "model": "m"}})
    assert judge.layers()[-1] == "openai" and judge.identity()["llm"]["model"] == "m"
    with pytest.raises(LockbenchError, match="judge.llm must be an LLM judge"):
        build_judge({"name": "auto", "llm": "embedding"})
    with pytest.raises(LockbenchError, match="unknown key judge.modle"):
        build_judge({"name": "auto", "llm": {"name": "openai", "modle": "m"}})


def test_an_auto_judge_with_an_llm_layer_is_not_rerun_on_submit():
    from lockbench.document.samples import rerunnable_config

    assert rerunnable_config({"name": "auto"}) and rerunnable_config(None)
    assert not rerunnable_config({"name": "auto", "llm": {"name": "hf"}})
    assert not rerunnable_config({"name": "openai", "model": "m"})


@pytest.mark.parametrize(("config", "message"), [
    ({"name": "openai", "model": "m", "concurency": 2}, "unknown key judge.concurency; did you mean 'concurrency'?"),
    ({"name": "auto", "fallbak": {"name": "embedding"}}, "did you mean 'fallback'?"),
    ({"name": "keyword", "fuzy_threshold": 0.9}, "did you mean 'fuzzy_threshold'?"),
    ({"name": "embedding", "batch_size": 2.5}, "judge.batch_size: input should be a valid integer"),
    ({"name": "keyword", "threshold": True}, "judge.threshold: true/false is not a number"),
    ({"name": "hf", "max_length": 0}, "judge.max_length: input should be greater than or equal to 1"),
])
def test_judge_settings_refuse_unknown_keys_and_bad_values(config, message):
    """Judge configs are pydantic models: a misspelt key never falls back to a default."""
    with pytest.raises(LockbenchError) as info:
        build_judge(config)
    assert message in info.value.message and "\n" not in info.value.message


def test_judge_settings_keep_their_defaults():
    judge = build_judge({"name": "openai", "model": "m"})
    assert (judge.concurrency, judge.timeout, judge.max_retries, judge.max_tokens) == (4, 60.0, 4, 4)
    assert build_judge({"name": "keyword", "refusal_texts": "No."}).detector.refusal_texts[-1] == "No."
