from __future__ import annotations

import pytest
from civicrag.eval.metrics.base import mean, percentile, rate
from civicrag.eval.metrics.latency import latency_scores


def test_percentiles_interpolate_like_numpy() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    assert percentile(values, 50) == 30.0
    assert percentile(values, 95) == pytest.approx(88.0)  # numpy.percentile(values, 95)
    assert percentile([5.0], 95) == 5.0
    assert percentile([], 50) is None


def test_latency_scores() -> None:
    s = latency_scores([30.0, 10.0, 20.0])
    assert s == {"latency_p50_ms": 20.0, "latency_p95_ms": pytest.approx(29.0), "latency_mean_ms": 20.0}
    assert latency_scores([])["latency_p50_ms"] is None


def test_mean_and_rate_skip_undefined() -> None:
    assert mean([1.0, None, 0.0]) == 0.5
    assert mean([None]) is None
    assert rate([True, False, None, True]) == pytest.approx(2 / 3)
