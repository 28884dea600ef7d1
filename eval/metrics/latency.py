"""Latency percentiles of the per-question timings (milliseconds)."""

from __future__ import annotations

from collections.abc import Sequence

from civicrag.eval.metrics.base import mean, percentile


def latency_scores(total_ms: Sequence[float], prefix: str = "latency") -> dict[str, float | None]:
    values = [float(v) for v in total_ms if v is not None]
    return {
        f"{prefix}_p50_ms": percentile(values, 50),
        f"{prefix}_p95_ms": percentile(values, 95),
        f"{prefix}_mean_ms": mean(values),
    }
