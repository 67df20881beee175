"""Intervals for every rate lockbench reports (statsmodels; 95% by default).

A rate is a dict ``{"value", "low", "high", "k", "n"}`` so a reader can recompute it.
"""

from __future__ import annotations

from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

ALPHA = 0.05


def rate(k: int, n: int, alpha: float = ALPHA) -> dict | None:
    """Wilson score interval: 0 of 200 still allows up to ~1.9%."""
    if n <= 0:
        return None
    low, high = proportion_confint(k, n, alpha=alpha, method="wilson")
    return {"value": k / n, "low": float(low), "high": float(high), "k": int(k), "n": int(n)}


def difference(a: dict | None, b: dict | None, alpha: float = ALPHA) -> dict | None:
    """a − b for two independent proportions, Newcombe's hybrid score interval."""
    if not a or not b:
        return None
    low, high = confint_proportions_2indep(
        a["k"], a["n"], b["k"], b["n"], method="newcomb", compare="diff", alpha=alpha
    )
    return {"value": a["value"] - b["value"], "low": float(low), "high": float(high)}


def ratio(a: dict | None, b: dict | None, alpha: float = ALPHA) -> dict | None:
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


def fmt(r: dict | None, digits: int = 2) -> str:
    """``0.95 [0.88, 0.98]``, or ``–`` when absent."""
    if not r:
        return "–"
    hi = "?" if r.get("high") is None else f"{r['high']:.{digits}f}"
    return f"{r['value']:.{digits}f} [{r['low']:.{digits}f}, {hi}]"
