"""The one rate type of lockbench: every rate it reports (pass and refusal rates, attack success,
unlock and false-reject rates) is a :class:`Rate`, made by :func:`rate`, with a 95% interval.

Results, probes and the result schema (``$defs/rate``) all use this shape, so a reader can
recompute any rate from its ``k`` and ``n``. Derived quantities (a difference, a ratio) are an
:class:`Interval`.
"""

from __future__ import annotations

from typing import TypedDict

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

ALPHA = 0.05


class Rate(TypedDict):
    """``k`` of ``n`` (n >= 1) with a Wilson score interval."""

    value: float
    low: float
    high: float
    k: int
    n: int


class Interval(TypedDict):
    """A derived quantity with its interval; ``high`` is None when unbounded."""

    value: float
    low: float
    high: float | None


def rate(k: int, n: int, alpha: float = ALPHA) -> Rate | None:
    """Wilson score interval (0 of 200 still allows up to ~1.9%); None when there is no sample."""
    if n <= 0:
        return None
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return {"value": k / n, "low": float(low), "high": float(high), "k": int(k), "n": int(n)}


def counts(r: Rate | None) -> tuple[int, int]:
    """``(k, n)`` of a rate, ``(0, 0)`` for an absent one (so rates can be pooled by summing)."""
    return (r["k"], r["n"]) if r else (0, 0)


def difference(a: Rate | None, b: Rate | None, alpha: float = ALPHA) -> Interval | None:
    """a − b for two independent proportions, Newcombe's hybrid score interval."""
    if not a or not b:
        return None
    low, high = confint_proportions_2indep(
        a["k"], a["n"], b["k"], b["n"], method="newcomb", compare="diff", alpha=alpha
    )
    return {"value": a["value"] - b["value"], "low": float(low), "high": float(high)}


def ratio(a: Rate | None, b: Rate | None, alpha: float = ALPHA) -> Interval | None:
    """a / b (utility retention), log-adjusted interval; None when b is 0."""
    if not a or not b or b["k"] == 0:
        return None
    value = a["value"] / b["value"]
    if a["k"] == 0:
        return {"value": 0.0, "low": 0.0, "high": None}
    low, high = confint_proportions_2indep(
        a["k"], a["n"], b["k"], b["n"], method="log-adjusted", compare="ratio", alpha=alpha
    )
    return {"value": value, "low": float(low), "high": float(high)}


def fmt(r: Rate | Interval | None, digits: int = 2) -> str:
    """``0.95 [0.88, 0.98]``, or ``–`` when absent."""
    if not r:
        return "–"
    hi = "?" if r.get("high") is None else f"{r['high']:.{digits}f}"
    return f"{r['value']:.{digits}f} [{r['low']:.{digits}f}, {hi}]"
