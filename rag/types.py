"""The typed values that flow through retrieval and answering.

Plain dataclasses with no behaviour beyond small derived helpers, so each stage
(retrievers, fusion, answerers, refusal) can be tested alone with hand-made values.
Citations are always built from chunk metadata (``Citation.from_chunk``), never from model text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

# The values ingest and rag share are defined once in civicrag.legal.types; they are re-exported here
# because they are part of the rag API (answers carry Citations, retrievers return ChunkRecords).
from civicrag.legal.types import ChunkRecord as ChunkRecord
from civicrag.legal.types import Citation as Citation
from civicrag.legal.types import Language as Language

Role = Literal["user", "assistant", "system"]


@dataclass
class ScoredChunk:
    """A chunk with the score that ranked it and, for fused results, each leg's rank and raw score."""

    chunk: ChunkRecord
    score: float
    legs: dict[str, float] = field(default_factory=dict)  # leg name -> raw score (cosine, BM25, ...)
    ranks: dict[str, int] = field(default_factory=dict)  # leg name -> 1-based rank in that leg
    pinned: bool = False  # an exact reference in the query named this provision


class Retriever(Protocol):
    """Haystack-style: every leg (dense, lexical, fused) answers the same call."""

    name: str

    def retrieve(
        self, query: str, filters: Mapping[str, str] | None, as_of: str, k: int
    ) -> list[ScoredChunk]: ...


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    @classmethod
    def coerce(cls, value: Message | Mapping[str, Any]) -> Message:
        if isinstance(value, Message):
            return value
        role = str(value.get("role", "user"))
        if role not in ("user", "assistant", "system"):
            role = "user"
        return cls(role=role, content=str(value.get("content", "")))  # type: ignore[arg-type]


@dataclass
class Retrieved:
    doc_id: str
    article: str
    score: float
    chunk_id: str = ""
    title: str = ""


@dataclass
class Answerability:
    """Whether the evidence answers the question, and why (kept in the result for audit and calibration)."""

    answerable: bool
    score: float  # probability-like, 0..1
    reason: str
    features: dict[str, float] = field(default_factory=dict)


@dataclass
class Answer:
    """What an answerer produces before the service wraps it into a Result."""

    text: str
    refused: bool
    citations: list[Citation]
    related: list[Citation] = field(default_factory=list)
    reason: str = ""
    dropped: list[str] = field(default_factory=list)  # generated sentences removed for lack of support


@dataclass
class Result:
    id: str | None
    question: str
    answer: str
    refused: bool
    language: Language
    citations: list[Citation]
    retrieved: list[Retrieved]
    timings_ms: dict[str, float]
    rewritten_question: str | None = None
    as_of: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    related: list[Citation] = field(default_factory=list)
    superseded: bool = False
    answerability: Answerability | None = None
    mode: str = "extractive"
    dropped: list[str] = field(default_factory=list)
    # The jurisdiction the answer comes from, set when the best provisions spanned several and the
    # question named none (the other jurisdictions' provisions are then listed as related).
    jurisdiction: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape; required keys first, extra keys after."""
        return asdict(self)


@dataclass
class StreamEvent:
    """``retrieved`` (once), ``delta`` (answer text pieces, in order), then ``done`` with the full Result."""

    type: Literal["retrieved", "delta", "done"]
    text: str = ""
    result: Result | None = None
    retrieved: list[Retrieved] = field(default_factory=list)
