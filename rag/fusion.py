"""Fusing ranked lists from several retrieval legs into one ranking.

Two methods, chosen by ``retrieval.fusion`` and measured on the calibration set:
- ``rrf``: reciprocal rank fusion, Σ w / (k + rank). Scale-free, so BM25's unbounded
  scores and cosines in a narrow band mix without tuning.
- ``weighted``: convex combination of per-leg scores min-max normalised over each
  leg's candidates (AutoRAG's "convex" fusion). Keeps score gaps that RRF discards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

FusionMethod = Literal["rrf", "weighted"]


@dataclass
class Fused:
    row: int
    score: float
    legs: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)


def fuse(
    rankings: Mapping[str, Sequence[tuple[int, float]]],
    method: FusionMethod = "rrf",
    weights: Mapping[str, float] | None = None,
    rrf_k: int = 60,
) -> list[Fused]:
    """One ranking from several legs' ``[(row, raw score), ...]`` lists (each best first)."""
    weights = weights or {}
    table: dict[int, Fused] = {}
    for leg, ranked in rankings.items():
        w = float(weights.get(leg, 1.0))
        if not ranked or w == 0:
            continue
        scores = [s for _, s in ranked]
        hi, lo = max(scores), min(scores)
        span = hi - lo
        for rank, (row, raw) in enumerate(ranked, start=1):
            entry = table.setdefault(row, Fused(row, 0.0))
            entry.legs[leg] = float(raw)
            entry.ranks[leg] = rank
            if method == "rrf":
                entry.score += w / (rrf_k + rank)
            else:
                # A leg whose candidates all tie carries no preference: each gets half its weight.
                entry.score += w * ((raw - lo) / span if span > 0 else 0.5)
    return sorted(table.values(), key=lambda f: (-f.score, f.row))
