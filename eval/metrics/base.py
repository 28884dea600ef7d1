"""Aggregation shared by the metric modules.

Per-question values are ``float | None``: None means "does not apply" (no gold for an
unanswerable question, no facts listed) and is left out of means rather than counted as 0,
so a metric's mean is always over the questions it is defined for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the defined values; None when there are none."""
    got = [float(v) for v in values if v is not None]
    return sum(got) / len(got) if got else None


def rate(flags: Iterable[bool | None]) -> float | None:
    """Share of True among the defined flags."""
    return mean(None if f is None else (1.0 if f else 0.0) for f in flags)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between order statistics (numpy's default)."""
    if not values:
        return None
    ordered = sorted(float(v) for v in values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def safe_div(num: float, den: float) -> float:
    """num / den, with 0 for an empty denominator (sklearn's zero_division=0)."""
    return num / den if den else 0.0


def f1(precision: float | None, recall: float | None) -> float | None:
    if precision is None or recall is None:
        return None
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0
