"""Sentence-level evidence inside retrieved provisions: which 항/호 (or (a)/(b)) answers the question.

A chunk is split into quotable units (one 항, one 호, one English sentence or
subsection). Each unit is scored by IDF-weighted overlap with the question's
tokens plus a small bonus when it states the kind of fact asked. The extractive
answerer quotes the best units; the refusal model reads their features.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from civicrag.legal.units import Unit, split_units
from rag.facts import FactKind, defers, states_fact
from rag.synonyms import SYNONYMS
from rag.types import ScoredChunk


@dataclass
class UnitScore:
    chunk_rank: int  # 0-based rank of the chunk in the retrieval
    unit: Unit
    overlap: float  # IDF-weighted share of the question's tokens in the unit (0..1)
    fact: bool  # states the kind of fact asked
    defers: bool  # hands the detail to an attachment or a later decision
    score: float
    text: str = ""  # the unit with the 호 it introduces (its first 10), as scored and as the answer quotes it


class EvidenceScorer:
    """Scores units against a question; token lists of unit texts are cached across questions."""

    def __init__(self, tokenize: Callable[[str], list[str]], idf: Mapping[str, float] | None = None):
        self._tokenize = tokenize
        self._idf = idf or {}
        self._cache: OrderedDict[str, frozenset[str]] = OrderedDict()

    def tokens(self, text: str) -> frozenset[str]:
        hit = self._cache.get(text)
        if hit is None:
            hit = frozenset(self._tokenize(text))
            self._cache[text] = hit
            if len(self._cache) > 20000:
                self._cache.popitem(last=False)
        return hit

    def known(self, token: str) -> bool:
        return token in self._idf

    def weight(self, token: str) -> float:
        # Unknown tokens (not in the corpus) weigh like rare ones; numbers and one-letter tokens weigh less.
        w = self._idf.get(token, 3.0)
        return w * (0.3 if len(token) == 1 or token.isdigit() else 1.0)

    def score(
        self, query_tokens: Sequence[str], kind: FactKind, chunks: Sequence[ScoredChunk], top: int = 3
    ) -> list[UnitScore]:
        """Units of the first ``top`` chunks, best first."""
        q = [t for t in dict.fromkeys(query_tokens) if not t.startswith(("제", "§", "sec", "section")) or len(t) < 3]
        total = sum(self.weight(t) for t in q) or 1.0
        out: list[UnitScore] = []
        for rank, scored in enumerate(chunks[:top]):
            header_tokens = self.tokens(
                f"{scored.chunk.metadata.get('article_title', '')} {scored.chunk.metadata.get('title', '')}"
            )
            units = split_units(scored.chunk.text)
            for unit in units:
                # A lead-in's facts and words are in its 호 ("다음 각 호의 관공서": the list names them;
                # "② … 100분의 50을 감면한다" + "1. 경형자동차"); the answer quotes them together, so they
                # count together.
                full_text = " ".join([unit.text, *(units[i].text for i in unit.children[:10])])
                toks = self.tokens(full_text)
                # The article title and document name count half: they frame every unit of the article.
                overlap = sum(
                    self.weight(t) * (1.0 if _has(toks, t) else 0.5 if _has(header_tokens, t) else 0.0) for t in q
                )
                overlap /= total
                fact = states_fact(kind, full_text) if kind != "other" else False
                # Handing a detail elsewhere matters only when the unit does not state the asked fact
                # itself ("3시부터 … 배출하되, 요일은 규칙으로 정한다" answers "몇 시에").
                deferral = defers(unit.text) and not fact
                prior = 1.0 / (1.0 + 0.35 * rank)
                s = prior * (overlap + (0.15 if fact else 0.0) - (0.1 if deferral and kind != "other" else 0.0))
                out.append(UnitScore(rank, unit, overlap, fact, deferral, s, full_text))
        out.sort(key=lambda u: (-u.score, u.chunk_rank, u.unit.index))
        return out


def _has(tokens: frozenset[str], token: str) -> bool:
    """The unit uses the word, or the regulations' term for it: "경차" is asked, "1. 경형자동차" answers."""
    return token in tokens or any(s in tokens for s in SYNONYMS.get(token, ()))


def idf_table(token_lists: Sequence[Sequence[str]]) -> dict[str, float]:
    """Document frequencies over chunk token lists, as BM25-style IDF."""
    df: dict[str, int] = {}
    for toks in token_lists:
        for t in set(toks):
            df[t] = df.get(t, 0) + 1
    n = max(1, len(token_lists))
    return {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
