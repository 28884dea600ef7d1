"""Refusal precision, recall and F1: the positive class is "refused", the truth is "not answerable".

Also the false-refusal rate (answerable questions refused), because a system can buy refusal
recall by refusing everything and F1 alone hides how much that costs staff.
"""

from __future__ import annotations

from collections.abc import Sequence

from civicrag.eval.metrics.base import f1, safe_div


def refusal_scores(refused: Sequence[bool], answerable: Sequence[bool]) -> dict[str, float | None]:
    if len(refused) != len(answerable):
        raise ValueError("refused and answerable must have the same length")
    tp = sum(1 for r, a in zip(refused, answerable, strict=True) if r and not a)
    fp = sum(1 for r, a in zip(refused, answerable, strict=True) if r and a)
    fn = sum(1 for r, a in zip(refused, answerable, strict=True) if not r and not a)
    n_unanswerable = tp + fn
    n_answerable = sum(1 for a in answerable if a)
    if n_unanswerable == 0 and tp + fp == 0:
        precision = recall = None  # nothing to refuse and nothing refused: undefined, not perfect
    else:
        precision = safe_div(tp, tp + fp)
        recall = safe_div(tp, n_unanswerable) if n_unanswerable else None
    return {
        "refusal_precision": precision,
        "refusal_recall": recall,
        "refusal_f1": f1(precision, recall),
        "false_refusal_rate": safe_div(fp, n_answerable) if n_answerable else None,
    }
