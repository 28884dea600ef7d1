"""Deterministic metrics, one small module each (ragas-style); ``base`` holds the shared aggregation.

Every function is pure over (gold, predicted) values so it can be tested with hand-made cases.
"""

from civicrag.eval.metrics.base import mean, percentile, rate

__all__ = ["mean", "percentile", "rate"]
