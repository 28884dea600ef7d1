"""Retrieved chunks grouped into candidate provisions, each with its quotable units and their vectors.

The reranker decides between *provisions* (an article, a section), not chunks: a long
article split into three chunks is one candidate, and the unit that answers may sit in
any of its chunks. Each unit carries the vector ingest embedded for it
(``civicrag.legal.units``), so the question is compared with the sentence that answers it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from civicrag.legal.units import Unit, split_units, unit_context
from rag.catalogue import Catalogue
from rag.types import ScoredChunk


@dataclass
class CandidateUnit:
    chunk: ScoredChunk  # the chunk the unit is quoted from
    unit: Unit
    text: str  # the unit in context (a 호 after its lead-in), as quoted and as scored
    vector: np.ndarray | None


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
    """The unit vectors of every live chunk, one matrix, addressed by catalogue row."""

    def __init__(self, matrix: np.ndarray, offsets: np.ndarray, counts: np.ndarray):
        self.matrix = matrix
        self.offsets = offsets
        self.counts = counts

    @classmethod
    def build(cls, catalogue: Catalogue, rows: Sequence[tuple[str, int, np.ndarray]], dim: int) -> UnitVectors:
        by_row: dict[int, dict[int, np.ndarray]] = {}
        for chunk_id, idx, vector in rows:
            row = catalogue.row_of.get(chunk_id)
            if row is not None:
                by_row.setdefault(row, {})[idx] = vector
        counts = np.zeros(len(catalogue), dtype=np.int32)
        offsets = np.zeros(len(catalogue), dtype=np.int64)
        parts: list[np.ndarray] = []
        total = 0
        for row in range(len(catalogue)):
            vectors = by_row.get(row)
            offsets[row] = total
            if not vectors:
                continue
            ordered = [vectors[i] for i in sorted(vectors)]
            parts.append(np.asarray(ordered, dtype=np.float32))
            counts[row] = len(ordered)
            total += len(ordered)
        matrix = np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)
        return cls(matrix, offsets, counts)

    @classmethod
    def empty(cls, size: int, dim: int) -> UnitVectors:
        return cls(np.zeros((0, dim), dtype=np.float32), np.zeros(size, dtype=np.int64), np.zeros(size, dtype=np.int32))

    def of(self, row: int) -> np.ndarray:
        start = int(self.offsets[row])
        return self.matrix[start : start + int(self.counts[row])]


def group(
    chunks: Sequence[ScoredChunk],
    catalogue: Catalogue,
    unit_vectors: UnitVectors | None,
    chunk_vectors: np.ndarray | None = None,
    limit: int = 20,
) -> list[Candidate]:
    """Candidate provisions in the order of their best chunk, at most ``limit``.

    Every chunk of a candidate's article lends its units, retrieved or not: the sentence that
    answers may sit in the part of a long article that ranked lower. A unit without a stored
    vector (an index built before units were embedded) takes its chunk's vector (``chunk_vectors``).
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
            fallback = chunk_vectors[row] if chunk_vectors is not None and len(chunk_vectors) > row else None
            for unit in units:
                vector = vectors[unit.index] if vectors is not None and unit.index < len(vectors) else fallback
                candidate.units.append(CandidateUnit(scored, unit, unit_context(units, unit), vector))
    return order
