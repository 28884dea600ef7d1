"""Retrieved chunks grouped into candidate provisions, each with its quotable units and their vectors.

The reranker decides between *provisions* (an article, a section), not chunks: a long
article split into three chunks is one candidate, and the unit that answers may sit in
any of its chunks. Each unit carries the vector ingest embedded for it
(``civicrag.legal.units``), so the question is compared with the sentence that answers it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from civicrag.rag.catalogue import Catalogue
from civicrag.rag.types import ScoredChunk

from civicrag.legal.units import Unit, split_units, unit_context


@dataclass
class CandidateUnit:
    chunk: ScoredChunk  # the chunk the unit is quoted from
    unit: Unit
    text: str  # the unit in context (a 호 after its lead-in), as quoted and as scored
    vector: np.ndarray | None
    tokens: frozenset[str] = frozenset()  # lexical tokens of ``text`` (the unit, its lead-in, its items)


@dataclass
class Candidate:
    doc_id: str
    article: str
    chunks: list[ScoredChunk]  # this provision's chunks in the retrieval, best first
    rank: int  # 0-based rank of its best chunk in the fused retrieval
    units: list[CandidateUnit] = field(default_factory=list)
    score: float = 0.0  # the reranker's probability that it answers
    features: dict[str, float] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc_id, self.article)

    @property
    def best(self) -> ScoredChunk:
        return self.chunks[0]

    @property
    def pinned(self) -> bool:
        return any(c.pinned for c in self.chunks)

    @property
    def jurisdiction(self) -> str:
        return str(self.best.chunk.metadata.get("jurisdiction", ""))


class UnitVectors:
    """The units of every live chunk as ingest stored them: one vector matrix and one token set per unit,
    addressed by catalogue row."""

    def __init__(self, matrix: np.ndarray, offsets: np.ndarray, counts: np.ndarray,
                 tokens: Sequence[frozenset[str] | None] = ()):
        self.matrix = matrix
        self.offsets = offsets
        self.counts = counts
        self.tokens = list(tokens) or [None] * len(matrix)

    @classmethod
    def build(cls, catalogue: Catalogue, rows: Sequence[tuple[str, int, np.ndarray, Sequence[str] | None]],
              dim: int) -> UnitVectors:
        by_row: dict[int, dict[int, tuple[np.ndarray, Sequence[str] | None]]] = {}
        for chunk_id, idx, vector, tokens in rows:
            row = catalogue.row_of.get(chunk_id)
            if row is not None:
                by_row.setdefault(row, {})[idx] = (vector, tokens)
        counts = np.zeros(len(catalogue), dtype=np.int32)
        offsets = np.zeros(len(catalogue), dtype=np.int64)
        parts: list[np.ndarray] = []
        token_sets: list[frozenset[str] | None] = []
        total = 0
        for row in range(len(catalogue)):
            units = by_row.get(row)
            offsets[row] = total
            if not units:
                continue
            ordered = [units[i] for i in sorted(units)]
            parts.append(np.asarray([v for v, _ in ordered], dtype=np.float32))
            token_sets.extend(None if t is None else frozenset(t) for _, t in ordered)
            counts[row] = len(ordered)
            total += len(ordered)
        matrix = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return cls(matrix, offsets, counts, token_sets)

    def of(self, row: int) -> np.ndarray:
        start = int(self.offsets[row])
        return self.matrix[start : start + int(self.counts[row])]

    def tokens_of(self, row: int) -> list[frozenset[str] | None]:
        start = int(self.offsets[row])
        return self.tokens[start : start + int(self.counts[row])]


def group(
    chunks: Sequence[ScoredChunk],
    catalogue: Catalogue,
    unit_vectors: UnitVectors | None,
    chunk_vectors: np.ndarray | None = None,
    limit: int = 20,
    tokenize: Callable[[str], frozenset[str]] | None = None,
) -> list[Candidate]:
    """Candidate provisions in the order of their best chunk, at most ``limit``.

    Every chunk of a candidate's article lends its units, retrieved or not: the sentence that
    answers may sit in the part of a long article that ranked lower. A unit without a stored
    vector (an index built before units were embedded) takes its chunk's vector (``chunk_vectors``), and
    one without stored tokens is tokenized here (``tokenize``, cached by the caller).
    """
    by_key: dict[tuple[str, str, str], Candidate] = {}
    order: list[Candidate] = []
    for rank, scored in enumerate(chunks):
        record = scored.chunk
        key = (record.doc_id, record.version, record.article or record.chunk_id)
        candidate = by_key.get(key)
        if candidate is None:
            if len(order) >= limit:
                continue
            candidate = by_key[key] = Candidate(record.doc_id, record.article, [], rank)
            order.append(candidate)
        candidate.chunks.append(scored)
    for candidate in order:
        retrieved = {c.chunk.chunk_id: c for c in candidate.chunks}
        first = catalogue.row_of.get(candidate.best.chunk.chunk_id)
        rows = catalogue.article_rows(first) if first is not None and candidate.article else [first]
        for row in rows:
            if row is None:
                continue
            record = catalogue.records[row]
            scored = retrieved.get(record.chunk_id) or ScoredChunk(record, 0.0)
            units = split_units(record.text)
            vectors = unit_vectors.of(row) if unit_vectors is not None else None
            stored = unit_vectors.tokens_of(row) if unit_vectors is not None else []
            own = [stored[u.index] if u.index < len(stored) and stored[u.index] is not None
                   else (tokenize(u.text) if tokenize else frozenset()) for u in units]
            fallback = chunk_vectors[row] if chunk_vectors is not None and len(chunk_vectors) > row else None
            for unit in units:
                vector = vectors[unit.index] if vectors is not None and unit.index < len(vectors) else fallback
                context = [unit.index, *([unit.parent] if unit.parent is not None else []), *unit.children[:10]]
                tokens = frozenset().union(*(own[i] for i in context))
                candidate.units.append(CandidateUnit(scored, unit, unit_context(units, unit), vector, tokens))
    return order
