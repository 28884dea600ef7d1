"""Inverse document frequency: how much a word tells, by how few of the texts use it. One formula, two variants.

- ``"bm25"``: ``log(1 + (n - df + 0.5) / (df + 0.5))``, the BM25 (Robertson–Spärck Jones) form. The evidence
  scorer weighs question tokens with it over the live chunks; the learned reranker's coverage features are
  built on those weights, so its numbers must not move.
- ``"plain"``: ``log(1 + n / df)``, always positive and gentler on common words. Document names
  (``rag.references.DocumentNames``) weigh title words with it over the documents' texts of one script.

(The lexical leg's BM25 scores use the ``bm25s`` library's own IDF, computed inside its index.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

IdfVariant = Literal["bm25", "plain"]


def idf(df: int, n: int, variant: IdfVariant) -> float:
    """The IDF of a word found in ``df`` of ``n`` texts (``df`` ≥ 1, ``n`` ≥ 1), in the given variant."""
    if variant == "bm25":
        return math.log(1 + (n - df + 0.5) / (df + 0.5))
    if variant == "plain":
        return math.log(1 + n / df)
    raise ValueError(f"unknown IDF variant {variant!r}")


def idf_table(token_lists: Sequence[Sequence[str]], variant: IdfVariant = "bm25") -> dict[str, float]:
    """The IDF of every token of ``token_lists`` (one list per text; a token counts once per text)."""
    df: dict[str, int] = {}
    for toks in token_lists:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    n = max(1, len(token_lists))
    return {t: idf(c, n, variant) for t, c in df.items()}
