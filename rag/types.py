"""The typed values that flow through retrieval and answering.

Plain dataclasses with no behaviour beyond small derived helpers, so each stage
(retrievers, fusion, answerers, refusal) can be tested alone with hand-made values.
Citations are always built here from chunk metadata, never from model text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from civicrag.legal.citation import formal_citation, labels_of
from civicrag.legal.references import from_json

Language = Literal["ko", "en"]
Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True)
class ChunkRecord:
    """One live chunk as the service knows it: text, metadata and the validity of its version."""

    chunk_id: str
    text: str
    metadata: Mapping[str, Any]
    valid_from: str | None = None
    valid_to: str | None = None

    @property
    def doc_id(self) -> str:
        return str(self.metadata.get("doc_id", ""))

    @property
    def article(self) -> str:
        return str(self.metadata.get("article", ""))

    @property
    def title(self) -> str:
        return str(self.metadata.get("title", ""))

    @property
    def language(self) -> str:
        return str(self.metadata.get("language", ""))

    @property
    def seq(self) -> int:
        return int(self.metadata.get("seq", 0) or 0)

    @property
    def version(self) -> str:
        return str(self.metadata.get("version", ""))

    @property
    def superseded(self) -> bool:
        return self.valid_to is not None

    def in_force(self, as_of: str) -> bool:
        """Same rule as ``VersionRow.in_force``: from valid_from (inclusive) to valid_to (exclusive)."""
        return (self.valid_from is None or self.valid_from <= as_of) and (
            self.valid_to is None or as_of < self.valid_to
        )

    @property
    def key(self) -> tuple[str, str]:
        """(doc_id, article): what a citation names."""
        return (self.doc_id, self.article)


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
class Citation:
    n: int
    doc_id: str
    title: str
    article: str
    article_title: str
    page: int | None
    effective_date: str
    source: str
    text: str
    score: float
    chunk_id: str = ""
    paragraph: str = ""  # the 항/호 or (a) label quoted, when the quote is narrower than the chunk
    quote: str = ""  # the decisive sentence(s) quoted from ``text``
    superseded: bool = False
    valid_to: str | None = None
    ocr: bool = False
    source_url: str = ""
    # The statutes and regulations the provision cites ({name, kind, article}; from ingest's chunk metadata).
    references: list[dict[str, str]] = field(default_factory=list)
    # Copy-ready form for official documents: 「…」 제6조제2항제1호 (시행 2024. 1. 1.) / D.C. Code § 2-537(a)(1).
    formal: str = ""
    department: str = ""  # 담당부서: whom staff ask about the provision
    provision_kind: str = ""  # article | supplementary | appendix | section | preamble | passage
    # The 별표/서식 the provision refers to (or, for an attachment, itself): label, title, format, url, indexed.
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_chunk(
        cls, n: int, scored: ScoredChunk, quote: str = "", paragraph: str = "", labels: Sequence[str] | None = None
    ) -> Citation:
        """``labels`` is the quoted unit's label path (``("②", "1.")``) for the formal citation; without it
        the ``paragraph`` label (one, not a range) is used."""
        meta = scored.chunk.metadata
        page = int(meta.get("page_start", 0) or 0)
        paragraph = paragraph or str(meta.get("paragraph", ""))
        return cls(
            n=n,
            doc_id=scored.chunk.doc_id,
            title=str(meta.get("title", "")),
            article=scored.chunk.article,
            article_title=str(meta.get("article_title", "")),
            page=page or None,
            effective_date=str(meta.get("effective_date", "")),
            source=str(meta.get("source", "")),
            text=scored.chunk.text,
            score=round(float(scored.score), 6),
            chunk_id=scored.chunk.chunk_id,
            paragraph=paragraph,
            quote=quote,
            superseded=scored.chunk.superseded,
            valid_to=scored.chunk.valid_to,
            ocr=bool(meta.get("ocr", False)),
            source_url=str(meta.get("source_url", "")),
            references=[r.to_dict() for r in from_json(meta.get("references"))],
            formal=formal_citation(meta, labels_of(paragraph) if labels is None else labels),
            department=str(meta.get("department", "")),
            provision_kind=str(meta.get("provision_kind", "")),
            attachments=_attachments(meta.get("attachments")),
        )


def _attachments(value: Any) -> list[dict[str, Any]]:
    """Chunk metadata keeps the attachments as a JSON string (Chroma metadata holds scalars only)."""
    if not value:
        return []
    try:
        items = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [dict(i) for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []


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
