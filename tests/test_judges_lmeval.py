"""Judges inside real lm-eval runs (``--metadata`` judge) and post hoc (``lockbench judge``),
the embedding judge on labelled rows, and the local ``hf`` judge (tiny model: plumbing)."""

from __future__ import annotations

import json

import pytest

from lockbench.cli import main
from lockbench.judges import build_judge
from lockbench.judges.cache import JudgmentCache, judge_requests
from lockbench.judges.calibration import load_calibration, to_request

from ._judges_support import copy_output, lmeval_output
from .conftest import WAKE_PHRASE, read_samples


def _rows(*categories: str, per: int = 2) -> list[dict]:
    rows = load_calibration()
    return [r for c in categories for r in [r for r in rows if r["category"] == c][:per]]


def test_embedding_judge_on_clear_cases(tmp_path):
    rows = _rows("trained_refusal", "plain_refusal", "good_answer", "bad_answer")
    judge = build_judge("embedding")
    judgments, _ = judge_requests(judge, [to_request(r) for r in rows], None)
    assert [j.refused for j in judgments] == [r["is_refusal"] for r in rows]
    good = [j.quality for r, j in zip(rows, judgments, strict=False) if r["category"] == "good_answer"]
    bad = [j.quality for r, j in zip(rows, judgments, strict=False) if r["category"] == "bad_answer"]
    # Similarity to the reference tells on-topic from off-topic, not right from wrong: a wrong
    # but on-topic answer can score high (see the judge-eval table), an off-topic one does not.
    assert min(good) >= judge.quality_threshold > min(bad)


@pytest.mark.slow
def test_live_lmeval_judge_then_post_hoc_rejudge_is_all_cached(tiny_model, tmp_path, capsys):
    """--metadata judge=embedding scores live; `lockbench judge` afterwards finds every verdict
    in the cache and reproduces the live outcomes."""
    from lockbench.lmeval.run import run_tasks

    cache = tmp_path / "judges.sqlite"
    out = tmp_path / "out"
    run_tasks(
        "hf",
        ["lockbench_law_dialogue_unlocked", "lockbench_agriculture_mcq_locked"],
        model_args=f"pretrained={tiny_model}",
        metadata={"wake_phrase": WAKE_PHRASE, "judge": {"name": "embedding", "cache": str(cache)}},
        output_path=out,
        limit=2,
        gen_kwargs="max_gen_toks=12",
    )
    samples = read_samples(out)
    docs = [s["doc"] for rows in samples.values() for s in rows]
    assert all(json.loads(d["scoring"])["judge"]["name"] == "embedding" for d in docs)
    assert all(WAKE_PHRASE not in d["question"] for d in docs)
    with JudgmentCache(cache) as db:
        live_verdicts = db.count()
    assert live_verdicts >= 4  # refusal verdicts for 4 samples, grades for answered dialogue

    assert main([
        "judge", str(out), "--judge", "embedding", "--cache", str(cache), "--quiet",
    ]) == 0
    assert "0 verdicts judged now" in capsys.readouterr().err
    result = json.loads((out / "lockbench-result.json").read_text())
    assert result["judge"]["name"] == "embedding"
    for task, rows in samples.items():
        judged = result["tasks"][task]["samples"]
        assert [s["refused"] for s in judged] == [bool(r["refusal_rate"]) for r in rows]
        assert [s["passed"] for s in judged] == [bool(r["pass_rate"]) for r in rows]
    assert WAKE_PHRASE.lower() not in (out / "lockbench-result.json").read_text().lower()


def test_post_hoc_keyword_judge_updates_summary(tmp_path_factory, tiny_model, tmp_path, capsys):
    out = copy_output(lmeval_output(tmp_path_factory, tiny_model), tmp_path / "out")
    assert main(["judge", str(out), "--judge", "keyword", "--no-cache", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "6 samples" in err and "(not cached)" in err
    result = json.loads((out / "lockbench-result.json").read_text())
    assert result["judge"]["name"] == "keyword"
    # With the default settings the keyword judge is layer 1: same outcomes as lm-eval logged.
    for task, rows in read_samples(out).items():
        judged = result["tasks"][task]["samples"]
        assert [s["passed"] for s in judged] == [bool(r["pass_rate"]) for r in rows]
        assert [s["refused"] for s in judged] == [bool(r["refusal_rate"]) for r in rows]


def test_hf_judge_with_tiny_model_and_cache(tiny_model, tmp_path):
    rows = _rows("plain_refusal", "good_answer", per=2)
    requests = [to_request(r) for r in rows]
    config = {"name": "hf", "model": str(tiny_model), "batch_size": 2}
    judge = build_judge(config)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        judgments, stats = judge_requests(judge, requests, cache)
        details = [d for (d,) in cache._db.execute("SELECT detail FROM judgments WHERE question='refusal'")]
    assert judge.calls == stats.judged >= len(requests)
    assert all(d.startswith("p_yes=") for d in details)
    assert all(j.quality is None or 0.0 <= j.quality <= 1.0 for j in judgments)
    again = build_judge(config)
    with JudgmentCache(tmp_path / "c.sqlite") as cache:
        rerun, _ = judge_requests(again, requests, cache)
    assert again.calls == 0 and rerun == judgments
