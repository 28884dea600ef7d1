"""Evidence inside retrieved provisions: the units (항/호, (a), sentences) answers quote, and the token weights.

``UnitScore`` is a unit of the lead provision as the unit selector scored it (``rag.decision``);
``EvidenceScorer`` holds the corpus's IDF weights and a cache of tokenized texts, which the
reranker's coverage features and the LLM answer checker share.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from civicrag.legal.idf import idf_table as idf_table  # the evidence weights: BM25-style IDF over chunks
from civicrag.legal.units import Unit


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
    """Token weights (IDF over the live chunks) and tokenized texts, cached across questions.

    The texts are the corpus's (document and provision titles, attachment titles, units without stored
    tokens, the chunks an LLM answer is checked against, which compares each generated sentence once): the
    same few thousand come back question after question, so their tokens are kept. A question's own tokens
    are not worked out here but once, in ``Query.tokens``.
    """

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
