"""Ranked-retrieval metrics: hit@k, MRR@k and nDCG@k with binary relevance and several gold items.

The ranking is a list of keys, best first: doc ids (document level) or (doc_id, article)
tuples (article level). Several chunks of one document or article are one result, so the
ranking is first de-duplicated keeping each key's best position; otherwise three chunks of
a wrong article would push the right one to rank 4 at article level while counting once.

Ties: by default the system's order stands (it is what a reader sees and what gets cited).
With ``scores`` and ``ties="pessimistic"``, a gold key tied in score with non-gold keys is
placed after them, so arbitrary tie-breaking (e.g. by chunk id) cannot earn credit.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Literal, TypeVar

K = TypeVar("K", bound=Hashable)
TieMode = Literal["order", "pessimistic"]


def dedupe(ranked: Sequence[K], scores: Sequence[float] | None = None) -> tuple[list[K], list[float] | None]:
    """Keys in first-seen order (and the score each had there)."""
    seen: set[K] = set()
    keys: list[K] = []
    kept: list[float] = []
    for i, key in enumerate(ranked):
        if key in seen:
            continue
        seen.add(key)
        keys.append(key)
        if scores is not None:
            kept.append(float(scores[i]))
    return keys, (kept if scores is not None else None)


def gold_ranks(
    ranked: Sequence[K], gold: Sequence[K] | set[K], scores: Sequence[float] | None = None, ties: TieMode = "order"
) -> list[int]:
    """1-based ranks of the distinct gold keys found in ``ranked`` (after de-duplication), ascending."""
    wanted = set(gold)
    keys, kept = dedupe(ranked, scores)
    ranks: list[int] = []
    for i, key in enumerate(keys):
        if key not in wanted:
            continue
        rank = i + 1
        if ties == "pessimistic" and kept is not None:
            # Move behind every non-gold key with the same score (those after it in the tie group).
            rank += sum(1 for j in range(i + 1, len(keys)) if kept[j] == kept[i] and keys[j] not in wanted)
        ranks.append(rank)
    return sorted(ranks)


def hit_at(ranks: Sequence[int], k: int) -> float:
    """1.0 when any gold key is within the top k."""
    return 1.0 if any(r <= k for r in ranks) else 0.0


def mrr_at(ranks: Sequence[int], k: int) -> float:
    """Reciprocal rank of the first gold key within the top k, else 0."""
    best = min((r for r in ranks if r <= k), default=None)
    return 1.0 / best if best else 0.0


def ndcg_at(ranks: Sequence[int], n_gold: int, k: int) -> float:
    """Binary-relevance nDCG@k: every distinct gold key is equally relevant, found once."""
    if n_gold <= 0:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in ranks if r <= k)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(n_gold, k) + 1))
    return dcg / ideal


def recall_at(ranks: Sequence[int], n_gold: int, k: int) -> float:
    """Share of the distinct gold keys within the top k."""
    return sum(1 for r in ranks if r <= k) / n_gold if n_gold else 0.0


HIT_KS = (1, 3, 5, 10)


def retrieval_scores(
    ranked: Sequence[K],
    gold: Sequence[K],
    prefix: str,
    scores: Sequence[float] | None = None,
    ties: TieMode = "order",
    k: int = 10,
) -> dict[str, float]:
    """``{prefix}_hit@1/3/5/10``, ``{prefix}_mrr@10``, ``{prefix}_ndcg@10``, ``{prefix}_recall@10`` for one question."""
    distinct = list(dict.fromkeys(gold))
    ranks = gold_ranks(ranked, distinct, scores, ties)
    out = {f"{prefix}_hit@{n}": hit_at(ranks, n) for n in HIT_KS}
    out[f"{prefix}_mrr@{k}"] = mrr_at(ranks, k)
    out[f"{prefix}_ndcg@{k}"] = ndcg_at(ranks, len(distinct), k)
    out[f"{prefix}_recall@{k}"] = recall_at(ranks, len(distinct), k)
    return out
