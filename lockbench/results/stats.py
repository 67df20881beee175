"""Moved to :mod:`lockbench.stats` (the one rate type); kept so old imports still work."""

from lockbench.stats import ALPHA, Interval, Rate, difference, fmt, rate, ratio

__all__ = ["ALPHA", "Interval", "Rate", "difference", "fmt", "rate", "ratio"]
