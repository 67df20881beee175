""""My lock still holds" as a test in a model owner's own suite (a pytest plugin).

Installed with lockbench and registered through the ``pytest11`` entry point, so in any project
that has lockbench installed::

    def test_lock_holds(lockbench_gate):
        lockbench_gate("baseline-result.json", "runs/candidate-output/",
                       max_lock_rise=0.02, max_unlock_drop=0.05)

or without the fixture::

    from lockbench.testing import assert_lock_holds
    assert_lock_holds("baseline-result.json", "runs/candidate-output/", max_lock_rise=0.02)

Both sides accept a ``lockbench-result`` JSON or an lm-eval output folder. A regression fails
the test with the table of what changed; bad input (a truncated file, another tool's JSON) fails
it with lockbench's one-line message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lockbench.errors import LockbenchError


def _describe(report: dict[str, Any]) -> str:
    lines = [f"lockbench check: {report['verdict']} (regressions: {', '.join(report['regressions'])})"]
    for r in report["rows"]:
        lines.append(
            f"  {r['task']}: {r['baseline_pr']:.3f} -> {r['candidate_pr']:.3f} "
            f"({r['delta']:+.3f}; fail->pass {r['fail_to_pass']}, pass->fail {r['pass_to_fail']}, "
            f"p={r['p_value']:.3g}) {r['verdict']}"
        )
    return "\n".join(lines)


def assert_lock_holds(
    baseline: str | Path | dict,
    candidate: str | Path | dict,
    *,
    max_lock_rise: float = 0.0,
    max_unlock_drop: float = 0.0,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Raise ``AssertionError`` when ``candidate``'s lock regressed against ``baseline``.

    Each side is a path (result JSON or lm-eval output folder) or an already loaded result
    document. Returns the check report (the same JSON ``lockbench check --json`` writes).
    """
    from lockbench.publish.regression import compare, load_any

    try:
        base = baseline if isinstance(baseline, dict) else load_any(baseline)
        cand = candidate if isinstance(candidate, dict) else load_any(candidate)
        report = compare(base, cand, max_lock_rise=max_lock_rise,
                         max_unlock_drop=max_unlock_drop, alpha=alpha)
    except LockbenchError as exc:  # SystemExit subclass: turn it into a plain test failure
        raise AssertionError(f"lockbench check could not run: {exc.message}") from None
    if report["regressions"]:
        raise AssertionError(_describe(report))
    return report


@pytest.fixture
def lockbench_gate():
    """The :func:`assert_lock_holds` function, as a fixture."""
    return assert_lock_holds
