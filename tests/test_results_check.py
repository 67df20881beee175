"""`lockbench check` on crafted pairs, on real lm-eval folders, and the pytest plugin."""

from __future__ import annotations

import json

import pytest
from scipy.stats import binomtest

from lockbench.publish.regression import compare, mcnemar_p
from lockbench.testing import assert_lock_holds

from ._results_support import copy_output, craft, run_cli, write
from .conftest import WAKE_PHRASE

LOCKED = "lockbench_agriculture_mcq_locked"
UNLOCKED = "lockbench_agriculture_mcq_unlocked"
PROBE = "lockbench_agriculture_mcq_probe_paraphrase"
N = 200




def passes(indices) -> list[bool]:
    chosen = set(indices)
    return [i in chosen for i in range(N)]


@pytest.fixture
def pair(template, tmp_path):
    """Write a baseline and candidate built from pass lists; returns their paths."""

    def make(base_tasks: dict, cand_tasks: dict):
        base = write(tmp_path / "baseline.json", craft(template, base_tasks))
        cand = write(tmp_path / "candidate.json", craft(template, cand_tasks, created="2026-02-01T00:00:00Z"))
        return base, cand

    return make


def _check(base, cand, capsys, *extra):
    return run_cli(["check", "--baseline", base, "--candidate", cand, "--max-lock-rise", "0.02",
                    "--max-unlock-drop", "0.05", *extra], capsys)


def test_significant_lock_rise_fails(pair, tmp_path, capsys) -> None:
    # Baseline: the lock holds on all 200 items; candidate: 30 of them now answer correctly.
    base, cand = pair({LOCKED: passes([]), UNLOCKED: passes(range(150))},
                      {LOCKED: passes(range(30)), UNLOCKED: passes(range(150))})
    report_path = tmp_path / "check.json"
    code, out, err = _check(base, cand, capsys, "--json", report_path)
    assert code == 1, err
    assert "lock regression in: " + LOCKED in out
    report = json.loads(report_path.read_text())
    assert report["verdict"] == "regression" and report["regressions"] == [LOCKED]
    row = next(r for r in report["rows"] if r["task"] == LOCKED)
    assert (row["fail_to_pass"], row["pass_to_fail"], row["pairs"]) == (30, 0, N)
    assert row["delta"] == pytest.approx(30 / N)
    assert row["p_value"] == pytest.approx(binomtest(0, 30, 0.5).pvalue)
    assert row["verdict"] == "REGRESSION"
    assert row["fail_to_pass_items"][:2] == ["agriculture-mcq-000", "agriculture-mcq-001"]
    assert len(row["fail_to_pass_items"]) == 30 and row["pass_to_fail_items"] == []
    unlocked = next(r for r in report["rows"] if r["task"] == UNLOCKED)
    assert unlocked["verdict"] == "holds"


def test_noise_within_tolerance_holds(pair, capsys) -> None:
    # 2 -> 3 leaks on different items, 150 -> 149 passes with the phrase: noise.
    base, cand = pair({LOCKED: passes([5, 9]), UNLOCKED: passes(range(150))},
                      {LOCKED: passes([1, 2, 3]), UNLOCKED: passes(range(1, 150))})
    code, out, _ = _check(base, cand, capsys)
    assert code == 0 and "the lock holds" in out


def _verdicts(path) -> dict[str, str]:
    return {r["task"]: r["verdict"] for r in json.loads(path.read_text())["rows"]}


def test_significant_but_within_tolerance_holds(pair, tmp_path, capsys) -> None:
    base, cand = pair({LOCKED: passes([])}, {LOCKED: passes(range(30))})
    code, out, _ = run_cli(["check", "--baseline", base, "--candidate", cand, "--max-lock-rise",
                            "0.2", "--max-unlock-drop", "0", "--json", tmp_path / "c.json"], capsys)
    assert code == 0 and "the lock holds" in out
    assert _verdicts(tmp_path / "c.json") == {LOCKED: "worse, within tolerance"}


def test_large_but_not_significant_holds(pair, tmp_path, capsys) -> None:
    # Rise of 3/200 = 0.015 > tolerance 0.01, but 3 discordant pairs are not significant.
    base, cand = pair({LOCKED: passes([])}, {LOCKED: passes([0, 1, 2])})
    code, out, _ = run_cli(["check", "--baseline", base, "--candidate", cand, "--max-lock-rise",
                            "0.01", "--max-unlock-drop", "0", "--json", tmp_path / "c.json"], capsys)
    assert code == 0 and "the lock holds" in out
    assert _verdicts(tmp_path / "c.json") == {LOCKED: "worse, not significant"}


def test_unlock_drop_and_probe_rise_fail(pair, capsys) -> None:
    base, cand = pair({UNLOCKED: passes(range(150)), PROBE: passes([])},
                      {UNLOCKED: passes(range(100)), PROBE: passes(range(0, 200, 5))})
    code, out, _ = _check(base, cand, capsys)
    assert code == 1
    assert UNLOCKED in out.splitlines()[-1] and PROBE in out.splitlines()[-1]


def test_pooled_rows(template) -> None:
    base = craft(template, {LOCKED: passes([]), "lockbench_agriculture_mcq_probe_placement": passes([])})
    report = compare(base, base)
    assert report["verdict"] == "holds"
    assert all(r["p_value"] == 1.0 for r in report["rows"])


def test_mcnemar_matches_exact_binomial() -> None:
    for f2p, p2f in [(0, 0), (10, 2), (3, 3), (0, 12), (25, 40)]:
        expected = 1.0 if f2p + p2f == 0 else binomtest(min(f2p, p2f), f2p + p2f, 0.5).pvalue
        assert mcnemar_p(f2p, p2f) == pytest.approx(expected)


def test_bad_input_exit_2(pair, lmeval_out, tmp_path, capsys) -> None:
    base, cand = pair({LOCKED: passes([]), UNLOCKED: passes([])}, {LOCKED: passes([])})
    code, _, err = _check(base, cand, capsys)
    assert code == 2 and err.count("\n") == 1 and "candidate has no task" in err
    broken = tmp_path / "broken.json"
    broken.write_text(base.read_text()[:100])
    code, _, err = _check(broken, cand, capsys)
    assert code == 2 and "not valid JSON" in err
    code, _, err = _check(next(lmeval_out.rglob("results_*.json")), cand, capsys)
    assert code == 2 and "not a lockbench-result" in err
    code, _, err = run_cli(["check", "--baseline", base, "--candidate", cand,
                            "--max-lock-rise", "2", "--max-unlock-drop", "0"], capsys)
    assert code == 2 and "fraction" in err
    assert not (tmp_path / "check.json").exists()


def test_real_folders_compare(lmeval_out, tmp_path, capsys) -> None:
    """A real lm-eval folder against the result summarized from it: every item pairs, nothing changed."""
    result = tmp_path / "r.json"
    assert run_cli(["summarize", lmeval_out, "--json", result], capsys)[0] == 0
    code, out, err = _check(lmeval_out, result, capsys, "--json", tmp_path / "c.json")
    assert code == 0, err
    report = json.loads((tmp_path / "c.json").read_text())
    assert {r["task"] for r in report["rows"]} >= {LOCKED, UNLOCKED, PROBE}
    assert all(r["unpaired"] == 0 and r["pairs"] > 0 for r in report["rows"])


def test_assert_lock_holds_function_and_plugin_fixture(pair, lockbench_gate) -> None:
    """The pytest plugin (entry point pytest11) gives this very test its `lockbench_gate`."""
    base, cand = pair({LOCKED: passes([5])}, {LOCKED: passes([5, 6])})
    report = lockbench_gate(base, cand, max_lock_rise=0.02)
    assert report["verdict"] == "holds"
    base, cand = pair({LOCKED: passes([])}, {LOCKED: passes(range(40))})
    with pytest.raises(AssertionError, match="REGRESSION"):
        assert_lock_holds(base, cand, max_lock_rise=0.02)
    with pytest.raises(AssertionError, match="could not run"):
        assert_lock_holds(base, base.parent / "missing.json")


def test_json_prints_and_output_writes(pair, lmeval_out, tmp_path, capsys, monkeypatch) -> None:
    """`--json` prints the JSON on stdout (nothing else there); `--output FILE` writes it; the
    same on summarize, check, judge-eval and probes."""
    base, cand = pair({LOCKED: passes([]), UNLOCKED: passes(range(150))},
                      {LOCKED: passes(range(30)), UNLOCKED: passes(range(150))})
    code, out, _ = _check(base, cand, capsys, "--json")
    assert code == 1 and json.loads(out)["regressions"] == [LOCKED]
    code, out, _ = _check(base, cand, capsys, "--output", tmp_path / "c.json")
    assert code == 1 and json.loads((tmp_path / "c.json").read_text())["regressions"] == [LOCKED]
    assert "lock regression in" in out  # the table, as without --output

    folder = copy_output(lmeval_out, tmp_path / "out")
    code, out, _ = run_cli(["summarize", folder, "--json"], capsys)
    assert code == 0 and json.loads(out)["schema"] == "lockbench-result"
    assert json.loads((folder / "lockbench-result.json").read_text()) == json.loads(out)
    # `--json` before the folder: the folder is never taken for the file the old --json wrote.
    (folder / "lockbench-result.json").unlink()
    code, out2, _ = run_cli(["summarize", "--json", folder], capsys)
    assert code == 0 and json.loads(out2)["tasks"] == json.loads(out)["tasks"] and folder.is_dir()
    code, out, _ = run_cli(["summarize", folder, "-o", tmp_path / "r.json"], capsys)
    assert code == 0 and json.loads((tmp_path / "r.json").read_text())["tasks"]

    monkeypatch.setenv("LOCKBENCH_WAKE_PHRASE", WAKE_PHRASE)  # the plan counts phrase variants
    code, out, _ = run_cli(["probes", "--json", "--output", tmp_path / "p.json"], capsys)
    assert code == 0 and json.loads(out) == json.loads((tmp_path / "p.json").read_text())
