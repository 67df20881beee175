"""What a recomputation raises when a stated figure does not follow from the samples, and how
it compares and shows the two values (shared by the document's checks and the attack block's)."""

from __future__ import annotations

import math
from typing import Any

from lockbench import stats
from lockbench.errors import LockbenchError

# Floats are compared with a tolerance: statsmodels on another platform may differ in the last bits.
REL_TOL = 1e-9
ABS_TOL = 1e-9


class Mismatch(LockbenchError):
    """A number that does not recompute, a response that does not re-score, or a sample list that
    does not match the dataset."""


def close(a: Any, b: Any) -> bool:
    """Equal up to float tolerance, through nested dicts and lists (bools compared exactly)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def show(value: Any) -> str:
    """A stated or recomputed value as one short readable token for an error line."""
    if isinstance(value, dict) and "value" in value:
        return stats.fmt(value, 4)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def stated_vs(where: str, stated: Any, expected: Any) -> None:
    """Raise :class:`Mismatch` when a stated figure is not what the samples give."""
    if not close(stated, expected):
        raise Mismatch(f"{where} is {show(stated)} but the samples give {show(expected)}; "
                       "the numbers were changed after the attack ran")
