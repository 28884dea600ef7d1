"""Citation precision and recall against the gold provisions (article level, labels normalised).

Keys are compared as sets: citing one article twice (two chunks of it) is one citation.
Nothing cited on an answerable question gives precision 0, not "undefined": an answer
without sources is exactly what staff cannot use, and excluding it would let a system that
cites less look more precise.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from civicrag.eval.metrics.base import f1, safe_div


def citation_scores(cited: Sequence[Hashable], gold: Sequence[Hashable], prefix: str = "citation") -> dict[str, float]:
    predicted, wanted = set(cited), set(gold)
    correct = len(predicted & wanted)
    precision = safe_div(correct, len(predicted))
    recall = safe_div(correct, len(wanted))
    return {
        f"{prefix}_precision": precision,
        f"{prefix}_recall": recall,
        f"{prefix}_f1": f1(precision, recall) or 0.0,
    }
