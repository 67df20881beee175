"""Example: "my lock still holds" as a test in a model owner's own suite.

With lockbench installed, pytest loads its plugin (entry point ``pytest11``) and the
``lockbench_gate`` fixture is available everywhere; no conftest needed.
"""

from pathlib import Path

HERE = Path(__file__).parent


def test_lock_still_holds(lockbench_gate):
    # baseline: the released checkpoint's lockbench-result; candidate: today's lm-eval output folder
    report = lockbench_gate(
        HERE / "lock" / "baseline-result.json",
        HERE / "out",
        max_lock_rise=0.02,   # PR_lock may not rise by more than 2 points (significantly)
        max_unlock_drop=0.05,  # PR_unlock may not fall by more than 5 points (significantly)
    )
    assert report["verdict"] == "holds"
